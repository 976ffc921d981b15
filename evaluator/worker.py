"""The evaluation worker: claim a queued request, evaluate it, record the outcome.

Runs inside the app (one request per scheduler tick, in a child process), on its own, e.g. on a
GPU machine sharing the data folder, or as a Ray task started by ``evaluator.dispatch``:

    python -m evaluator.worker --data-dir ./data/store [--queue postgresql://...] [--store s3://bucket/prefix]

Each run is written to a local folder, then published to the results store (evaluator.run_store):
a run becomes visible only once complete, and a duplicate publish never replaces a finished run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path

from .endpoint import EndpointOptions
from .engine import EngineOptions, JobCancelled
from .failures import classify_failure
from .hub import offline_by_user
from .model import quiet_transformers
from .run_store import AlreadyPublished, RunStore, StoreError
from .runner import RunRequest, run_evaluation
from .settings import default, setting
from .store import StoreLayout, resolve_data_dir


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:4]}"


class _Log:
    def __init__(self, path: Path | None, echo: bool):
        self.path, self.echo = path, echo

    def __call__(self, message: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}"
        if self.echo:
            print(line, file=sys.stderr, flush=True)
        if self.path:
            try:
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
            except OSError:
                pass


def local_placement(device: str) -> tuple[str, str]:
    """(node, GPUs) of a worker running on this machine, for the Queue view."""
    import torch

    if device == "cpu" or (device == "auto" and not torch.cuda.is_available()):
        return socket.gethostname(), ""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return socket.gethostname(), visible if visible is not None else ",".join(map(str, range(torch.cuda.device_count())))


def process_one(data_dir: Path, worker_id: str, *, device: str = "auto", lease_s: float = default("lease_s"),
                engine: EngineOptions | None = None, echo: bool = True, queue=None,
                store: RunStore | None = None, allow_hub: bool = True) -> str | None:
    """Claim and evaluate one request, publish its run. Returns its id, or None when the queue had nothing."""
    from workqueue import open_queue

    layout = StoreLayout(data_dir).ensure()
    own = queue is None
    queue = queue or open_queue(layout.queue_db, lease_s=lease_s)
    try:
        req = queue.claim(worker_id)
        if req is None:
            return None
        evaluate_claimed(queue, layout, req, worker_id, device=device, lease_s=lease_s, engine=engine, echo=echo,
                         placement=local_placement(device), store=store, allow_hub=allow_hub)
        return req.id
    finally:
        if own:
            queue.close()


def evaluate_claimed(queue, layout: StoreLayout, req, worker_id: str, *, device: str = "auto", lease_s: float = default("lease_s"),
                     engine: EngineOptions | None = None, echo: bool = True,
                     placement: tuple[str, str] | None = None, store: RunStore | None = None,
                     allow_hub: bool = True) -> str:
    """Evaluate a request this worker holds the claim of, renewing its lease, and record the outcome.

    The same code runs in a local worker and in a cluster task. Returns "finished", "failed",
    "stopped" (the claim was lost or the request cancelled) or "superseded" (finished, but another
    worker held the claim by then). Without ``allow_hub`` task data and models come from local copies only."""
    log = _Log(layout.log_file(req.id), echo)
    where = f" on {placement[0]} (GPUs {placement[1] or 'none'})" if placement else ""
    log(f"claimed {req.id}: {req.model_id}@{req.sha[:12]} ({req.precision}) attempt {req.attempts} by {worker_id}{where}")
    if placement:
        queue.place(req.id, worker_id, node=placement[0], gpu_ids=placement[1])
    try:
        store = store or RunStore.for_data_dir(layout.root)
        store.check()  # before the evaluation: an unreachable store fails the request at once
    except StoreError as exc:
        log(f"FAILED (evaluator): {exc}")
        queue.fail(req.id, worker_id, str(exc), "evaluator")
        return "failed"
    state = {"done": 0, "total": 0, "eta": None, "lost": False, "last": 0.0}
    stop = threading.Event()

    def beat():
        while not stop.wait(lease_s / 4):
            if not queue.heartbeat(req.id, worker_id, state["done"], state["total"], state["eta"]):
                state["lost"] = True
                return

    def listener(p):
        state.update(done=p.done, total=p.total, eta=p.eta_seconds)
        if state["lost"]:
            raise JobCancelled("the lease of this request was lost (re-queued elsewhere, or cancelled)")
        now = time.monotonic()
        if now - state["last"] > 1.0 or p.done == p.total:
            state["last"] = now
            if not queue.heartbeat(req.id, worker_id, p.done, p.total, p.eta_seconds):
                state["lost"] = True
                raise JobCancelled("the lease of this request was lost (re-queued elsewhere, or cancelled)")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    run_dir = layout.work_dir(req.id)
    try:
        info = run_evaluation(
            RunRequest(
                model=req.model_id,
                revision=req.sha if req.source == "hub" else None,
                endpoint=EndpointOptions(served_model=req.revision, api_key_env=req.api_key_env or "")
                if req.source == "endpoint" else None,
                tasks=req.tasks,
                suite=req.suite,
                output=run_dir,
                precision=req.precision,
                device=device,
                cache_path=layout.cache_file(req.model_id, req.sha, req.precision),
                engine=engine or EngineOptions(),
                run_id=req.id,
                skip_unavailable=True,
                allow_hub=allow_hub,
            ),
            listener,
            log=log,
        )
        _publish(store, run_dir, info["run_id"], worker_id, log)
    except JobCancelled as exc:
        log(f"stopped: {exc}")
        return "stopped"
    except BaseException as exc:  # noqa: BLE001 - every failure is recorded with its reason
        failure = classify_failure(exc)
        log(f"FAILED ({failure.kind}): {failure.message}\n{traceback.format_exc()}")
        queue.fail(req.id, worker_id, failure.message, failure.kind)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return "failed"
    finally:
        stop.set()
    shutil.rmtree(run_dir, ignore_errors=True)  # the store holds the run now
    if queue.finish(req.id, worker_id, info["run_id"]):
        log(f"finished {req.id} in {info['seconds']:.1f}s")
        return "finished"
    log(f"finished {req.id}, but its lease had passed to another worker")
    return "superseded"


def _publish(store: RunStore, run_dir: Path, run_id: str, worker_id: str, log) -> None:
    """Publish the finished run. An earlier publish of the same run (a retry, or another worker that
    took over the request) is kept as it is. A StoreError propagates: the request fails with its
    reason and the local folder stays, so that a retry resumes from it."""
    try:
        folder = store.publish(run_dir, run_id, worker=worker_id)
    except AlreadyPublished as exc:
        log(f"not published: {exc}; the published run is kept")
        return
    log(f"published {run_id} to {store.url} ({folder})")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluator.worker", description="Evaluate queued requests")
    p.add_argument("--data-dir", default=None, help="data folder shared with the app (default: $POLYGLOT_DATA_DIR or ./data/store)")
    p.add_argument("--once", action="store_true", help="process at most one request, then exit")
    p.add_argument("--queue", default=None, help="queue URL (default: $POLYGLOT_QUEUE or the data folder's SQLite "
                   "file); postgresql://... to share one queue across machines")
    p.add_argument("--poll", type=float, default=5.0, help="seconds between looks at an empty queue (a PostgreSQL "
                   "queue also wakes the worker at once when a request arrives)")
    p.add_argument("--store", default=None,
                   help="results store: a folder URL or any fsspec URL, e.g. s3://bucket/prefix "
                        "(default: $POLYGLOT_STORE or DATA_DIR/results)")
    p.add_argument("--lease", type=float, default=setting("lease_s"),
                   help="seconds a claim stays valid without a heartbeat")
    p.add_argument("--device", default="auto")
    p.add_argument("--offline", action="store_true",
                   help="never contact the Hub (also when HF_HUB_OFFLINE=1 switches huggingface_hub off)")
    p.add_argument("--worker-id", default=None)
    p.add_argument("--token-budget", type=int, default=None)
    p.add_argument("--path", choices=["auto", "packed", "plain"], default="auto")
    p.add_argument("--chunk-size", type=int, default=None, help="requests between cache commits and heartbeats")
    p.add_argument("--generation-backend", choices=["hf", "vllm"], default="hf")
    args = p.parse_args(argv)
    quiet_transformers()
    data_dir = resolve_data_dir(args.data_dir)
    worker_id = args.worker_id or default_worker_id()
    options = EngineOptions(path=args.path, token_budget=args.token_budget, chunk_size=args.chunk_size,
                            generation_backend=args.generation_backend)
    from workqueue import open_queue

    queue = open_queue(StoreLayout(data_dir).ensure().queue_db, lease_s=args.lease, url=args.queue)
    store = RunStore.for_data_dir(data_dir, args.store)
    allow_hub = not (args.offline or offline_by_user())
    try:
        while True:
            got = process_one(data_dir, worker_id, device=args.device, lease_s=args.lease, engine=options, queue=queue,
                              store=store, allow_hub=allow_hub)
            if args.once:
                return 0
            if got is None:
                queue.wait_for_work(args.poll)
    finally:
        queue.close()


if __name__ == "__main__":
    sys.exit(main())
