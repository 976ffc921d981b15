"""The results store on a local folder: write-once publishing, what readers see, the explorer's loading."""

from __future__ import annotations

import json
import os
import threading

import pytest

from evaluator.run_store import MARKER, AlreadyPublished, RunStore, StoreError
from explorer.store import ResultStore
from explorer.synthetic import generate
from faults import copy_run


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """Three complete run folders in the evaluator's format (plain folders, as `evaluator run` writes)."""
    out = tmp_path_factory.mktemp("synthetic")
    generate(out, models=3, languages=4, tasks=2, sample_models=3, items_per_language=10, sample_items=3)
    return out / "results"


def _store(tmp_path) -> RunStore:
    return RunStore((tmp_path / "store").as_uri())


def _run(runs_dir, tmp_path, i: int, run_id: str):
    """Synthetic run ``i`` as a local folder of run ``run_id``."""
    return copy_run(runs_dir / f"synthetic-000{i}", tmp_path / "local" / f"{run_id}-{i}", run_id)


def test_published_run_is_listed_and_a_duplicate_is_refused_without_touching_it(tmp_path, runs_dir):
    store = _store(tmp_path)
    folder = store.publish(_run(runs_dir, tmp_path, 0, "run-a"), "run-a", worker="w1")
    assert folder.startswith("run-a/")
    listed = {r.name: r for r in store.scan().runs}
    assert listed["run-a"].folder == folder and listed["run-a"].published
    before = {p.name: p.read_bytes() for p in store.local_path(folder).iterdir()}
    with pytest.raises(AlreadyPublished) as err:
        store.publish(_run(runs_dir, tmp_path, 1, "run-a"), "run-a", worker="w2")
    assert err.value.attempt == folder.split("/")[1]
    assert {p.name: p.read_bytes() for p in store.local_path(folder).iterdir()} == before
    assert [p.name for p in (tmp_path / "store" / "run-a").iterdir() if p.is_dir()] == [folder.split("/")[1]]
    marker = json.loads((tmp_path / "store" / "run-a" / MARKER).read_text())
    assert marker["worker"] == "w1" and set(marker["files"]) == set(before)


def test_concurrent_publishers_of_one_run_leave_exactly_one_published_attempt(tmp_path, runs_dir):
    store = _store(tmp_path)
    outcomes = []
    folders = [_run(runs_dir, tmp_path, i, "run-x") for i in range(3)]

    def publish(i):
        try:
            outcomes.append(("ok", RunStore(store.url).publish(folders[i % 3], "run-x", f"w{i}")))
        except AlreadyPublished:
            outcomes.append(("refused", None))

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o for o, _ in outcomes) == ["ok"] + ["refused"] * 5
    (winner,) = [f for o, f in outcomes if o == "ok"]
    assert [r.folder for r in store.scan().runs] == [winner]


def test_half_written_attempt_and_unfinished_plain_folder_are_invisible(tmp_path, runs_dir):
    store = _store(tmp_path)
    root = tmp_path / "store"
    # an attempt uploaded without its marker (the worker died before publishing)
    half = root / "run-b" / "20261201T000000-deadbeef"
    half.mkdir(parents=True)
    for p in (runs_dir / "synthetic-0000").iterdir():
        (half / p.name).write_bytes(p.read_bytes())
    # a plain folder still being written: no scores.parquet yet
    (root / "run-c").mkdir()
    (root / "run-c" / "run.json").write_text("{}")
    assert store.scan().runs == []


def test_unreadable_marker_is_reported_not_followed(tmp_path, runs_dir):
    store = _store(tmp_path)
    store.publish(_run(runs_dir, tmp_path, 0, "run-d"), "run-d")
    (tmp_path / "store" / "run-d" / MARKER).write_text("{broken")
    scan = store.scan()
    assert scan.runs == [] and [p.name for p in scan.problems] == ["run-d"]
    assert "not valid JSON" in scan.problems[0].reason


def test_publish_of_an_incomplete_folder_is_refused(tmp_path, runs_dir):
    store = _store(tmp_path)
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "run.json").write_text("{}")
    with pytest.raises(ValueError, match="not a complete run folder"):
        store.publish(partial, "run-e")
    with pytest.raises(ValueError, match="not a valid run id"):
        store.publish(runs_dir / "synthetic-0000", "../escape")
    with pytest.raises(ValueError, match="holds run synthetic-0000"):
        store.publish(runs_dir / "synthetic-0000", "run-e")
    assert not (tmp_path / "store" / "run-e").exists()


def test_an_unwritable_store_raises_a_store_error_and_publishes_nothing(tmp_path, runs_dir):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the store's folder should be")
    store = RunStore((blocked / "store").as_uri())
    with pytest.raises(StoreError, match="cannot be written"):
        store.publish(_run(runs_dir, tmp_path, 0, "run-f"), "run-f")


def test_hub_dataset_store_uses_the_same_code_path_and_fails_offline_with_the_reason(monkeypatch):
    # HfFileSystem is fsspec's "hf" protocol: the same listing, reading and publishing code as S3. The
    # Hub cannot be reached here, so this checks the URL resolution and the failure with its reason.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from huggingface_hub import HfFileSystem

    store = RunStore("hf://datasets/polyglot-test/results")
    assert isinstance(store.fs, HfFileSystem) and not store.local
    assert store.root == "datasets/polyglot-test/results"
    assert store.uri("run-a/att", "scores.parquet") == "hf://datasets/polyglot-test/results/run-a/att/scores.parquet"
    with pytest.raises(StoreError, match="hf://datasets/polyglot-test/results"):
        store.check()
    with pytest.raises(StoreError):
        store.scan()


@pytest.mark.slow
def test_explorer_loads_published_and_plain_runs_and_follows_the_marker(tmp_path, runs_dir):
    store = _store(tmp_path)
    store.publish(runs_dir / "synthetic-0000", "synthetic-0000")
    plain = tmp_path / "store" / "synthetic-0001"
    plain.mkdir()
    for p in (runs_dir / "synthetic-0001").iterdir():
        (plain / p.name).write_bytes(p.read_bytes())
    explorer = ResultStore(tmp_path / "data", include_reported=False, persistent=False, runs=store)
    try:
        models = set(explorer.query("SELECT DISTINCT model FROM lang_scores")["model"])
        assert models == {"synthetic-org/model-0000", "synthetic-org/model-0001"}
        uri, problem = explorer.sample_file("synthetic-0000", "synthetic_00")
        assert problem is None and "/synthetic-0000/" in uri and uri.endswith("samples-synthetic_00.parquet")
        store.publish(runs_dir / "synthetic-0002", "synthetic-0002")
        assert explorer.refresh()
        assert "synthetic-org/model-0002" in set(explorer.query("SELECT DISTINCT model FROM lang_scores")["model"])
        assert not explorer.refresh()  # nothing new: nothing reloaded
        assert explorer.problems().empty
    finally:
        explorer.close()


@pytest.mark.slow
def test_worker_finding_its_run_already_published_keeps_the_published_run(tmp_path, runs_dir, tiny_model_dir):
    # Another worker took the request over and published first: this worker's publish is refused,
    # the published run stays as it is, and the request is finished.
    from evaluator.store import StoreLayout
    from evaluator.worker import process_one
    from faults import queue_model
    from submissions.queue import FINISHED, Queue

    data = tmp_path / "data"
    rid = queue_model(data, tiny_model_dir)
    store = RunStore.for_data_dir(data)
    first = store.publish(_run(runs_dir, tmp_path, 0, rid), rid, worker="the-other-worker")
    before = {p.name: p.read_bytes() for p in store.local_path(first).iterdir()}
    process_one(data, "late-worker", device="cpu", echo=False)
    assert Queue(StoreLayout(data).queue_db).get(rid).status == FINISHED
    assert store.published_folder(rid) == first
    assert {p.name: p.read_bytes() for p in store.local_path(first).iterdir()} == before
    assert {p.name for p in (data / "results" / rid).iterdir()} == {MARKER, first.split("/")[1]}
    assert "is already published" in StoreLayout(data).log_file(rid).read_text()


@pytest.mark.slow
def test_the_default_store_needs_no_object_storage_packages(tmp_path, runs_dir):
    import subprocess
    import sys

    from helpers import REPO

    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {{"s3fs", "aiobotocore", "botocore", "boto3"}}:
            raise ImportError(name + " must not be needed by the default store")
sys.meta_path.insert(0, Block())
from evaluator.run_store import RunStore
store = RunStore.for_data_dir({str(tmp_path / "data")!r})
store.check()
print(len(store.scan().runs))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if k != "POLYGLOT_STORE"})
    assert out.stdout.strip() == "0", out.stderr


def test_a_store_hiccup_while_reading_a_run_is_retried_at_the_next_refresh(tmp_path, runs_dir, monkeypatch):
    store = _store(tmp_path)
    store.publish(_run(runs_dir, tmp_path, 0, "run-g"), "run-g")
    real_cat = store.fs.cat
    failures = iter([OSError(5, "connection reset by peer")])

    def flaky_cat(paths, **kw):
        exc = next(failures, None)
        if exc is not None:
            raise exc
        return real_cat(paths, **kw)

    monkeypatch.setattr(store.fs, "cat", flaky_cat)
    explorer = ResultStore(tmp_path / "data", include_reported=False, persistent=False, runs=store)
    try:
        (problem,) = explorer.problems().to_dict("records")
        assert problem["run"] == "run-g" and "connection reset" in problem["reason"]
        assert explorer.refresh()  # not the file's fault: read again although nothing changed
        assert explorer.problems().empty
        assert len(explorer.query("SELECT * FROM runs")) == 1
    finally:
        explorer.close()
