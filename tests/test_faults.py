"""Faults injected on purpose: killed workers, crashed app, full or read-only disks, bad models."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from helpers import REPO, wait_until
from evaluator.store import StoreLayout
from evaluator.worker import process_one
from faults import published_run_dir, queue_model, sample_keys, start_worker, variant_of
from workqueue import FAILED, FINISHED, PENDING, RUNNING, Queue


def _queue(data_dir):
    return Queue(StoreLayout(data_dir).queue_db)


@pytest.mark.slow
def test_sigkilled_worker_is_reclaimed_and_resumes_with_each_item_once(tmp_path, tiny_model_dir):
    data = tmp_path / "store"
    rid = queue_model(data, tiny_model_dir)
    q = _queue(data)
    first = start_worker(data, "--lease", "3", "--chunk-size", "8", "--once")
    wait_until(lambda: (q.get(rid).done or 0) >= 100, timeout=240, interval=0.1, what="progress before the kill")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed_at = q.get(rid)
    assert killed_at.status == RUNNING and 0 < killed_at.done < killed_at.total
    second = start_worker(data, "--lease", "3", "--chunk-size", "8", log=tmp_path / "second.log")
    try:
        done = wait_until(lambda: q.get(rid) if q.get(rid).status in (FINISHED, FAILED) else None, timeout=600,
                          interval=0.5, what="finished after reclaim")
    finally:
        second.terminate()
        second.wait(20)
    assert done.status == FINISHED, done.error
    assert done.attempts == 2 and done.claimed_by != killed_at.claimed_by
    run_dir = published_run_dir(data, rid)
    keys = sample_keys(run_dir)
    assert keys and max(keys.values()) == 1  # every item exactly once
    info = json.loads((run_dir / "run.json").read_text())
    stats = info["engine_stats"]
    # Resumed from what the killed worker had written: whole tasks' rows, then cached responses.
    assert stats["reused_items"] + stats["cache_hits"] >= killed_at.done - 8 - 40


@pytest.mark.slow
def test_crashed_app_restarts_with_queue_and_results_intact(tmp_path, tiny_model_dir, start_app):
    data = tmp_path / "store"
    app = start_app(data, "--allow-local-models", "--tick", "0.5", "--lease", "3", "--suite", "smoke")
    client = app.client()
    rid = client.predict(str(tiny_model_dir), "main", "float32", api_name="/submit")["request_id"]
    q = _queue(data)
    wait_until(lambda: (q.get(rid).done or 0) > 0, timeout=120, interval=0.2, what="evaluation under way")
    app.crash()  # the app and its in-app worker die mid-run
    assert q.get(rid).status == RUNNING
    again = start_app(data, "--allow-local-models", "--tick", "0.5", "--lease", "3", "--suite", "smoke")
    c2 = again.client()
    statuses = {r["id"]: r for r in c2.predict(api_name="/queue_status")}
    assert statuses[rid]["status"] in (RUNNING, PENDING, FINISHED)  # the Queue tab shows what the store holds
    done = wait_until(lambda: q.get(rid) if q.get(rid).status in (FINISHED, FAILED) else None, timeout=600,
                      interval=0.5, what="finished after the restart")
    assert done.status == FINISHED, done.error
    assert max(sample_keys(published_run_dir(data, rid)).values()) == 1
    wait_until(lambda: any(r["model"] == str(tiny_model_dir) for r in c2.predict("", "", "evaluated", api_name="/leaderboard_table")),
               timeout=30, what="results on the leaderboard")


@pytest.mark.slow
def test_two_workers_and_the_app_run_each_request_once(tmp_path, tiny_model_dir, start_app):
    data = tmp_path / "store"
    models = [variant_of(tiny_model_dir, tmp_path / f"m{i}", str(i)) for i in range(3)]
    app = start_app(data, "--allow-local-models", "--no-worker", "--tick", "0.5", "--suite", "smoke")
    client = app.client()
    ids = [client.predict(str(m), "main", "float32", api_name="/submit")["request_id"] for m in models]
    assert len(set(ids)) == 3 and all(ids)
    logs = [tmp_path / f"w{i}.log" for i in range(2)]
    workers = [start_worker(data, "--lease", "30", log=logs[i]) for i in range(2)]
    q = _queue(data)
    try:
        wait_until(lambda: all(q.get(i).status in (FINISHED, FAILED) for i in ids), timeout=900, interval=1,
                   what="all three finished")
    finally:
        for w in workers:
            w.terminate()
            w.wait(20)
    for i in ids:
        r = q.get(i)
        assert r.status == FINISHED and r.attempts == 1, (r.status, r.error)
    worker_pids = {str(w.pid) for w in workers}
    assert all(q.get(i).claimed_by.split(":")[1] in worker_pids for i in ids)  # the separate workers ran them
    text = "".join(l.read_text() for l in logs) + app.output()
    assert "Conflicting lock" not in text and "database is locked" not in text
    # results reach the leaderboard at the app's next scheduler tick
    wait_until(lambda: {r["model"] for r in client.predict("", "", "evaluated", api_name="/leaderboard_table")}
               >= {str(m) for m in models}, timeout=30, interval=0.5, what="all three on the leaderboard")


@pytest.mark.slow
@pytest.mark.parametrize("err,needle", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "not writable")])
def test_full_or_read_only_disk_fails_the_job_and_leaves_earlier_results(tmp_path, tiny_model_dir, monkeypatch, err, needle):
    data = tmp_path / "store"
    layout = StoreLayout(data).ensure()
    earlier = layout.run_dir("earlier")
    earlier.mkdir(parents=True)
    (earlier / "scores.parquet").write_bytes(b"previous results")
    rid = queue_model(data, tiny_model_dir)
    import evaluator.results as results

    real = results.pq.write_table

    def failing_write(table, where, **kw):
        if str(where).endswith(".tmp") and "scores" in str(where):
            with open(where, "wb") as f:
                f.write(b"PAR1 half a file")  # a partial write, then the disk gives up
            raise OSError(err, os.strerror(err), str(where))
        return real(table, where, **kw)

    monkeypatch.setattr(results.pq, "write_table", failing_write)
    process_one(data, "w-test", device="cpu", echo=False)
    r = _queue(data).get(rid)
    assert r.status == FAILED and needle in r.error and r.error_kind == "evaluator"
    work = layout.work_dir(rid)
    assert not (work / "scores.parquet").exists()  # no partial file is taken for a result
    assert not list(work.glob(".*.tmp"))
    assert not layout.run_dir(rid).exists()  # nothing published
    assert (earlier / "scores.parquet").read_bytes() == b"previous results"


@pytest.mark.slow
def test_nan_model_fails_with_reason_and_the_next_request_runs(tmp_path, tiny_model_dir):
    from safetensors.torch import load_file, save_file

    nan_dir = variant_of(tiny_model_dir, tmp_path / "nan-model", "nan")
    weights = load_file(nan_dir / "model.safetensors")
    weights = {k: torch.full_like(v, float("nan")) if "layers.0.mlp" in k else v for k, v in weights.items()}
    save_file(weights, nan_dir / "model.safetensors", metadata={"format": "pt"})
    data = tmp_path / "store"
    bad = queue_model(data, nan_dir)
    good = queue_model(data, tiny_model_dir)
    process_one(data, "w", device="cpu", echo=False)
    process_one(data, "w", device="cpu", echo=False)
    q = _queue(data)
    assert q.get(bad).status == FAILED and "NaN" in q.get(bad).error and q.get(bad).error_kind == "model"
    assert q.get(good).status == FINISHED


@pytest.mark.slow
def test_out_of_memory_backs_off_then_gives_up_with_a_reason(tmp_path, tiny_model_dir, monkeypatch):
    import evaluator.engine as engine

    data = tmp_path / "store"
    recovers = queue_model(data, tiny_model_dir)
    real_packed = engine.score_packed

    def oom_on_big_batches(model, groups, budget, *a, **kw):
        original_step = budget.run

        def run(lengths, step, on_batch):
            def guarded(batch):
                if len(batch) > 2:
                    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
                return step(batch)
            return original_step(lengths, guarded, on_batch)

        budget.run = run
        try:
            return real_packed(model, groups, budget, *a, **kw)
        finally:
            del budget.run

    monkeypatch.setattr(engine, "score_packed", oom_on_big_batches)
    process_one(data, "w", device="cpu", echo=False)
    q = _queue(data)
    assert q.get(recovers).status == FINISHED
    info = json.loads((published_run_dir(data, recovers) / "run.json").read_text())
    assert info["engine_stats"]["oom_backoffs"] >= 1

    def always_oom(*a, **kw):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(engine, "score_packed", always_oom)
    monkeypatch.setattr(engine, "score_plain", always_oom)
    gives_up = queue_model(data, variant_of(tiny_model_dir, tmp_path / "other", "x"))
    process_one(data, "w", device="cpu", echo=False)
    r = q.get(gives_up)
    assert r.status == FAILED and "out of device memory" in r.error


@pytest.mark.slow
def test_admin_requeues_evaluator_failures_in_one_command(tmp_path):
    data = tmp_path / "store"
    q = Queue(StoreLayout(data).ensure().queue_db)
    ids = []
    for name, kind in (("org/a", "evaluator"), ("org/b", "evaluator"), ("org/c", "model")):
        req, _ = q.add(model_id=name, revision="main", sha="a" * 40, precision="auto", source="hub",
                       suite="starter", tasks=["polyglot_mc"])
        q.claim("w")
        q.fail(req.id, "w", "boom", kind)
        ids.append(req.id)

    def admin(*args):
        return subprocess.run([sys.executable, "-m", "submissions.admin", "--data-dir", str(data), *args], cwd=REPO,
                              capture_output=True, text=True, timeout=60)

    out = admin("requeue-failed")
    assert out.returncode == 0 and "re-queued 2" in out.stdout
    assert [q.get(i).status for i in ids] == [PENDING, PENDING, FAILED]
    assert admin("requeue", ids[2]).returncode == 0 and q.get(ids[2]).status == PENDING
    assert "org/a" in admin("list").stdout
    assert admin("requeue", "nope").returncode == 1


def test_slow_hub_answers_within_the_time_limit_and_queues_nothing(tmp_path):
    import socket
    import threading

    from submissions.settings import Settings
    from submissions.submit import Submissions
    from submissions.validate import HubClient

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(50)
    held = []
    threading.Thread(target=lambda: [held.append(server.accept()) for _ in range(50)], daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"
    q = Queue(tmp_path / "q.sqlite")
    subs = Submissions(q, Settings(data_dir=tmp_path), hub_client_factory=lambda: HubClient(endpoint=endpoint, timeout=4))
    start = time.monotonic()
    res = subs.submit("org/model", "main", "auto")
    assert time.monotonic() - start < 10
    assert res.status == "rejected" and "cannot be reached" in res.message
    assert q.list() == []
    server.close()
