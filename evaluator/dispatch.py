"""Evaluations dispatched on a Ray cluster: each claimed request runs as one Ray task.

    python -m evaluator.dispatch --ray ray://HEAD:10001 --data-dir /shared/store --queue postgresql://...
    POLYGLOT_DISPATCH=ray:auto python app.py        # the app dispatches (on a node of the cluster)

The queue, not Ray, is the record: when a Ray driver dies its running tasks die with it, so a
request is claimed in the queue first and its lease and attempts decide what happens after a
failure. Ray's own retries are off (``max_retries=0``). The task executes the worker's code for that
one request (``evaluator.worker.evaluate_claimed``), renews the lease itself and records progress,
the node and the GPUs it was given. On each tick the dispatcher reconciles its attempts with Ray:

- a task that died (its worker process killed, its node lost) gives the request back to the queue
  at once with the reason (the attempt counts; ``MAX_ATTEMPTS`` failures fail it);
- a request that is no longer this attempt's (cancelled by an admin, reclaimed after a lost lease)
  has its task cancelled;
- a task still waiting for resources keeps its claim alive (the dispatcher renews the lease).

A dispatcher that is killed takes its running tasks down (Ray's fate sharing); their requests are
claimed again when their leases run out, by this dispatcher restarted or any other worker, and
resume from the responses already cached.

GPUs per request: the admin's override (``submissions.admin set-gpus``), else the model's
weights (parameters x bytes per parameter of its precision, plus room for activations) over the
memory of one GPU (``--gpu-memory-gb``), at least one; none on a cluster without GPUs. A request
that needs several GPUs gets a placement group: one bundle on one node when a node has that many,
else one GPU per bundle packed over as few nodes as possible.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .engine import EngineOptions
from .settings import default, setting
from .store import StoreLayout, resolve_data_dir

# Bytes per parameter of the weights; "auto" loads bf16/fp16 checkpoints as they are on a GPU.
BYTES_PER_PARAM = {"float32": 4, "bfloat16": 2, "float16": 2, "auto": 2}
# Weights are most of it; activations, the KV cache and the CUDA context need the rest.
MEMORY_OVERHEAD = 1.3


def parse_dispatch(text: str | None) -> str | None:
    """The Ray address of a POLYGLOT_DISPATCH value, or None for local dispatch.

    ``local`` (default); ``ray:auto`` (this machine is a node of the cluster); ``ray://HEAD:10001``
    (Ray Client, from outside the cluster); ``ray:HOST:6379`` (the head's GCS address)."""
    value = (text or "local").strip()
    if value == "local":
        return None
    if value.startswith("ray://"):
        return value
    if value.startswith("ray:") and value[4:]:
        return value[4:]
    raise ValueError(f"unknown dispatch {value!r}: use local, ray:auto, ray://HEAD:PORT or ray:HOST:PORT")


def gpus_needed(params: int | None, precision: str, *, cluster_gpus: float, gpu_memory_gb: float = 80.0,
                override: float | None = None) -> float:
    """GPUs an evaluation asks Ray for (see the module's docstring)."""
    if override is not None:
        return float(override)
    if cluster_gpus <= 0:
        return 0.0
    if not params:
        return 1.0
    need = params * BYTES_PER_PARAM.get(precision, 4) * MEMORY_OVERHEAD / (gpu_memory_gb * 1e9)
    return float(max(1, math.ceil(need)))


def placement_plan(gpus: float, largest_node_gpus: float) -> tuple[list[dict], str]:
    """Bundles and strategy of the placement group of a request needing more than one GPU."""
    n = math.ceil(gpus)
    if n <= largest_node_gpus:
        return [{"GPU": float(n), "CPU": 1.0}], "STRICT_PACK"
    return [{"GPU": 1.0, "CPU": 1.0}] + [{"GPU": 1.0} for _ in range(n - 1)], "PACK"


def run_attempt(queue_url: str, data_dir: str, request_id: str, claim: str, lease_s: float, device: str,
                engine: EngineOptions, store_url: str = "") -> dict:
    """The Ray task: evaluate one claimed request with the worker's code. Returns plain data only."""
    import ray

    from workqueue import Queue

    ctx = ray.get_runtime_context()
    node = f"{ray.util.get_node_ip_address()} (node {ctx.get_node_id()[:8]})"
    gpu_ids = ",".join(str(g) for g in ray.get_gpu_ids())
    with Queue(queue_url, lease_s=lease_s) as queue:
        # Where it runs is recorded first, before the slow imports: the request has started.
        if not queue.place(request_id, claim, node=node, gpu_ids=gpu_ids):
            return {"request_id": request_id, "outcome": "not ours", "node": node}
        from .hub import offline_by_user
        from .model import quiet_transformers
        from .run_store import RunStore
        from .worker import evaluate_claimed

        quiet_transformers()
        req = queue.get(request_id)
        outcome = evaluate_claimed(queue, StoreLayout(data_dir).ensure(), req, claim, device=device, lease_s=lease_s,
                                   engine=engine, echo=True, placement=(node, gpu_ids),
                                   store=RunStore.for_data_dir(data_dir, store_url or None),
                                   allow_hub=not offline_by_user())
    return {"request_id": request_id, "outcome": outcome, "node": node, "gpu_ids": gpu_ids}


@dataclass
class Attempt:
    request_id: str
    claim: str
    ref: object  # ray.ObjectRef of run_attempt
    gpus: float
    group: object | None = None  # its placement group, removed when the attempt ends
    started: bool = False  # the task runs on a node (it recorded where)
    cancelled: bool = False


class RayDispatcher:
    def __init__(self, queue, data_dir: Path, address: str, *, queue_url: str, lease_s: float = default("lease_s"),
                 device: str = "auto", gpu_memory_gb: float = 80.0, engine: EngineOptions | None = None,
                 max_in_flight: int = 64, store_url: str = "", log=None):
        self.queue, self.data_dir, self.address, self.queue_url = queue, Path(data_dir), address, queue_url
        self.lease_s, self.device, self.gpu_memory_gb = lease_s, device, gpu_memory_gb
        self.engine = engine or EngineOptions()
        self.max_in_flight = max_in_flight
        self.store_url = store_url  # results store every node publishes to ("" = $POLYGLOT_STORE or the data folder)
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.inflight: dict[str, Attempt] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._log = log or (lambda m: print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} dispatch: {m}", file=sys.stderr,
                                            flush=True))
        self._remote = None

    # -- connecting ----------------------------------------------------------------------
    def connect(self) -> "RayDispatcher":
        import ray

        if not ray.is_initialized():
            ray.init(address=self.address, namespace="polyglot", log_to_driver=False)
        self._remote = ray.remote(run_attempt)
        self._log(f"connected to Ray at {self.address} ({ray.cluster_resources().get('GPU', 0):g} GPUs) as {self.id}")
        return self

    # -- one tick ------------------------------------------------------------------------
    def tick(self) -> None:
        with self._lock:
            self.reconcile()
            if not self.stopping.is_set():
                self.dispatch()

    def reconcile(self) -> None:
        import ray

        if not self.inflight:
            return
        refs = [a.ref for a in self.inflight.values()]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)
        ready = set(ready)
        for claim, a in list(self.inflight.items()):
            if a.ref in ready:
                self._settle(a)
                continue
            r = self.queue.get(a.request_id)
            if r is None or r.status != "RUNNING" or r.claimed_by != claim:
                if not a.cancelled:
                    why = (r.error or r.status) if r is not None else "deleted"
                    ray.cancel(a.ref, force=True)
                    a.cancelled = True
                    self._log(f"{a.request_id}: no longer this attempt's ({why}); its Ray task is cancelled")
                continue
            a.started = r.node is not None
            if not a.started:  # still waiting for resources: the dispatcher keeps the claim alive
                self.queue.heartbeat(a.request_id, claim)

    def _settle(self, a: Attempt) -> None:
        import ray
        from ray.exceptions import RayError, TaskCancelledError

        try:
            result = ray.get(a.ref, timeout=30)
            self._log(f"{a.request_id}: {result.get('outcome')} on {result.get('node')}")
        except TaskCancelledError:
            self._log(f"{a.request_id}: Ray task cancelled")
        except RayError as exc:
            cause = getattr(exc, "cause", None) or exc  # a task's own exception, else Ray's
            reason = f"the cluster lost the evaluation ({type(cause).__name__}: {_first_line(cause)})"
            if self.queue.release(a.request_id, a.claim, reason):
                self._log(f"{a.request_id}: {reason}; re-queued")
        finally:
            if a.group is not None:
                ray.util.remove_placement_group(a.group)
            self.inflight.pop(a.claim, None)

    def dispatch(self) -> None:
        """Claim and start requests while every started one has found its resources."""
        import ray

        while len(self.inflight) < self.max_in_flight and all(a.started or a.cancelled for a in self.inflight.values()):
            claim = f"ray:{self.id}:{uuid.uuid4().hex[:6]}"
            req = self.queue.claim(claim)
            if req is None:
                return
            cluster_gpus = ray.cluster_resources().get("GPU", 0.0)
            gpus = gpus_needed(req.params, req.precision, cluster_gpus=cluster_gpus,
                               gpu_memory_gb=self.gpu_memory_gb, override=req.gpus)
            if gpus > cluster_gpus:
                message = (f"the evaluation needs {gpus:g} GPUs and the cluster has {cluster_gpus:g}; add nodes (or "
                           "set the request's GPUs), then re-queue it")
                self.queue.fail(req.id, claim, message, "evaluator")
                self._log(f"{req.id}: {message}")
                continue
            attempt = self._start(req, claim, gpus)
            self.inflight[claim] = attempt
            self.queue.place(req.id, claim, dispatch_ref=_handle(attempt.ref))
            self._log(f"{req.id}: dispatched with {gpus:g} GPU(s), attempt {req.attempts}")

    def _start(self, req, claim: str, gpus: float) -> Attempt:
        import ray
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        options = {"num_cpus": 1, "max_retries": 0, "retry_exceptions": False,
                   "name": f"polyglot-{req.id}-a{req.attempts}"}
        group = None
        if gpus > 1:
            largest = max((n["Resources"].get("GPU", 0) for n in ray.nodes() if n.get("Alive")), default=0)
            bundles, strategy = placement_plan(gpus, largest)
            group = placement_group(bundles, strategy=strategy, name=f"polyglot-{req.id}-a{req.attempts}")
            options.update(num_gpus=bundles[0]["GPU"], scheduling_strategy=PlacementGroupSchedulingStrategy(
                group, placement_group_bundle_index=0, placement_group_capture_child_tasks=True))
        else:
            options["num_gpus"] = gpus
        device = self.device if gpus > 0 else "cpu"
        ref = self._remote.options(**options).remote(self.queue_url, str(self.data_dir), req.id, claim, self.lease_s,
                                                     device, self.engine, self.store_url)
        return Attempt(req.id, claim, ref, gpus, group)

    # -- running -------------------------------------------------------------------------
    def run_forever(self, poll_s: float = 1.0) -> None:
        import ray

        while not self.stopping.is_set():
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - a failed tick must not stop dispatching
                self._log(f"tick failed: {type(exc).__name__}: {exc}")
            refs = [a.ref for a in self.inflight.values()]
            if refs:  # wake up when a task ends, or at the next poll
                ray.wait(refs, num_returns=1, timeout=poll_s, fetch_local=False)
            else:
                self.queue.wait_for_work(poll_s)

    def shutdown(self) -> None:
        """Stop dispatching; cancel this dispatcher's tasks and give their requests back at once."""
        import ray

        self.stopping.set()
        with self._lock:
            for a in list(self.inflight.values()):
                ray.cancel(a.ref, force=True)
                self.queue.release(a.request_id, a.claim, "the dispatcher stopped; re-queued", count_attempt=False)
                if a.group is not None:
                    ray.util.remove_placement_group(a.group)
            self.inflight.clear()


def _handle(ref) -> str:
    """The Ray task id of an attempt (its object id through Ray Client, which has no task ids)."""
    try:
        return f"ray-task:{ref.task_id().hex()}"
    except (AttributeError, NotImplementedError):
        return f"ray-object:{ref.hex()}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluator.dispatch", description="Dispatch queued evaluations on Ray")
    configured = setting("dispatch")  # "local" names no cluster: then the one this machine is a node of
    p.add_argument("--ray", default=configured if configured != "local" else "ray:auto",
                   help="ray:auto, ray://HEAD:10001 or ray:HOST:PORT (default: $POLYGLOT_DISPATCH or ray:auto)")
    p.add_argument("--data-dir", default=None, help="data folder every node reaches (default: $POLYGLOT_DATA_DIR)")
    p.add_argument("--queue", default=None, help="queue URL every node reaches (default: $POLYGLOT_QUEUE or the data "
                   "folder's SQLite file)")
    p.add_argument("--store", default=None, help="results store every node reaches (default: $POLYGLOT_STORE or "
                   "DATA_DIR/results); e.g. s3://bucket/prefix")
    p.add_argument("--lease", type=float, default=setting("lease_s"))
    p.add_argument("--device", default="auto", help="torch device inside each task (auto: the GPUs Ray gave it)")
    p.add_argument("--gpu-memory-gb", type=float, default=setting("gpu_memory_gb"),
                   help="memory of one GPU of the cluster, to size requests")
    p.add_argument("--poll", type=float, default=1.0, help="seconds between reconciliations")
    p.add_argument("--max-in-flight", type=int, default=64)
    p.add_argument("--path", choices=["auto", "packed", "plain"], default="auto")
    p.add_argument("--chunk-size", type=int, default=None)
    p.add_argument("--generation-backend", choices=["hf", "vllm"], default="hf")
    args = p.parse_args(argv)
    from workqueue import open_queue

    data_dir = resolve_data_dir(args.data_dir)
    layout = StoreLayout(data_dir).ensure()
    address = parse_dispatch(args.ray)
    if address is None:
        p.error("--ray must name a Ray cluster (local dispatch is the app's own)")
    with open_queue(layout.queue_db, lease_s=args.lease, url=args.queue) as queue:
        dispatcher = RayDispatcher(queue, data_dir, address, queue_url=queue.url, lease_s=args.lease, device=args.device,
                                   gpu_memory_gb=args.gpu_memory_gb, max_in_flight=args.max_in_flight,
                                   store_url=args.store or "",
                                   engine=EngineOptions(path=args.path, chunk_size=args.chunk_size,
                                                        generation_backend=args.generation_backend)).connect()
        signal.signal(signal.SIGTERM, lambda *_: dispatcher.stopping.set())
        try:
            dispatcher.run_forever(args.poll)
        except KeyboardInterrupt:
            pass
        finally:
            dispatcher.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
