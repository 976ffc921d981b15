"""Dispatch on Ray, measured on one machine: latency from queued to running, and recovery after a
killed worker and after a killed node.

    python -m evaluator.dispatch_bench [--rounds 3]      # needs ray (requirements-cluster.txt) and root

It starts a three-node Ray cluster with ``ray start`` inside a loopback-only network namespace (a
head without GPUs for the dispatcher, two nodes with one fake GPU each; the tiny model runs on
CPU), a dispatcher (``python -m evaluator.dispatch``) and an embedded queue, then:

- latency: queue a request, time until it is claimed (RUNNING) and until its task runs on a node
  (the worker recorded where), cancel it; ``--rounds`` times;
- killed worker: SIGKILL the Ray worker of a running request, time until a new attempt runs on a
  node and until it finished;
- killed node: SIGKILL every process of the node that runs a request, time until it runs on the
  other node and until it finished.

Each request must finish once with every item once. The numbers are the machine's: most of the
latency is starting a Ray worker process and importing torch and transformers in it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .local_cluster import (kill_session, loopback_only, session_pids, start_dispatcher, start_node, stop_session,
                            task_pids)
from .store import StoreLayout


def _wait(predicate, timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(interval)
    raise TimeoutError(f"{what}: not within {timeout:.0f}s")


def _queue_tiny(queue, model_dir: Path, tag: str) -> str:
    """Queue a distinct copy of the tiny model (a distinct folder hash is a distinct commit)."""
    from .cards import get_suite
    from .model import local_revision

    folder = model_dir.parent / f"{model_dir.name}-{tag}"
    shutil.copytree(model_dir, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["bench_variant"] = tag
    (folder / "config.json").write_text(json.dumps(cfg))
    suite = get_suite("smoke")
    req, _ = queue.add(model_id=str(folder), revision="local", sha=local_revision(folder), precision="float32",
                       source="local", suite=suite.id, tasks=list(suite.tasks), params=110_000)
    return req.id


def _each_item_once(data_dir: Path, rid: str) -> bool:
    import collections

    import pyarrow.parquet as pq

    from .run_store import RunStore

    store = RunStore.for_data_dir(data_dir)
    folder = store.published_folder(rid)
    if not folder:
        return False
    keys = collections.Counter()
    for path in store.local_path(folder).glob("samples-*.parquet"):
        for r in pq.read_table(path, columns=["task", "language", "item_id", "turn"]).to_pylist():
            keys[(r["task"], r["language"], r["item_id"], r["turn"])] += 1
    return bool(keys) and max(keys.values()) == 1


def _recovery(queue, data: Path, rid: str, kill) -> dict:
    """Kill the request's attempt mid-run; time until a new attempt runs on a node, and until it finished."""
    _wait(lambda: (queue.get(rid).done or 0) >= 60, 300, "progress")
    before = queue.get(rid).node
    kill(rid)
    t0 = time.monotonic()
    _wait(lambda: (lambda x: x.attempts == 2 and x.node)(queue.get(rid)), 300, "running again")
    again = time.monotonic() - t0
    _wait(lambda: queue.get(rid).status in ("FINISHED", "FAILED"), 600, "finished", 0.2)
    r = queue.get(rid)
    return {"running_again_s": round(again, 2), "finished_s": round(time.monotonic() - t0, 2), "status": r.status,
            "attempts": r.attempts, "node_changed": r.node != before, "each_item_once": _each_item_once(data, rid)}


def run(rounds: int, work: Path) -> dict:
    from workqueue import RUNNING, open_queue

    from .tiny_model import build_tiny_model

    model = build_tiny_model(work / "tiny")
    data = work / "store"
    queue = open_queue(StoreLayout(data).ensure().queue_db, lease_s=30)
    logs = work / "logs"
    logs.mkdir()
    report: dict = {}
    os.environ["RAY_AUTH_MODE"] = "disabled"  # the cluster is reachable from its namespace only
    with loopback_only() as isolated:
        if not isolated:
            raise SystemExit("the benchmark needs a loopback-only network namespace: run it as root")
        port = 47000 + os.getpid() % 1000
        address = f"127.0.0.1:{port}"
        procs = [start_node("--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--include-dashboard=false",
                            log=logs / "head.log", gpus=0)]
        try:
            for i in range(2):  # one after the other: a busy machine times out nodes started at once
                procs.append(start_node(f"--address={address}", "--node-ip-address=127.0.0.1", log=logs / f"n{i}.log"))
            dispatcher = start_dispatcher(data, address, "--lease", "10", "--chunk-size", "8", "--poll", "0.2",
                                          log=logs / "dispatch.log")
            procs.append(dispatcher)
            time.sleep(15)  # the dispatcher has connected

            claimed, placed = [], []
            for r in range(rounds):
                rid = _queue_tiny(queue, model, f"lat{r}")
                t0 = time.monotonic()
                _wait(lambda: queue.get(rid).status == RUNNING, 120, "claimed")
                claimed.append(time.monotonic() - t0)
                _wait(lambda: queue.get(rid).node, 300, "running on a node")
                placed.append(time.monotonic() - t0)
                queue.cancel(rid, "benchmark round over")
                _wait(lambda: not task_pids(rid), 60, "cancelled", 0.2)
            report["dispatch_latency"] = {
                "rounds": rounds, "queued_to_claimed_s": [round(x, 2) for x in claimed],
                "queued_to_running_on_a_node_s": [round(x, 2) for x in placed],
                "median_queued_to_running_s": round(statistics.median(placed), 2)}

            def kill_worker(rid):
                os.kill(task_pids(rid)[0], signal.SIGKILL)

            def kill_node(rid):
                pid = task_pids(rid)[0]
                kill_session(next(p for p in procs[1:3] if pid in session_pids(p.pid)))

            report["killed_worker"] = _recovery(queue, data, _queue_tiny(queue, model, "worker"), kill_worker)
            report["killed_node"] = _recovery(queue, data, _queue_tiny(queue, model, "node"), kill_node)
        finally:
            for p in reversed(procs):
                stop_session(p)
            queue.close()
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluator.dispatch_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="polyglot-dbench-") as tmp:
        report = run(args.rounds, Path(tmp))
    print(json.dumps(report, indent=2))
    ok = all(report[k]["status"] == "FINISHED" and report[k]["each_item_once"] for k in ("killed_worker", "killed_node"))
    d, w, n = report["dispatch_latency"], report["killed_worker"], report["killed_node"]
    print(f"\nqueued -> running on a node: median {d['median_queued_to_running_s']} s over {d['rounds']}; killed worker: "
          f"running again after {w['running_again_s']} s, finished after {w['finished_s']} s; killed node: running on "
          f"the other node after {n['running_again_s']} s, finished after {n['finished_s']} s; "
          + ("each finished once, every item once" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
