"""Helpers for the fault tests: queue a local model, run workers, copy models with distinct commits."""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from conftest import REPO
from evaluator.store import StoreLayout
from workqueue import Queue
from submissions.settings import Settings
from submissions.submit import Submissions


def queue_model(data_dir: Path, model_dir: Path, suite: str = "smoke", precision: str = "float32") -> str:
    layout = StoreLayout(data_dir).ensure()
    subs = Submissions(Queue(layout.queue_db), Settings(data_dir=data_dir, allow_local_models=True, suite=suite))
    res = subs.submit(str(model_dir), "main", precision)
    assert res.status == "queued", res.message
    return res.request_id


def variant_of(model_dir: Path, dest: Path, tag: str) -> Path:
    """A copy of a model whose folder hash (its local 'commit') differs."""
    shutil.copytree(model_dir, dest)
    cfg = json.loads((dest / "config.json").read_text())
    cfg["polyglot_test_variant"] = tag
    (dest / "config.json").write_text(json.dumps(cfg))
    return dest


def start_worker(data_dir: Path, *extra: str, log: Path | None = None) -> subprocess.Popen:
    out = open(log, "w") if log else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "evaluator.worker", "--data-dir", str(data_dir), "--poll", "0.2",
                             "--device", "cpu", *extra], cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def sample_keys(run_dir: Path) -> collections.Counter:
    """How often each (task, language, item, turn) appears in a run's sample rows."""
    keys = collections.Counter()
    for path in run_dir.glob("samples-*.parquet"):
        for r in pq.read_table(path, columns=["task", "language", "item_id", "turn"]).to_pylist():
            keys[(r["task"], r["language"], r["item_id"], r["turn"])] += 1
    return keys
