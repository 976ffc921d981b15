"""The queue: atomic claims across processes, leases, failures and re-queueing."""

from __future__ import annotations

import multiprocessing as mp
import time

from submissions.queue import FAILED, FINISHED, PENDING, RUNNING, Queue


def add(q: Queue, name: str, sha: str = "a" * 40):
    req, dup = q.add(model_id=name, revision="main", sha=sha, precision="auto", source="hub", suite="starter",
                     tasks=["polyglot_mc"])
    assert dup is None
    return req


def _claimer(path: str, worker: str, out):
    q = Queue(path)
    got = []
    while True:
        r = q.claim(worker)
        if r is None:
            break
        got.append(r.id)
        q.finish(r.id, worker, r.id)
    out.put(got)


def test_two_processes_never_claim_the_same_request(tmp_path):
    q = Queue(tmp_path / "q.sqlite")
    ids = {add(q, f"org/m{i}").id for i in range(60)}
    out = mp.get_context("spawn").Queue()
    procs = [mp.get_context("spawn").Process(target=_claimer, args=(str(tmp_path / "q.sqlite"), f"w{i}", out)) for i in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed)) == 60
    assert set(claimed) == ids
    assert all(r.status == FINISHED for r in q.list())


def test_expired_lease_is_reclaimed_and_the_old_worker_loses_it(tmp_path):
    q = Queue(tmp_path / "q.sqlite", lease_s=0.3)
    req = add(q, "org/m")
    first = q.claim("dead-worker")
    assert first.status == RUNNING and first.attempts == 1
    assert q.claim("other") is None  # lease still valid
    time.sleep(0.4)
    second = q.claim("other")
    assert second.id == req.id and second.claimed_by == "other" and second.attempts == 2
    assert not q.heartbeat(req.id, "dead-worker", 1, 10)  # the dead worker can no longer write
    assert not q.finish(req.id, "dead-worker", "x")
    assert q.heartbeat(req.id, "other", 5, 10, 12.0)
    got = q.get(req.id)
    assert (got.done, got.total, got.eta_s) == (5, 10, 12.0)


def test_a_request_interrupted_too_often_fails_with_a_reason(tmp_path):
    q = Queue(tmp_path / "q.sqlite", lease_s=0.01)
    req = add(q, "org/m")
    for _ in range(3):
        assert q.claim("w") is not None
        time.sleep(0.02)
    assert q.claim("w") is None
    got = q.get(req.id)
    assert got.status == FAILED and "interrupted 3 times" in got.error and got.error_kind == "evaluator"


def test_failures_keep_reason_and_bulk_requeue_takes_evaluator_failures_only(tmp_path):
    q = Queue(tmp_path / "q.sqlite")
    a, b = add(q, "org/a"), add(q, "org/b")
    q.claim("w"); q.fail(a.id, "w", "evaluator error: disk full", "evaluator")
    q.claim("w"); q.fail(b.id, "w", "the model ships only pickled weights", "model")
    assert q.get(a.id).error == "evaluator error: disk full"
    assert q.requeue_failed() == [a.id]
    assert q.get(a.id).status == PENDING and q.get(a.id).error is None
    assert q.get(b.id).status == FAILED
    assert q.requeue(b.id) and q.get(b.id).status == PENDING


def test_duplicate_add_is_refused_atomically(tmp_path):
    q = Queue(tmp_path / "q.sqlite")
    first = add(q, "org/m")
    again, dup = q.add(model_id="org/m", revision="v2", sha="a" * 40, precision="auto", source="hub",
                       suite="starter", tasks=[])
    assert dup is not None and again.id == first.id
    assert len(q.list()) == 1
