"""The queue's contract, on the embedded SQLite queue and on a real PostgreSQL server alike:
atomic claims across processes, leases, attempts, rate limits, cancellation, placement, wake-ups,
and the schema's migrations."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from workqueue import (CANCELLED, FAILED, FINISHED, PENDING, RUNNING, SCHEMA_VERSION, Limit, LimitReached, Queue,
                       QueueError, open_queue)
from workqueue.schema import version


def add(q: Queue, name: str, sha: str = "a" * 40, **kw):
    req, dup = q.add(model_id=name, revision="main", sha=sha, precision="auto", source="hub", suite="starter",
                     tasks=["polyglot_mc"], **kw)
    assert dup is None
    return req


def _claimer(url: str, worker: str, out):
    q = Queue(url)
    got = []
    while True:
        r = q.claim(worker)
        if r is None:
            break
        got.append(r.id)
        q.finish(r.id, worker, r.id)
    q.close()
    out.put(got)


@pytest.mark.slow
def test_concurrent_processes_never_claim_the_same_request(queue_url, open_queues):
    q = open_queues(queue_url)
    ids = {add(q, f"org/m{i}").id for i in range(60)}
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(queue_url, f"w{i}", out)) for i in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed)) == 60
    assert set(claimed) == ids
    assert all(r.status == FINISHED and r.attempts == 1 for r in q.list())


def test_claims_take_expired_leases_first_then_the_oldest(queue_url, open_queues):
    q = open_queues(queue_url, lease_s=0.3)
    first, second, third = add(q, "org/a"), add(q, "org/b"), add(q, "org/c")
    assert q.claim("w1").id == first.id
    time.sleep(0.4)  # w1 died: its lease runs out
    assert q.claim("w2").id == first.id  # reclaimed before newer pending requests
    assert q.claim("w3").id == second.id
    assert q.claim("w4").id == third.id


def test_expired_lease_is_reclaimed_and_the_old_worker_loses_it(queue_url, open_queues):
    q = open_queues(queue_url, lease_s=0.3)
    req = add(q, "org/m")
    first = q.claim("dead-worker")
    assert first.status == RUNNING and first.attempts == 1
    assert q.claim("other") is None  # lease still valid
    time.sleep(0.4)
    second = q.claim("other")
    assert second.id == req.id and second.claimed_by == "other" and second.attempts == 2
    assert not q.heartbeat(req.id, "dead-worker", 1, 10)  # the dead worker can no longer write
    assert not q.finish(req.id, "dead-worker", "x")
    assert not q.fail(req.id, "dead-worker", "boom", "evaluator")
    assert not q.place(req.id, "dead-worker", node="n1")
    assert not q.release(req.id, "dead-worker", "lost")
    assert q.heartbeat(req.id, "other", 5, 10, 12.0)
    got = q.get(req.id)
    assert (got.done, got.total, got.eta_s, got.status) == (5, 10, 12.0, RUNNING)
    assert q.finish(req.id, "other", "run-1")
    done = q.get(req.id)
    assert done.status == FINISHED and done.run_id == "run-1" and done.done == 10


def test_a_request_interrupted_too_often_fails_with_a_reason_and_the_next_is_claimed(queue_url, open_queues):
    q = open_queues(queue_url, lease_s=0.05)
    req = add(q, "org/m")
    for _ in range(3):
        assert q.claim("w").id == req.id
        time.sleep(0.1)
    later = add(q, "org/later")
    got = q.claim("w")
    assert got is not None and got.id == later.id  # the exhausted one is failed, the next one claimed
    failed = q.get(req.id)
    assert failed.status == FAILED and "interrupted 3 times" in failed.error and failed.error_kind == "evaluator"


def test_failures_keep_reason_and_bulk_requeue_takes_evaluator_failures_only(queue_url, open_queues):
    q = open_queues(queue_url)
    a, b, c = add(q, "org/a"), add(q, "org/b"), add(q, "org/c")
    q.claim("w")
    q.fail(a.id, "w", "evaluator error: disk full", "evaluator")
    q.claim("w")
    q.fail(b.id, "w", "the model ships only pickled weights", "model")
    assert q.cancel(c.id)
    assert q.get(a.id).error == "evaluator error: disk full"
    assert q.requeue_failed() == [a.id]
    assert q.get(a.id).status == PENDING and q.get(a.id).error is None and q.get(a.id).attempts == 0
    assert q.get(b.id).status == FAILED
    assert q.requeue_failed(error_kind=None) == [b.id]  # any kind, but not cancellations
    assert q.get(c.id).status == FAILED and q.get(c.id).error_kind == CANCELLED
    assert q.requeue(c.id) and q.get(c.id).status == PENDING
    assert not q.requeue(c.id)  # only FAILED requests


def test_duplicate_add_is_refused_atomically(queue_url, open_queues):
    q = open_queues(queue_url)
    first = add(q, "org/m")
    again, dup = q.add(model_id="org/m", revision="v2", sha="a" * 40, precision="auto", source="hub",
                       suite="starter", tasks=[])
    assert dup is not None and again.id == first.id
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: q.add(model_id="org/x", revision="main", sha="b" * 40, precision="auto",
                                                 source="hub", suite="starter", tasks=[])[1], range(16)))
    assert sum(r is None for r in results) == 1  # exactly one of 16 concurrent adds landed
    assert len(q.list()) == 2


def test_rate_limits_are_counted_in_the_inserting_transaction(queue_url, open_queues):
    q = open_queues(queue_url)
    since = time.time() - 3600
    limit = Limit("client", "c1", 5, since)
    for i in range(5):
        add(q, f"org/m{i}", client="c1", limits=[limit])
    with pytest.raises(LimitReached) as exc:
        add(q, "org/m5", client="c1", limits=[limit])
    assert exc.value.count == 5 and exc.value.limit == limit
    add(q, "org/m5", client="c2", limits=[Limit("client", "c2", 5, since)])  # another client is not affected
    assert len(q.list()) == 6
    with pytest.raises(ValueError):
        Limit("status; DROP TABLE requests", "x", 1, 0)


def test_a_flood_of_concurrent_submissions_never_passes_the_limit(queue_url, open_queues):
    q = open_queues(queue_url)
    since = time.time() - 3600
    limits = [Limit("client", "flood", 7, since), Limit("submitter", "mallory", 9, since)]

    def submit(i):
        try:
            add(q, f"org/flood{i}", client="flood", submitter="mallory", limits=limits)
            return "queued"
        except LimitReached:
            return "refused"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(submit, range(80)))
    assert outcomes.count("queued") == 7 and outcomes.count("refused") == 73
    assert q.count_since(since, client="flood") == 7


def test_cancel_stops_pending_and_running_requests(queue_url, open_queues):
    q = open_queues(queue_url)
    pending, running, done = add(q, "org/p"), add(q, "org/r"), add(q, "org/d")
    assert q.claim("w").id == pending.id
    q.release(pending.id, "w", "back", count_attempt=False)
    assert q.claim("w").id == pending.id and q.get(pending.id).attempts == 1  # the voluntary release was not counted
    q.release(pending.id, "w", "back", count_attempt=False)
    assert q.cancel(pending.id)
    got = q.get(pending.id)
    assert got.status == FAILED and got.error_kind == CANCELLED and "cancelled" in got.error
    assert q.claim("w").id == running.id
    assert q.cancel(running.id)
    assert not q.heartbeat(running.id, "w", 1, 2)  # the worker learns at its next heartbeat
    assert not q.finish(running.id, "w", "x")
    assert q.claim("w").id == done.id and q.finish(done.id, "w", "run")
    assert not q.cancel(done.id) and not q.cancel("no-such-id")


def test_release_gives_a_request_back_with_its_reason(queue_url, open_queues):
    q = open_queues(queue_url)
    req = add(q, "org/m")
    assert q.claim("ray:a").id == req.id
    assert q.place(req.id, "ray:a", node="10.0.0.2 (node 1234abcd)", gpu_ids="0", dispatch_ref="ray-task:ff")
    got = q.get(req.id)
    assert (got.node, got.gpu_ids, got.dispatch_ref) == ("10.0.0.2 (node 1234abcd)", "0", "ray-task:ff")
    assert q.release(req.id, "ray:a", "the cluster lost the evaluation (NodeDiedError)")
    back = q.get(req.id)
    assert back.status == PENDING and back.claimed_by is None and back.node is None and back.attempts == 1
    assert "NodeDiedError" in back.error
    again = q.claim("ray:b")
    assert again.attempts == 2 and again.error is None and again.node is None


def test_gpu_override(queue_url, open_queues):
    q = open_queues(queue_url)
    req = add(q, "org/big", params=70_000_000_000)
    assert q.get(req.id).gpus is None
    assert q.set_gpus(req.id, 4) and q.get(req.id).gpus == 4
    assert q.set_gpus(req.id, None) and q.get(req.id).gpus is None
    assert not q.set_gpus("nope", 1)
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            q.set_gpus(req.id, bad)
    assert q.get(req.id).params == 70_000_000_000  # beyond 32 bits on both databases


def test_waiting_workers_wake_when_a_request_arrives(queue_url, open_queues):
    waiter, submitter = open_queues(queue_url), open_queues(queue_url)
    waiter.wait_for_work(0)  # starts listening where the database notifies
    if not waiter.backend.notifies:
        start = time.monotonic()
        assert waiter.wait_for_work(0.2) is False and time.monotonic() - start >= 0.2  # polling
        return
    threading.Timer(0.3, lambda: add(submitter, "org/m")).start()
    start = time.monotonic()
    assert waiter.wait_for_work(30) is True
    assert time.monotonic() - start < 20
    assert waiter.wait_for_work(0.1) is False  # nothing more arrived


def test_fresh_queue_is_at_the_latest_schema_and_opens_again(queue_url, open_queues):
    q = open_queues(queue_url)
    assert version(q.backend) == SCHEMA_VERSION
    add(q, "org/m")
    again = open_queues(queue_url)
    assert len(again.list()) == 1 and version(again.backend) == SCHEMA_VERSION


def _opener(url, out):
    q = Queue(url)
    out.put(version(q.backend))
    q.close()


@pytest.mark.slow
def test_concurrent_first_opens_apply_each_migration_once(queue_url, open_queues):
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(queue_url, out)) for _ in range(3)]
    for p in procs:
        p.start()
    assert [out.get(timeout=120) for _ in procs] == [SCHEMA_VERSION] * 3
    for p in procs:
        p.join(30)
    q = open_queues(queue_url)
    with q.backend.read() as tx:
        rows = tx.all("SELECT version FROM queue_schema ORDER BY version")
    assert [r["version"] for r in rows] == list(range(1, SCHEMA_VERSION + 1))


def test_a_queue_from_a_newer_release_is_refused(queue_url, open_queues):
    q = open_queues(queue_url)
    with q.backend.transaction() as tx:
        tx.execute("INSERT INTO queue_schema (version, description, applied_at) VALUES (?, ?, ?)",
                   (SCHEMA_VERSION + 1, "from the future", 0.0))
    with pytest.raises(QueueError, match="newer than this release"):
        Queue(queue_url)


# The table as the embedded queue created it before the schema was versioned.
UNVERSIONED = """CREATE TABLE requests (id TEXT PRIMARY KEY, model_id TEXT NOT NULL, revision TEXT NOT NULL,
sha TEXT NOT NULL, precision TEXT NOT NULL, source TEXT NOT NULL, suite TEXT NOT NULL, tasks TEXT NOT NULL,
params INTEGER, license TEXT, submitter TEXT, client TEXT, status TEXT NOT NULL, submitted_at REAL NOT NULL,
started_at REAL, finished_at REAL, claimed_by TEXT, lease_until REAL, heartbeat_at REAL,
attempts INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, eta_s REAL,
error TEXT, error_kind TEXT, run_id TEXT)"""


def test_an_existing_sqlite_queue_is_upgraded_in_place(tmp_path):
    path = tmp_path / "queue.sqlite"
    db = sqlite3.connect(path)
    db.execute(UNVERSIONED)
    db.execute("INSERT INTO requests (id, model_id, revision, sha, precision, source, suite, tasks, status, "
               "submitted_at, attempts, error, error_kind) VALUES ('r1', 'org/m', 'main', 'abc', 'auto', 'hub', "
               "'starter', '[\"polyglot_mc\"]', 'FAILED', 1.0, 3, 'disk full', 'evaluator')")
    db.commit()
    db.close()
    q = Queue(path)
    assert version(q.backend) == SCHEMA_VERSION
    old = q.get("r1")
    assert (old.model_id, old.tasks, old.error, old.gpus, old.node) == ("org/m", ["polyglot_mc"], "disk full", None, None)
    assert q.requeue_failed() == ["r1"] and q.claim("w").id == "r1"


def test_queue_urls_and_clear_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("POLYGLOT_QUEUE", raising=False)
    q = open_queue(tmp_path / "a.sqlite")
    assert q.url == f"sqlite:///{tmp_path / 'a.sqlite'}" and q.path == tmp_path / "a.sqlite"
    assert Queue(q.url).path == q.path  # the URL another process opens reaches the same file
    monkeypatch.setenv("POLYGLOT_QUEUE", f"sqlite:///{tmp_path / 'b.sqlite'}")
    assert open_queue(tmp_path / "a.sqlite").path == tmp_path / "b.sqlite"
    with pytest.raises(QueueError, match="unknown queue URL"):
        Queue("mysql://localhost/q")


def test_an_unreachable_postgres_is_reported_at_once(tmp_path):
    pytest.importorskip("psycopg_pool")
    start = time.monotonic()
    with pytest.raises(QueueError, match="cannot be reached") as exc:
        Queue(f"postgresql://nobody:secret@/polyglot?host={tmp_path}&port=5")
    assert time.monotonic() - start < 10
    assert "secret" not in str(exc.value)  # the password is not echoed
