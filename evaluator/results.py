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
from dataclasses import dataclass, field
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

SCORE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()), ("source", pa.string()), ("model", pa.string()), ("revision", pa.string()),
        ("precision", pa.string()), ("suite", pa.string()), ("suite_version", pa.string()), ("task", pa.string()),
        ("task_version", pa.string()), ("kind", pa.string()), ("language", pa.string()), ("category", pa.string()),
        ("metric", pa.string()), ("value", pa.float64()), ("n_items", pa.int64()), ("ci_low", pa.float64()),
        ("ci_high", pa.float64()), ("primary", pa.bool_()), ("higher_is_better", pa.bool_()),
        ("engine_version", pa.string()), ("created_at", pa.timestamp("us", tz="UTC")), ("citation", pa.string()),
        ("details", pa.string()),
    ]
)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
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


def write_table(path: Path, rows: list[dict], schema: pa.Schema) -> None:
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
    """The provenance of a run, as its run.json holds it (``raw`` keeps every field)."""

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
    tasks: dict = field(default_factory=dict)
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

        return cls(run_id=text("run_id") or default_run_id, model=text("model"), revision=text("revision"),
                   precision=text("precision"), dtype=text("dtype"), suite=text("suite"),
                   suite_version=text("suite_version"), engine_version=text("engine_version"),
                   started_at=text("started_at"), finished_at=text("finished_at"), device=text("device"),
                   tasks=tasks, raw=obj)


def samples_path(run_dir: Path, task: str) -> Path:
    return run_dir / samples_name(task)


def scores_path(run_dir: Path) -> Path:
    return run_dir / SCORES


def run_json_path(run_dir: Path) -> Path:
    return run_dir / RUN_JSON
