"""Synthetic results in the project's own result format, to measure the explorer at scale.

    python -m explorer.synthetic --out /tmp/polyglot-synthetic            # 1,000 models x 200 languages x 30 tasks
    python -m explorer.synthetic --out DIR --models 50 --languages 20 --tasks 5 --sample-models 5

Writes ``DIR/results/<run>/{run.json, scores.parquet, samples-<task>.parquet}`` exactly as the
evaluator does: per-language scores (with Wilson intervals) for every model, task and language,
per-category scores for a few tasks, and per-sample rows for the first ``--sample-models`` models.
Scores follow a simple latent model (ability, language resource tier, task difficulty, noise), so
rankings, gaps and ties look like real ones.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import fields, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from evaluator.languages import language_table
from evaluator.results import SAMPLE_SCHEMA, SCORE_SCHEMA, Score, run_json_path, samples_path, scores_path
from evaluator.scope import ALL

KINDS = ["multiple_choice", "short_answer", "translation", "instruction", "alignment"]
CATEGORIES = ["idiom", "pun", "holiday", "concept"]
TIER_PENALTY = {"high": 0.0, "mid": 0.6, "low": 1.2, "extremely low": 1.8}


def _wilson(p: np.ndarray, n: int, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def generate(out: Path, models: int = 1000, languages: int = 200, tasks: int = 30, sample_models: int = 50,
             items_per_language: int = 100, sample_items: int = 10, category_tasks: int = 3, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    table = language_table()
    codes = sorted(table)[:languages]
    tiers = np.array([TIER_PENALTY.get(table[c].tier, 1.0) for c in codes])
    task_ids = [f"synthetic_{i:02d}" for i in range(tasks)]
    kinds = [KINDS[i % len(KINDS)] for i in range(tasks)]
    difficulty = rng.normal(0, 0.7, tasks)
    lang_effect = rng.normal(0, 0.3, languages)
    created = datetime(2026, 11, 1, tzinfo=timezone.utc)
    results = out / "results"
    results.mkdir(parents=True, exist_ok=True)
    n_lang = len(codes)
    lang_col = np.tile(np.array(codes, dtype=object), tasks)
    task_col = np.repeat(np.array(task_ids, dtype=object), n_lang)
    kind_col = np.repeat(np.array(kinds, dtype=object), n_lang)
    start = time.monotonic()
    for m in range(models):
        name = f"synthetic-org/model-{m:04d}"
        run_id = f"synthetic-{m:04d}"
        ability = rng.normal(0, 1)
        multilinguality = rng.uniform(0.3, 1.2)
        logits = (ability - difficulty[:, None] - multilinguality * tiers[None, :] + lang_effect[None, :]
                  + rng.normal(0, 0.25, (tasks, n_lang)))
        p = 1 / (1 + np.exp(-logits))
        k = rng.binomial(items_per_language, p)
        value = (k / items_per_language).ravel()
        lo, hi = _wilson(value, items_per_language)
        n = len(value)
        # One model's figures: what all its rows share is a Score; what varies per row, columns.
        model_score = Score(run_id=run_id, source="evaluated", model=name, revision=f"{m:040x}", precision="bfloat16",
                            suite="synthetic", suite_version="1", task_version="1", category=ALL, metric="acc",
                            language="", value=None, primary=True, higher_is_better=True, engine_version="synthetic",
                            created_at=created, citation="")
        parts = [_score_table(model_score, task=task_col, kind=kind_col, language=lang_col, value=value,
                              n_items=np.full(n, items_per_language), ci_low=lo, ci_high=hi)]
        for t in range(min(category_tasks, tasks)):
            for c, cat in enumerate(CATEGORIES):
                pc = np.clip(p[t] + rng.normal(-0.05 * c, 0.05, n_lang), 0, 1)
                vc = rng.binomial(25, pc) / 25
                clo, chi = _wilson(vc, 25)
                parts.append(_score_table(replace(model_score, task=task_ids[t], kind=kinds[t], category=cat),
                                          language=np.array(codes, dtype=object), value=vc,
                                          n_items=np.full(n_lang, 25), ci_low=clo, ci_high=chi))
        run_dir = results / run_id
        run_dir.mkdir(exist_ok=True)
        info = {"run_id": run_id, "model": name, "revision": f"{m:040x}", "precision": "bfloat16", "dtype": "bfloat16",
                "suite": "synthetic", "suite_version": "1", "engine_version": "synthetic", "status": "finished",
                "started_at": created.isoformat(), "finished_at": created.isoformat(), "device": "synthetic",
                "tasks": {t: {"version": "1", "kind": kd, "n_items": items_per_language * n_lang, "n_truncated": 0,
                              "languages": codes} for t, kd in zip(task_ids, kinds)}}
        if m < sample_models:
            _write_samples(run_dir, name, run_id, task_ids, kinds, codes, p, sample_items, rng, created)
        run_json_path(run_dir).write_text(json.dumps(info))
        pq.write_table(pa.concat_tables(parts), scores_path(run_dir), compression="zstd")
    return {"models": models, "languages": n_lang, "tasks": tasks, "sample_models": sample_models,
            "seconds": round(time.monotonic() - start, 1), "folder": str(out)}


def _score_table(shared: Score, **columns: np.ndarray) -> pa.Table:
    """Rows of scores.parquet: ``columns`` per row, every other field as in ``shared`` (the schema is Score's)."""
    n = len(next(iter(columns.values())))
    unknown = set(columns) - {f.name for f in fields(Score)}
    if unknown:
        raise ValueError(f"not fields of a score: {', '.join(sorted(unknown))}")
    data = {}
    for f in fields(Score):
        if f.name in columns:
            data[f.name] = columns[f.name]
        else:
            v = getattr(shared, f.name)
            data[f.name] = np.full(n, json.dumps(v) if f.name == "details" else v, dtype=object)
    return pa.table(data, schema=SCORE_SCHEMA)


def _write_samples(run_dir, name, run_id, task_ids, kinds, codes, p, n_items, rng, created) -> None:
    n_lang = len(codes)
    for t, (task, kind) in enumerate(zip(task_ids, kinds)):
        n = n_lang * n_items
        lang = np.repeat(np.array(codes, dtype=object), n_items)
        item = np.tile(np.array([f"item-{i:03d}" for i in range(n_items)], dtype=object), n_lang)
        score = (rng.random(n) < np.repeat(p[t], n_items)).astype(float)
        ll = rng.normal(-8, 3, (n, 4))
        data = {
            "run_id": np.full(n, run_id, dtype=object), "model": np.full(n, name, dtype=object),
            "revision": np.full(n, "0" * 40, dtype=object), "precision": np.full(n, "bfloat16", dtype=object),
            "suite": np.full(n, "synthetic", dtype=object), "suite_version": np.full(n, "1", dtype=object),
            "task": np.full(n, task, dtype=object), "task_version": np.full(n, "1", dtype=object),
            "kind": np.full(n, kind, dtype=object), "language": lang,
            "category": np.tile(np.array(CATEGORIES, dtype=object), n // 4 + 1)[:n], "item_id": item,
            "turn": np.zeros(n, dtype=np.int32), "prompt": np.full(n, "Question: synthetic prompt text\nAnswer:", dtype=object),
            "prompt_hash": np.full(n, "0" * 16, dtype=object),
            "choices": [["a", "b", "c", "d"]] * n, "choice_loglik": list(ll), "choice_n_tokens": [[1, 1, 1, 1]] * n,
            "choice_n_chars": [[1, 1, 1, 1]] * n, "choice_n_bytes": [[1, 1, 1, 1]] * n,
            "generation": np.full(n, None, dtype=object), "gold": np.full(n, "a", dtype=object),
            "prediction": np.where(score > 0, "a", "b").astype(object), "score": score,
            "metric": np.full(n, "acc", dtype=object), "truncated": np.zeros(n, dtype=bool),
            "details": np.full(n, "{}", dtype=object), "created_at": np.full(n, created),
        }
        pq.write_table(pa.table(data, schema=SAMPLE_SCHEMA), samples_path(run_dir, task), compression="zstd")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.synthetic", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="data folder to write (results/ inside)")
    p.add_argument("--models", type=int, default=1000)
    p.add_argument("--languages", type=int, default=200)
    p.add_argument("--tasks", type=int, default=30)
    p.add_argument("--sample-models", type=int, default=50)
    p.add_argument("--sample-items", type=int, default=10, help="items per language and task with per-sample rows")
    args = p.parse_args(argv)
    print(json.dumps(generate(args.out, args.models, args.languages, args.tasks, args.sample_models,
                              sample_items=args.sample_items)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
