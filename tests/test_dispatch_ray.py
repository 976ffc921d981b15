"""Dispatch on a real Ray cluster with fake GPU resources (the tiny model runs on CPU): each request
runs once, a killed worker or dispatcher loses nothing and runs nothing twice, cancel reaches the
Ray task, and requests are sized in GPUs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from cluster import need_ray
from helpers import REPO, wait_until
from evaluator.dispatch import RayDispatcher, gpus_needed, parse_dispatch, placement_plan
from evaluator.engine import EngineOptions
from evaluator.local_cluster import loopback_only, start_dispatcher, stop_session, task_pids
from evaluator.store import StoreLayout
from faults import published_run_dir, queue_model, sample_keys, variant_of
from workqueue import CANCELLED, FAILED, FINISHED, RUNNING, open_queue

pytestmark = pytest.mark.slow  # starts a Ray cluster


def test_dispatch_settings():
    assert parse_dispatch(None) is None and parse_dispatch("local") is None
    assert parse_dispatch("ray:auto") == "auto"
    assert parse_dispatch("ray://head:10001") == "ray://head:10001"
    assert parse_dispatch("ray:10.0.0.1:6379") == "10.0.0.1:6379"
    for bad in ("slurm", "ray:", "ray"):
        with pytest.raises(ValueError, match="unknown dispatch"):
            parse_dispatch(bad)


def test_gpus_from_size_and_precision():
    assert gpus_needed(110_000, "float32", cluster_gpus=1) == 1  # at least one
    assert gpus_needed(None, "auto", cluster_gpus=8) == 1  # size unknown
    assert gpus_needed(8_000_000_000, "bfloat16", cluster_gpus=8, gpu_memory_gb=80) == 1  # 20.8 GB
    assert gpus_needed(70_000_000_000, "bfloat16", cluster_gpus=8, gpu_memory_gb=80) == 3  # 182 GB
    assert gpus_needed(70_000_000_000, "float32", cluster_gpus=8, gpu_memory_gb=80) == 5  # 364 GB
    assert gpus_needed(70_000_000_000, "bfloat16", cluster_gpus=8, override=8) == 8  # the admin decides
    assert gpus_needed(70_000_000_000, "bfloat16", cluster_gpus=0) == 0  # a CPU-only cluster
    assert placement_plan(3, 8) == ([{"GPU": 3.0, "CPU": 1.0}], "STRICT_PACK")  # one node has room
    bundles, strategy = placement_plan(3, 2)
    assert strategy == "PACK" and len(bundles) == 3 and all(b["GPU"] == 1 for b in bundles)


@pytest.fixture(scope="module")
def ray_cluster():
    """One Ray instance for the module (starting one costs 7-15 s): 2 CPUs and 1 fake GPU."""
    need_ray()
    import ray

    with loopback_only():
        ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False,
                 namespace="polyglot")  # a new instance, whatever else runs on the machine
        try:
            yield ray.get_runtime_context().gcs_address
        finally:
            ray.shutdown()


class InProcess:
    """A dispatcher running in a thread of the test, on the module's cluster."""

    def __init__(self, data_dir, lease_s=30.0, engine=None):
        self.queue = open_queue(StoreLayout(data_dir).ensure().queue_db, lease_s=lease_s)
        self.logs: list[str] = []
        self.dispatcher = RayDispatcher(self.queue, data_dir, "auto", queue_url=self.queue.url, lease_s=lease_s,
                                        device="cpu", engine=engine, log=self.logs.append).connect()
        self.thread = threading.Thread(target=self.dispatcher.run_forever, args=(0.3,), daemon=True)
        self.thread.start()

    def close(self):
        self.dispatcher.stopping.set()
        self.thread.join(30)
        self.dispatcher.shutdown()
        self.queue.close()


@pytest.fixture
def dispatcher():
    made = []

    def make(data_dir, **kw):
        d = InProcess(data_dir, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def _settled(q, rid):
    r = q.get(rid)
    return r if r.status in (FINISHED, FAILED) else None


def test_two_requests_are_dispatched_and_finished_once_each(ray_cluster, dispatcher, tmp_path, tiny_model_dir):
    data = tmp_path / "store"
    ids = [queue_model(data, variant_of(tiny_model_dir, tmp_path / f"m{i}", str(i))) for i in range(2)]
    d = dispatcher(data)
    q = d.queue
    seen_running = set()

    def both_done():
        for rid in ids:
            r = q.get(rid)
            if r.status == RUNNING and r.node:
                seen_running.add((rid, r.node, r.gpu_ids))
        return all(q.get(rid).status in (FINISHED, FAILED) for rid in ids)

    wait_until(both_done, timeout=600, interval=0.3, what="both requests evaluated")
    for rid in ids:
        r = q.get(rid)
        assert r.status == FINISHED and r.attempts == 1, (r.status, r.error)
        assert r.node and "node" in r.node and r.gpu_ids == "0"  # the one fake GPU, for each in turn
        assert r.dispatch_ref.startswith("ray-task:") and r.claimed_by.startswith("ray:")
        keys = sample_keys(published_run_dir(data, rid))
        assert keys and max(keys.values()) == 1
    assert {rid for rid, _, _ in seen_running} == set(ids)  # the Queue view showed where each ran
    assert sum("dispatched" in line for line in d.logs) == 2


@pytest.mark.slow
def test_a_sigkilled_worker_is_requeued_and_finishes_once_with_each_item_once(ray_cluster, dispatcher, tmp_path,
                                                                             tiny_model_dir):
    data = tmp_path / "store"
    rid = queue_model(data, tiny_model_dir)
    d = dispatcher(data, lease_s=6.0, engine=EngineOptions(chunk_size=8))
    q = d.queue
    wait_until(lambda: (q.get(rid).done or 0) >= 100, timeout=300, interval=0.1, what="progress before the kill")
    pids = task_pids(rid)
    assert len(pids) == 1
    killed = q.get(rid)
    os.kill(pids[0], signal.SIGKILL)
    done = wait_until(lambda: _settled(q, rid), timeout=600, interval=0.3, what="finished after the kill")
    assert done.status == FINISHED, done.error
    assert done.attempts == 2 and done.claimed_by != killed.claimed_by
    assert any("WorkerCrashedError" in line and "re-queued" in line for line in d.logs)
    keys = sample_keys(published_run_dir(data, rid))
    assert keys and max(keys.values()) == 1  # every item exactly once
    log = StoreLayout(data).log_file(rid).read_text()
    assert log.count(f"finished {rid}") == 1 and "attempt 2" in log


@pytest.mark.slow
def test_a_killed_dispatcher_restarted_loses_nothing_and_runs_nothing_twice(ray_cluster, tmp_path, tiny_model_dir):
    data = tmp_path / "store"
    rid = queue_model(data, tiny_model_dir)
    q = open_queue(StoreLayout(data).queue_db)
    log = tmp_path / "dispatch.log"
    args = ("--lease", "5", "--chunk-size", "8")
    first = start_dispatcher(data, ray_cluster, *args, log=log)
    second = None
    try:
        wait_until(lambda: (q.get(rid).done or 0) >= 60, timeout=300, interval=0.1, what="progress before the kill")
        killed = q.get(rid)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(20)
        # Ray ends the dead driver's task; nothing may run the request until its lease has run out.
        wait_until(lambda: not task_pids(rid), timeout=60, interval=0.2, what="the orphaned task ended")
        assert q.get(rid).status == RUNNING and q.get(rid).claimed_by == killed.claimed_by
        second = start_dispatcher(data, ray_cluster, *args, log=log)
        done = wait_until(lambda: _settled(q, rid), timeout=600, interval=0.3, what="finished after the restart")
    finally:
        for p in (first, second):
            if p is not None:
                stop_session(p)
        q.close()
    assert done.status == FINISHED, done.error
    assert done.attempts == 2
    keys = sample_keys(published_run_dir(data, rid))
    assert keys and max(keys.values()) == 1
    text = StoreLayout(data).log_file(rid).read_text()
    assert text.count(f"finished {rid}") == 1 and text.count("claimed ") == 2


@pytest.mark.slow
def test_admin_cancel_cancels_the_ray_task(ray_cluster, dispatcher, tmp_path, tiny_model_dir):
    data = tmp_path / "store"
    rid = queue_model(data, tiny_model_dir)
    d = dispatcher(data)
    q = d.queue
    wait_until(lambda: (q.get(rid).done or 0) > 0 and task_pids(rid), timeout=300, interval=0.1, what="running")
    out = subprocess.run([sys.executable, "-m", "submissions.admin", "--data-dir", str(data), "cancel", rid], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "cancelled" in out.stdout
    wait_until(lambda: not task_pids(rid), timeout=60, interval=0.2, what="the Ray task cancelled")
    r = q.get(rid)
    assert r.status == FAILED and r.error_kind == CANCELLED
    assert any("cancelled" in line for line in d.logs)
    wait_until(lambda: not d.dispatcher.inflight, timeout=30, interval=0.2, what="the attempt settled")


def test_a_request_larger_than_the_cluster_fails_with_the_reason(ray_cluster, dispatcher, tmp_path):
    data = tmp_path / "store"
    q = open_queue(StoreLayout(data).ensure().queue_db)
    req, _ = q.add(model_id="org/huge", revision="main", sha="a" * 40, precision="bfloat16", source="hub",
                   suite="smoke", tasks=["polyglot_mc"], params=400_000_000_000)
    d = dispatcher(data)
    r = wait_until(lambda: _settled(q, req.id), timeout=60, interval=0.2, what="refused")
    assert r.status == FAILED and "needs 13 GPUs and the cluster has 1" in r.error and r.error_kind == "evaluator"
    assert not d.dispatcher.inflight
    q.close()


@pytest.mark.slow
def test_the_app_dispatches_to_ray_and_shows_where_each_request_runs(ray_cluster, start_app, tmp_path, tiny_model_dir,
                                                                     monkeypatch):
    monkeypatch.setenv("POLYGLOT_DISPATCH", f"ray:{ray_cluster}")
    data = tmp_path / "store"
    app = start_app(data, "--allow-local-models", "--tick", "1", "--suite", "smoke", "--device", "cpu")
    assert f"dispatching evaluations to Ray at {ray_cluster}" in app.output()
    client = app.client()
    rid = client.predict(str(tiny_model_dir), "main", "float32", api_name="/submit")["request_id"]
    seen = wait_until(lambda: next((r for r in client.predict(api_name="/queue_status")
                                    if r["id"] == rid and r["node"]), None), timeout=300, interval=0.5,
                      what="running on a Ray node")
    assert "node" in seen["node"] and seen["gpu_ids"] == "0"
    q = open_queue(StoreLayout(data).queue_db)
    done = wait_until(lambda: _settled(q, rid), timeout=600, interval=0.5, what="finished")
    q.close()
    assert done.status == FINISHED and done.attempts == 1, done.error
    assert not (data / "logs" / "app-worker.log").exists()  # no local child worker ran
    wait_until(lambda: any(r["model"] == str(tiny_model_dir)
                           for r in client.predict("", "", "evaluated", api_name="/leaderboard_table")),
               timeout=60, interval=1, what="results on the leaderboard")
