"""Import results of lm-evaluation-harness and lighteval as run folders with source ``imported``.

    python -m explorer.importer lm-eval PATH... [--data-dir DIR] [--store URL]
    python -m explorer.importer lighteval PATH... [--data-dir DIR] [--store URL]

PATH is a results file (``results_*.json``) or a folder searched for them; per-sample files written
beside them (lm-eval's ``samples_<task>_<date>.jsonl``, lighteval's ``details_<task>_<date>.parquet``)
are imported too. Each results file becomes one run, published through the same results store as
evaluated runs, so the explorer shows it with its samples. Its run id is derived from the content of
the files, so importing the same files again changes nothing. Every file is read and checked before
anything is published: a malformed or foreign file stops the import with one message naming the
file and the field, and each run is published whole or not at all.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from evaluator.errors import PolyglotError
from evaluator.results import (SAMPLE_SCHEMA, SCORE_SCHEMA, Score, run_json_path, samples_path, scores_path,
                               write_json, write_table)
from evaluator.run_store import AlreadyPublished, RunStore, StoreError
from evaluator.stats import Z95

SOURCE = "imported"
# Metrics harnesses report on a 0-100 scale; the project's scores are fractions.
PERCENT_METRICS = {"bleu", "chrf", "chrf++", "ter"}
DIRECTION_SUFFIX = {"into": "_eng_to_x", "from": "_x_to_eng"}


class ImportFormatError(PolyglotError, ValueError):
    """A file that is not what the importer expects; the message names the file and the field."""

    def __init__(self, path, field_name: str, reason: str):
        super().__init__(f"{path}: {field_name}: {reason}")
        self.path, self.field, self.reason = str(path), field_name, reason


@dataclass
class ImportedRun:
    """One results file, read and mapped: what its run folder will hold."""

    run_id: str
    source_file: str
    info: dict  # run.json
    scores: list[Score] = field(default_factory=list)
    samples: dict[str, list[dict]] = field(default_factory=dict)  # project task -> sample rows

    @property
    def model(self) -> str:
        return self.info["model"]


@dataclass(frozen=True)
class Outcome:
    run_id: str
    source_file: str
    status: str  # "imported" or "already imported"
    folder: str | None
    n_scores: int
    tasks: tuple[str, ...]


def content_id(prefix: str, files: list[Path]) -> str:
    """A run id from the files' names and bytes: the same files always give the same id."""
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return f"{prefix}-{h.hexdigest()[:20]}"


def number(value, path, field_name: str, allow_missing: bool = False) -> float | None:
    """A finite float from a JSON value; None for "N/A"/null where that is allowed."""
    if value is None or value == "N/A" or (isinstance(value, float) and math.isnan(value)):
        if allow_missing:
            return None
        raise ImportFormatError(path, field_name, "expected a number, found none")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ImportFormatError(path, field_name, f"expected a number, found {type(value).__name__} {value!r:.60}")
    return float(value)


def expect(obj, kind: type, path, field_name: str, required: bool = True):
    if obj is None and not required:
        return kind()
    if not isinstance(obj, kind):
        what = "missing" if obj is None else f"expected {kind.__name__}, found {type(obj).__name__}"
        raise ImportFormatError(path, field_name, what)
    return obj


def iso_date(value) -> str | None:
    """lm-eval's start date (seconds since the epoch) or an ISO string, as ISO 8601 in UTC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), timezone.utc).isoformat()
    if isinstance(value, str) and value:
        return value
    return None


def created_at(info: dict) -> datetime:
    text = info.get("finished_at") or info.get("started_at")
    try:
        dt = datetime.fromisoformat(text)
        return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return datetime.now(timezone.utc)


def score_row(run: dict, *, task: str, task_version: str, kind: str, language: str, category: str, metric: str,
              value: float, n_items, stderr: float | None, primary: bool, higher_is_better: bool,
              details: dict) -> Score:
    """A score of an imported run; a reported standard error becomes a normal 95% interval."""
    lo = hi = None
    if stderr is not None and math.isfinite(stderr):
        lo, hi = value - Z95 * stderr, value + Z95 * stderr
    return Score(run_id=run["run_id"], source=SOURCE, model=run["model"], revision=run["revision"],
                 precision=run["precision"], suite=run["suite"], suite_version=run["suite_version"], task=task,
                 task_version=task_version, kind=kind or "unknown", language=language, category=category,
                 metric=metric, value=value, n_items=n_items, ci_low=lo, ci_high=hi, primary=primary,
                 higher_is_better=higher_is_better, engine_version=run["engine_version"],
                 created_at=created_at(run), citation=run.get("citation", ""), details=details)


def add_direction_means(scores: list[Score], run: dict) -> list[Score]:
    """Translation imported direction by direction: where both directions of a language are there, their
    mean is the headline score (as the project's own translation tasks score it)."""
    by_key: dict[tuple, dict[str, Score]] = {}
    for s in scores:
        d = s.details
        if d.get("direction") and d.get("headline"):
            by_key.setdefault((s.task, s.language, s.category, d["headline"]), {})[d["direction"]] = s
    out = list(scores)
    for (task, lang, cat, metric), dirs in sorted(by_key.items()):
        if set(dirs) != {"into", "from"}:
            continue
        a, b = dirs["into"], dirs["from"]
        se = None
        if a.ci_low is not None and b.ci_low is not None:
            se = math.hypot((a.ci_high - a.ci_low) / (2 * Z95), (b.ci_high - b.ci_low) / (2 * Z95)) / 2
        n = (a.n_items or 0) + (b.n_items or 0) or None
        out.append(score_row(run, task=task, task_version=a.task_version, kind=a.kind, language=lang,
                             category=cat, metric=metric, value=(a.value + b.value) / 2, n_items=n, stderr=se,
                             primary=True, higher_is_better=a.higher_is_better,
                             details={"derived": "mean of both directions",
                                      "harness_tasks": [a.details.get("harness_task"),
                                                        b.details.get("harness_task")]}))
    return out


def check_unique(scores: list[Score], path) -> None:
    seen = {}
    for s in scores:
        key = (s.task, s.language, s.category, s.metric)
        if key in seen:
            raise ImportFormatError(path, "results", f"{seen[key]} and {s.details.get('harness_task')} both give "
                                    f"{s.metric} of {s.task} in {s.language}")
        seen[key] = s.details.get("harness_task")


def finish_scores(scores: list[Score], samples: dict[str, list[dict]], run: dict, path) -> list[Score]:
    """What every importer does once its rows are read: translation directions averaged, each score
    given once, at least one score, and each task's number of sample rows in run.json."""
    scores = add_direction_means(scores, run)
    check_unique(scores, path)
    if not scores:
        raise ImportFormatError(path, "results", "holds no task with a metric")
    for task, rows in samples.items():
        run["tasks"][task]["n_rows"] = len(rows)
    return scores


def write_run_folder(run: ImportedRun, folder: Path) -> None:
    """The run folder as the evaluator writes it: samples, run.json, and scores.parquet last."""
    now = created_at(run.info)
    for task, rows in run.samples.items():
        for r in rows:
            r.setdefault("created_at", now)
            r.setdefault("turn", 0)
        write_table(samples_path(folder, task), rows, SAMPLE_SCHEMA)
    write_json(run_json_path(folder), run.info)
    write_table(scores_path(folder), run.scores, SCORE_SCHEMA)


def publish(runs: list[ImportedRun], store: RunStore) -> list[Outcome]:
    """Publish each run (whole or not at all); runs already in the store are left as they are."""
    store.check()
    out = []
    for run in runs:
        tasks = tuple(sorted(run.info["tasks"]))
        existing = store.published_folder(run.run_id)
        if existing:
            out.append(Outcome(run.run_id, run.source_file, "already imported", existing, len(run.scores), tasks))
            continue
        with tempfile.TemporaryDirectory(prefix="polyglot-import-") as tmp:
            write_run_folder(run, Path(tmp))
            try:
                folder = store.publish(Path(tmp), run.run_id, worker="importer")
                status = "imported"
            except AlreadyPublished:  # imported meanwhile by someone else: the same files, the same run
                folder, status = store.published_folder(run.run_id), "already imported"
        out.append(Outcome(run.run_id, run.source_file, status, folder, len(run.scores), tasks))
    return out


def read_paths(harness: str, paths: list[str | Path]) -> list[ImportedRun]:
    """Every results file under ``paths``, read and checked (nothing is written)."""
    from . import import_lighteval, import_lm_eval

    reader = {"lm-eval": import_lm_eval, "lighteval": import_lighteval}.get(harness)
    if reader is None:
        raise ValueError(f"unknown harness {harness!r}: lm-eval or lighteval")
    runs: list[ImportedRun] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files = sorted(p.rglob("results_*.json"))
            if not files:
                raise ImportFormatError(p, "results_*.json", "the folder holds no results file")
        elif p.is_file():
            files = [p]
        else:
            raise ImportFormatError(p, "path", "no such file or folder")
        for f in files:
            runs.append(reader.read(f, root=p if p.is_dir() else f.parent))
    unique = {}
    for r in runs:
        unique.setdefault(r.run_id, r)  # the same file named twice
    return list(unique.values())


def import_paths(harness: str, paths: list[str | Path], store: RunStore) -> list[Outcome]:
    return publish(read_paths(harness, paths), store)


def import_uploads(harness: str, files: list[str | Path], store: RunStore) -> list[Outcome]:
    """Uploaded files (results, samples or details, each possibly in its own temporary folder) gathered
    in one folder under their own names, then imported as a folder."""
    import shutil

    with tempfile.TemporaryDirectory(prefix="polyglot-upload-") as tmp:
        for f in files:
            f = Path(f)
            shutil.copyfile(f, Path(tmp) / f.name)
        return import_paths(harness, [Path(tmp)], store)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.importer",
                                description="Import lm-evaluation-harness or lighteval results "
                                            "as runs of source 'imported'")
    p.add_argument("harness", choices=["lm-eval", "lighteval"])
    p.add_argument("paths", nargs="+", help="results_*.json files or folders holding them")
    p.add_argument("--data-dir", default=None, help="data folder (default: $POLYGLOT_DATA_DIR or ./data/store)")
    p.add_argument("--store", default=None, help="results store URL (default: $POLYGLOT_STORE or DATA_DIR/results)")
    args = p.parse_args(argv)
    from evaluator.store import resolve_data_dir

    store = RunStore.for_data_dir(resolve_data_dir(args.data_dir), args.store)
    try:
        outcomes = import_paths(args.harness, args.paths, store)
    except ImportFormatError as exc:
        print(f"not imported: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"not imported: {exc}", file=sys.stderr)
        return 1
    for o in outcomes:
        print(f"{o.status}: {o.run_id} ({o.n_scores} scores; {', '.join(o.tasks)}) from {o.source_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
