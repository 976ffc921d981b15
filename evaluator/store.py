"""The layout of a data folder, shared by the app, the submission queue and the workers.

    <data_dir>/queue.sqlite        requests and their status (SQLite: safe across processes)
    <data_dir>/results/            the default results store (see evaluator.run_store; POLYGLOT_STORE moves it)
    <data_dir>/work/<run_id>/      a worker's run in progress, published to the results store when complete
    <data_dir>/cache/<key>.sqlite  response caches, one per model revision and dtype
    <data_dir>/logs/<request>.log  the evaluation log of each request
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def resolve_data_dir(value: str | os.PathLike | None = None) -> Path:
    from .settings import setting

    raw = value or setting("data_dir")
    return Path(raw).expanduser().resolve()


class StoreLayout:
    def __init__(self, data_dir: str | os.PathLike):
        self.root = Path(data_dir)

    @property
    def queue_db(self) -> Path:
        return self.root / "queue.sqlite"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def run_dir(self, run_id: str) -> Path:
        """A plain run folder in the default results store."""
        return self.results / run_id

    def work_dir(self, run_id: str) -> Path:
        """Where a worker writes a run before publishing it (a reclaimed request resumes from here)."""
        return self.root / "work" / run_id

    def log_file(self, request_id: str) -> Path:
        return self.logs / f"{request_id}.log"

    def cache_file(self, model: str, revision: str, precision: str) -> Path:
        key = hashlib.sha256(f"{model}\0{revision}\0{precision}".encode()).hexdigest()[:24]
        return self.root / "cache" / f"{key}.sqlite"

    def ensure(self) -> "StoreLayout":
        for p in (self.root, self.results, self.logs, self.root / "cache"):
            p.mkdir(parents=True, exist_ok=True)
        return self
