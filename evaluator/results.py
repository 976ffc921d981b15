"""The result files of a run, their schema, and atomic writing.

A run folder holds ``run.json`` (provenance), one ``samples-<task>.parquet`` per task (a row per
item, or per item and turn) and, written last, ``scores.parquet``. A run is complete when its
``scores.parquet`` exists; files are written to a temporary name and renamed, so a reader never
sees a half-written file and a failed write leaves earlier results untouched. Workers then publish
the folder to the results store (see evaluator.run_store).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import PolyglotError
from .run_store import RUN_JSON, SCORES, samples_name

SAMPLE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()), ("model", pa.string()), ("revision", pa.string()), ("precision", pa.string()),
        ("suite", pa.string()), ("suite_version", pa.string()), ("task", pa.string()), ("task_version", pa.string()),
        ("kind", pa.string()), ("language", pa.string()), ("category", pa.string()), ("item_id", pa.string()),
        ("turn", pa.int32()), ("prompt", pa.string()), ("prompt_hash", pa.string()),
        ("choices", pa.list_(pa.string())), ("choice_loglik", pa.list_(pa.float64())),
        ("choice_n_tokens", pa.list_(pa.int32())), ("choice_n_chars", pa.list_(pa.int32())),
        ("choice_n_bytes", pa.list_(pa.int32())), ("generation", pa.string()), ("gold", pa.string()),
        ("prediction", pa.string()), ("score", pa.float64()), ("metric", pa.string()), ("truncated", pa.bool_()),
        ("details", pa.string()), ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)

# Arrow types of the Python types a record field may have (a ``details`` dict is stored as JSON text).
_ARROW_TYPES = {"str": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(),
                "datetime": pa.timestamp("us", tz="UTC"), "dict": pa.string()}


@dataclass(frozen=True, kw_only=True)
class Score:
    """One row of scores.parquet: a figure of one model on one task, language, category and metric.

    The field list is the only description of a score: ``SCORE_SCHEMA`` is derived from it, in this order.
    A kind fills what its rows determine (language to details); the runner, an importer or the reported
    figures fill where the figure comes from (run_id, source, model, task, ...)."""

    run_id: str | None = None
    source: str | None = None  # "evaluated", "imported" or "reported"
    model: str | None = None
    revision: str | None = None
    precision: str | None = None
    suite: str | None = None
    suite_version: str | None = None
    task: str | None = None
    task_version: str | None = None
    kind: str | None = None
    language: str
    category: str  # "*" is the whole language
    metric: str
    value: float | None
    n_items: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    primary: bool = False  # the task's headline figure, the one ranked
    higher_is_better: bool = True
    engine_version: str | None = None
    created_at: datetime | None = None
    citation: str | None = None
    details: dict = field(default_factory=dict)

    def as_row(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def schema_of(record) -> pa.Schema:
    """The Parquet schema of a record dataclass: one nullable column per field, in field order."""
    return pa.schema([(f.name, _ARROW_TYPES[f.type.split("|")[0].strip()]) for f in fields(record)])


SCORE_SCHEMA = schema_of(Score)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_table(rows: list, schema: pa.Schema) -> pa.Table:
    """A table of ``schema`` from dict rows or records (a Score); a missing column is null."""
    rows = [r.as_row() if is_dataclass(r) else r for r in rows]
    columns = {}
    for col in schema:
        vals = []
        for r in rows:
            v = r.get(col.name)
            if col.name == "details" and not isinstance(v, str):
                v = json.dumps(v or {}, ensure_ascii=False, default=str)
            vals.append(_clean(v))
        columns[col.name] = pa.array(vals, type=col.type)
    return pa.table(columns, schema=schema)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)``, fsync, then rename onto ``path``; remove the temp file on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise


def write_table(path: Path, rows: list, schema: pa.Schema) -> None:
    table = to_table(rows, schema)
    write_atomic(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_json(path: Path, obj) -> None:
    text = json.dumps(obj, ensure_ascii=False, indent=2, default=str)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


class RunInfoError(PolyglotError, ValueError):
    """run.json cannot be used; the message says why."""


@dataclass(frozen=True)
class RunInfo:
    """The provenance of a run, as its run.json holds it (``raw`` keeps every field).

    The one reader of run.json for everything that shows runs: fields a run may lack read as empty
    (``{}``), and a run that names no source is an evaluated one."""

    run_id: str
    model: str | None = None
    revision: str | None = None
    precision: str | None = None
    dtype: str | None = None
    suite: str | None = None
    suite_version: str | None = None
    engine_version: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    device: str | None = None
    limit: int | None = None  # items per language and task, where the run was limited
    source: str = "evaluated"  # "evaluated", or "imported" (explorer.importer)
    tasks: dict = field(default_factory=dict)  # task -> what was run (version, kind, n_items, languages, ...)
    skipped_tasks: dict = field(default_factory=dict)  # task -> why it was left out
    numerics_guard: dict = field(default_factory=dict)  # the scoring path and its agreement check
    endpoint: dict = field(default_factory=dict)  # a served model: where, and the requests and tokens spent
    imported: dict = field(default_factory=dict)  # an imported run: harness, version, command, file
    raw: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes | str, default_run_id: str) -> "RunInfo":
        """From run.json's bytes; raises RunInfoError with the reason when they are not a run's provenance."""
        try:
            obj = json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            raise RunInfoError(f"run.json is not valid JSON ({exc})") from None
        if not isinstance(obj, dict):
            raise RunInfoError("run.json does not hold an object")
        tasks = obj.get("tasks")
        if not isinstance(tasks, dict) or not tasks:
            raise RunInfoError("run.json lists no tasks")

        def text(key):
            v = obj.get(key)
            return None if v is None else str(v)

        def mapping(key):
            v = obj.get(key)
            return v if isinstance(v, dict) else {}

        return cls(run_id=text("run_id") or default_run_id, model=text("model"), revision=text("revision"),
                   precision=text("precision"), dtype=text("dtype"), suite=text("suite"),
                   suite_version=text("suite_version"), engine_version=text("engine_version"),
                   started_at=text("started_at"), finished_at=text("finished_at"), device=text("device"),
                   limit=obj.get("limit") if isinstance(obj.get("limit"), int) else None, source=text("source") or "evaluated", tasks=tasks, skipped_tasks=mapping("skipped_tasks"),
                   numerics_guard=mapping("numerics_guard"), endpoint=mapping("endpoint"),
                   imported=mapping("imported"), raw=obj)


def samples_path(run_dir: Path, task: str) -> Path:
    return run_dir / samples_name(task)


def scores_path(run_dir: Path) -> Path:
    return run_dir / SCORES


def run_json_path(run_dir: Path) -> Path:
    return run_dir / RUN_JSON
