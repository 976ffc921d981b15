"""A two-node Ray cluster on one machine (``ray start`` twice, loopback only): when the node running
a request is killed, the request finishes on the other node, once, with each item once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from cluster import need_ray
from helpers import REPO, free_port, wait_until
from evaluator.local_cluster import (kill_session, loopback_only, session_pids, start_dispatcher, start_node,
                                     stop_session, task_pids)
from evaluator.store import StoreLayout
from faults import published_run_dir, queue_model, sample_keys, variant_of
from workqueue import FAILED, FINISHED, RUNNING, open_queue

pytestmark = pytest.mark.slow  # starts a Ray cluster


def _nodes_alive(address: str) -> int:
    code = (f"import ray; ray.init(address='{address}', log_to_driver=False); "
            "print(sum(1 for n in ray.nodes() if n['Alive']))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    return int(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 and out.stdout.strip() else 0


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    need_ray()
    logs = tmp_path_factory.mktemp("ray-nodes")
    # The cluster is reachable from this namespace only: no token to distribute between its processes.
    saved = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    try:
        with loopback_only() as isolated:
            if not isolated:
                pytest.skip("a two-node cluster on one machine needs a loopback-only network namespace (run as root)")
            port = free_port()
            address = f"127.0.0.1:{port}"
            head = start_node("--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--include-dashboard=false",
                              log=logs / "head.log")
            nodes = [head]
            try:
                other = start_node(f"--address={address}", "--node-ip-address=127.0.0.1", log=logs / "node.log")
                nodes.append(other)
                assert wait_until(lambda: _nodes_alive(address) == 2, timeout=120, interval=1, what="two nodes alive")
                yield address, head, other
            finally:
                for proc in reversed(nodes):
                    stop_session(proc)
    finally:
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved


def test_a_killed_nodes_request_finishes_on_the_other_node(two_nodes, tmp_path, tiny_model_dir):
    address, head, other = two_nodes
    data = tmp_path / "store"
    ids = [queue_model(data, variant_of(tiny_model_dir, tmp_path / f"m{i}", str(i))) for i in range(2)]
    q = open_queue(StoreLayout(data).queue_db)
    log = tmp_path / "dispatch.log"
    dispatcher = start_dispatcher(data, address, "--lease", "20", "--chunk-size", "8", log=log)
    try:
        # One GPU per node: the two requests run side by side, one on each node.
        running = wait_until(lambda: (lambda rs: rs if all(r.status == RUNNING and r.node and r.done > 0 for r in rs)
                                      else None)([q.get(i) for i in ids]),
                             timeout=300, interval=0.2, what="both requests running")
        assert running[0].node != running[1].node
        node_of_other = _node_of_session(other, running)
        victim = next(r for r in running if r.node == node_of_other)
        kill_session(other)
        killed_at = time.monotonic()
        done = wait_until(lambda: all(q.get(i).status in (FINISHED, FAILED) for i in ids) and [q.get(i) for i in ids],
                          timeout=900, interval=0.5, what="both finished")
        recovered_s = time.monotonic() - killed_at
    finally:
        stop_session(dispatcher)
        q.close()
    for r in done:
        assert r.status == FINISHED, (r.id, r.error)
        keys = sample_keys(published_run_dir(data, r.id))
        assert keys and max(keys.values()) == 1
    moved = next(r for r in done if r.id == victim.id)
    assert moved.attempts == 2 and moved.node != victim.node  # finished on the surviving node
    assert next(r for r in done if r.id != victim.id).attempts == 1
    assert "re-queued" in log.read_text()
    print(f"killed node's request finished on the other node {recovered_s:.1f}s after the kill")


def _node_of_session(node_proc, running) -> str:
    """The ``node`` text of the request whose Ray worker belongs to ``node_proc``'s session."""
    mine = set(session_pids(node_proc.pid))
    for r in running:
        if any(pid in mine for pid in task_pids(r.id)):
            return r.node
    raise AssertionError("no request runs on the second node")
