"""Reading the table formats benchmarks are published in (JSON Lines, Parquet, CSV)."""

from __future__ import annotations

from pathlib import Path

from .jsonl import read_jsonl


def read_records(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    raise ValueError(f"unsupported file type: {path}")


def first_existing(folder: Path, candidates: list[str]) -> Path:
    for c in candidates:
        matches = sorted(folder.glob(c))
        if matches:
            return matches[0]
    raise FileNotFoundError(f"none of {candidates} found in {folder}")
