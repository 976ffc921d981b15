"""Helpers for the fault tests: queue a local model, run workers, copy models with distinct commits."""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from helpers import REPO
from evaluator.run_store import RunStore
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


def published_run_dir(data_dir: Path, run_id: str) -> Path:
    """The folder of a run that a worker published to the data folder's default results store."""
    store = RunStore.for_data_dir(data_dir)
    folder = store.published_folder(run_id)
    assert folder, f"run {run_id} is not published"
    return store.local_path(folder)


def copy_run(src: Path, dest: Path, run_id: str) -> Path:
    """A copy of a run folder under another run id (run.json and every row say so)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dest.mkdir(parents=True, exist_ok=True)
    for p in src.iterdir():
        if p.suffix == ".parquet":
            t = pq.read_table(p)
            t = t.set_column(t.schema.get_field_index("run_id"), "run_id", pa.array([run_id] * len(t), pa.string()))
            pq.write_table(t, dest / p.name)
        elif p.name == "run.json":
            info = json.loads(p.read_text())
            (dest / p.name).write_text(json.dumps({**info, "run_id": run_id}))
    return dest
