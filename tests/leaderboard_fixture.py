"""Evaluated runs in the evaluator's result format, for leaderboard tests: one model that ran the whole
starter suite, and one whose run skipped three of its five tasks (data unavailable)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

from evaluator.results import SCORE_SCHEMA, write_table

STARTER = ["polyglot_mc", "polyglot_qa", "polyglot_translate", "polyglot_instruct", "polyglot_alignment"]
LANGUAGES = ["eng_Latn", "fra_Latn", "deu_Latn"]
N = 100
FULL_MODEL = "org/full-suite-model"
PARTIAL_MODEL = "org/partial-model"
SKIP_REASON = "the data of this task cannot be obtained here (offline)"


def _wilson(p: float, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    a = p + z * z / (2 * n)
    b = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (a - b) / (1 + z * z / n), (a + b) / (1 + z * z / n)


def write_run(results: Path, model: str, scores: dict[str, dict[str, float]], skipped: dict[str, str] | None = None,
              source: str = "evaluated") -> Path:
    """One run folder (scores.parquet + run.json) with headline scores per task and language."""
    run_id = model.split("/")[-1]
    run = results / run_id
    created = datetime(2026, 11, 1, tzinfo=UTC)
    rows = []
    for task, langs in scores.items():
        for lang, p in langs.items():
            lo, hi = _wilson(p, N)
            rows.append({"run_id": run_id, "source": source, "model": model, "revision": "r1", "precision": "float32",
                         "suite": "starter", "suite_version": "2", "task": task, "task_version": "1",
                         "kind": "multiple_choice", "language": lang, "category": "*", "metric": "acc", "value": p,
                         "n_items": N, "ci_low": lo, "ci_high": hi, "primary": True, "higher_is_better": True,
                         "engine_version": "1", "created_at": created, "citation": "", "details": {}})
    write_table(run / "scores.parquet", rows, SCORE_SCHEMA)
    tasks = {t: {"version": "1", "kind": "multiple_choice", "n_items": N * len(ls), "languages": sorted(ls)}
             for t, ls in scores.items()}
    (run / "run.json").write_text(json.dumps({
        "run_id": run_id, "model": model, "revision": "r1", "precision": "float32", "suite": "starter",
        "suite_version": "2", "tasks": tasks, "skipped_tasks": skipped or {}, "finished_at": created.isoformat()}))
    return run


def write_starter_runs(data_dir: Path) -> Path:
    """The two evaluated models under ``data_dir/results``."""
    results = data_dir / "results"
    write_run(results, FULL_MODEL, {t: {lang: 0.55 + 0.05 * i for i, lang in enumerate(LANGUAGES)} for t in STARTER})
    write_run(results, PARTIAL_MODEL, {t: {lang: 0.9 for lang in LANGUAGES} for t in STARTER[:2]},
              skipped={t: SKIP_REASON for t in STARTER[2:]})
    return results


def queue_finished_partial_run(data_dir: Path) -> str:
    """A FINISHED request in the data folder's queue whose run is the partial model's."""
    from evaluator.store import StoreLayout
    from workqueue import open_queue

    queue = open_queue(StoreLayout(data_dir).queue_db)
    try:
        req, _ = queue.add(model_id=PARTIAL_MODEL, revision="main", sha="r1" * 20, precision="float32", source="hub",
                           suite="starter", tasks=STARTER)
        claimed = queue.claim("fixture")
        queue.finish(claimed.id, "fixture", PARTIAL_MODEL.split("/")[-1])
        return req.id
    finally:
        queue.close()
