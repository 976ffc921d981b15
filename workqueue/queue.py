"""The evaluation queue: one record per request, shared safely by the app, workers and dispatchers.

One contract on every database (``sqlite:///path``, the embedded default, or ``postgresql://...``):

- ``add`` refuses a duplicate (same model, commit, precision) and enforces rate limits in the same
  transaction as the insert, so concurrent submissions cannot slip past either;
- ``claim`` atomically takes the oldest pending request, or one whose lease ran out (its worker
  died), and counts the attempt; a request interrupted ``MAX_ATTEMPTS`` times fails with the reason;
- ``heartbeat`` renews the lease and records progress; it, ``finish``, ``fail`` and ``release``
  act only for the current claimant, so a worker that lost its lease can no longer write;
- ``cancel``, ``requeue``, ``requeue_failed`` and ``set_gpus`` are the admin's;
- ``wait_for_work`` blocks until something changed (LISTEN/NOTIFY where the database has it) or a
  time-out passed (polling).

Where the database differs (locking, notifications, types, the clock) the backend decides; the SQL
below is written once.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from evaluator.settings import default

from .records import (CANCELLED, COLUMNS, EVALUATOR, FAILED, FINISHED, MAX_ATTEMPTS, PENDING, RUNNING, Limit,
                      LimitReached, QueueError, Request)
from .schema import migrate

# Clearing a claim (a re-queue, a release): who held it and where it ran.
_UNCLAIM = "claimed_by=NULL, lease_until=NULL, node=NULL, gpu_ids=NULL, dispatch_ref=NULL"


def backend_for(where: str | os.PathLike):
    """The backend for a queue URL (``sqlite:///...``, ``postgresql://...``) or a SQLite file path."""
    text = os.fspath(where)
    if text.startswith(("postgresql://", "postgres://")):
        from .postgres_backend import PostgresBackend  # imported only when chosen: psycopg is optional

        return PostgresBackend(text)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///"):]  # sqlite:////abs/path is absolute, sqlite:///rel/path relative
    elif "://" in text:
        raise QueueError(f"unknown queue URL {text!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")
    from .sqlite_backend import SqliteBackend

    return SqliteBackend(text)


def _to_request(row: dict) -> Request:
    d = {c: row[c] for c in COLUMNS if c in row}
    d["tasks"] = json.loads(d["tasks"])
    return Request(**d)


class Queue:
    def __init__(self, where: str | os.PathLike, lease_s: float = default("lease_s")):
        self.backend = backend_for(where)
        self.where = self.backend.where  # for messages: no password
        # What another process (a cluster task) opens to reach the same queue.
        self.url = os.fspath(where) if "://" in os.fspath(where) else f"sqlite:///{self.backend.path.resolve()}"
        self.lease_s = lease_s
        migrate(self.backend)

    @property
    def path(self) -> Path | None:
        """The SQLite file, for an embedded queue."""
        return getattr(self.backend, "path", None)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- submitting ----------------------------------------------------------------------
    def add(self, *, model_id: str, revision: str, sha: str, precision: str, source: str, suite: str,
            tasks: list[str], params: int | None = None, license: str | None = None,
            submitter: str | None = None, client: str | None = None, api_key_env: str | None = None,
            limits: tuple[Limit, ...] | list[Limit] = ()) -> tuple[Request, Request | None]:
        """Queue a request unless the same model, commit and precision is already there.

        Returns (request, None) when queued, or (existing, existing) when it is a duplicate. Raises
        ``LimitReached`` (queuing nothing) when one of ``limits`` is already reached. The checks and
        the insert happen in one transaction that holds the locks of its keys, so concurrent
        duplicates, or concurrent submissions of one client, cannot both land.
        """
        req = Request(
            id=uuid.uuid4().hex[:12], model_id=model_id, revision=revision, sha=sha, precision=precision,
            source=source, suite=suite, tasks=list(tasks), status=PENDING, submitted_at=0.0, params=params,
            license=license, submitter=submitter, client=client, api_key_env=api_key_env,
        )
        with self.backend.transaction() as tx:
            self.backend.lock(tx, [f"model\0{model_id}\0{sha}\0{precision}"]
                              + [f"{lim.field}\0{lim.value}" for lim in limits])
            row = tx.one("SELECT * FROM requests WHERE model_id=? AND sha=? AND precision=? "
                         "ORDER BY submitted_at DESC LIMIT 1", (model_id, sha, precision))
            if row is not None:
                existing = _to_request(row)
                return existing, existing
            for lim in limits:
                marks = ",".join("?" * len(lim.values))
                count = tx.one(f"SELECT COUNT(*) AS n FROM requests WHERE {lim.field} IN ({marks}) AND submitted_at >= ?",
                               (*lim.values, lim.since))["n"]
                if count >= lim.max_count:
                    raise LimitReached(lim, count)
            req.submitted_at = self.backend.now(tx)
            values = req.as_dict()
            values["tasks"] = json.dumps(values["tasks"])
            tx.execute(f"INSERT INTO requests ({','.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})",
                       [values[c] for c in COLUMNS])
            self.backend.notify(tx)
        return req, None

    def count_since(self, since: float, submitter: str | None = None, client: str | None = None) -> int:
        clauses, args = ["submitted_at >= ?"], [since]
        if submitter is not None:
            clauses.append("submitter = ?")
            args.append(submitter)
        if client is not None:
            clauses.append("client = ?")
            args.append(client)
        with self.backend.read() as tx:
            return tx.one(f"SELECT COUNT(*) AS n FROM requests WHERE {' AND '.join(clauses)}", args)["n"]

    # -- working -------------------------------------------------------------------------
    def has_claimable(self) -> bool:
        with self.backend.read() as tx:
            now = self.backend.now(tx)
            row = tx.one("SELECT 1 AS x FROM requests WHERE status=? OR (status=? AND lease_until < ?) LIMIT 1",
                         (PENDING, RUNNING, now))
        return row is not None

    def claim(self, worker_id: str) -> Request | None:
        """Atomically take the oldest pending request, or one whose worker's lease ran out.

        Expired leases come first (their worker died mid-run). A request already interrupted
        ``MAX_ATTEMPTS`` times is failed with the reason instead, and the next one is looked at."""
        with self.backend.transaction() as tx:
            now = self.backend.now(tx)
            while True:
                # Two indexed looks rather than one scan: expired leases, then the oldest pending.
                row = (tx.one("SELECT * FROM requests WHERE status=? AND lease_until < ? ORDER BY lease_until LIMIT 1"
                              + self.backend.skip_locked, (RUNNING, now))
                       or tx.one("SELECT * FROM requests WHERE status=? ORDER BY submitted_at LIMIT 1"
                                 + self.backend.skip_locked, (PENDING,)))
                if row is None:
                    return None
                req = _to_request(row)
                if req.attempts < MAX_ATTEMPTS:
                    break
                last = f"; last: {req.error}" if req.error else ""
                tx.execute(
                    f"UPDATE requests SET status=?, finished_at=?, error=?, error_kind=?, {_UNCLAIM} WHERE id=?",
                    (FAILED, now, (f"the evaluation was interrupted {req.attempts} times (the worker stopped "
                                   "without finishing, e.g. killed or out of memory); an admin can re-queue it"
                                   + last)[:2000], EVALUATOR, req.id),
                )
            return _to_request(tx.one(
                "UPDATE requests SET status=?, claimed_by=?, lease_until=?, heartbeat_at=?, "
                "started_at=COALESCE(started_at, ?), attempts=attempts+1, error=NULL, error_kind=NULL, "
                "node=NULL, gpu_ids=NULL, dispatch_ref=NULL WHERE id=? RETURNING *",
                (RUNNING, worker_id, now + self.lease_s, now, now, req.id),
            ))

    def _mine(self, sql: str, args, request_id: str, worker_id: str, notify: bool = False) -> bool:
        """Run an UPDATE on a request only while ``worker_id`` holds its claim; True when it did."""
        with self.backend.transaction() as tx:
            now = self.backend.now(tx)
            cur = tx.execute(sql + " WHERE id=? AND claimed_by=? AND status=?",
                             [now if a is _NOW else now + self.lease_s if a is _LEASE else a for a in args]
                             + [request_id, worker_id, RUNNING])
            ok = cur.rowcount == 1
            if ok and notify:
                self.backend.notify(tx)
            return ok

    def heartbeat(self, request_id: str, worker_id: str, done: int | None = None, total: int | None = None,
                  eta_s: float | None = None) -> bool:
        """Renew the lease and record progress; False when the request is no longer ours."""
        return self._mine("UPDATE requests SET lease_until=?, heartbeat_at=?, done=COALESCE(?, done), "
                          "total=COALESCE(?, total), eta_s=?", (_LEASE, _NOW, done, total, eta_s),
                          request_id, worker_id)

    def place(self, request_id: str, worker_id: str, *, node: str | None = None, gpu_ids: str | None = None,
              dispatch_ref: str | None = None) -> bool:
        """Record where the current attempt runs (fields left None keep their value)."""
        return self._mine("UPDATE requests SET node=COALESCE(?, node), gpu_ids=COALESCE(?, gpu_ids), "
                          "dispatch_ref=COALESCE(?, dispatch_ref)", (node, gpu_ids, dispatch_ref),
                          request_id, worker_id)

    def finish(self, request_id: str, worker_id: str, run_id: str) -> bool:
        return self._mine("UPDATE requests SET status=?, finished_at=?, run_id=?, done=total, eta_s=0, "
                          "lease_until=NULL", (FINISHED, _NOW, run_id), request_id, worker_id)

    def fail(self, request_id: str, worker_id: str, error: str, error_kind: str) -> bool:
        return self._mine("UPDATE requests SET status=?, finished_at=?, error=?, error_kind=?, lease_until=NULL",
                          (FAILED, _NOW, error[:2000], error_kind), request_id, worker_id)

    def release(self, request_id: str, worker_id: str, reason: str, count_attempt: bool = True) -> bool:
        """Give a claimed request back to the queue at once (its attempt died; the cluster said so).

        The attempt counts unless the claimant stopped on purpose; the reason stays on the request
        until the next claim."""
        uncount = "" if count_attempt else ", attempts=CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
        return self._mine(f"UPDATE requests SET status=?, error=?, error_kind=?, {_UNCLAIM}{uncount}",
                          (PENDING, reason[:2000], EVALUATOR), request_id, worker_id, notify=True)

    def wait_for_work(self, timeout: float) -> bool:
        """Sleep until the queue changed (True; where the database notifies) or ``timeout`` passed."""
        return self.backend.wait(timeout)

    # -- admin ---------------------------------------------------------------------------
    def cancel(self, request_id: str, reason: str = "cancelled by an admin") -> bool:
        """Stop a pending or running request: it fails with ``reason``; its worker loses the claim at
        its next heartbeat, and a dispatcher cancels the cluster task that runs it."""
        with self.backend.transaction() as tx:
            cur = tx.execute("UPDATE requests SET status=?, finished_at=?, error=?, error_kind=?, lease_until=NULL "
                             "WHERE id=? AND status IN (?, ?)",
                             (FAILED, self.backend.now(tx), reason[:2000], CANCELLED, request_id, PENDING, RUNNING))
            ok = cur.rowcount == 1
            if ok:
                self.backend.notify(tx)
            return ok

    def requeue(self, request_id: str) -> bool:
        return bool(self._requeue("id=?", [request_id]))

    def requeue_failed(self, error_kind: str | None = EVALUATOR, since: float | None = None) -> list[str]:
        """Re-queue failed requests of one kind (None: any kind except cancellations)."""
        clauses, args = [], []
        if error_kind:
            clauses.append("error_kind=?")
            args.append(error_kind)
        else:
            clauses.append("(error_kind IS NULL OR error_kind<>?)")
            args.append(CANCELLED)
        if since is not None:
            clauses.append("finished_at >= ?")
            args.append(since)
        return self._requeue(" AND ".join(clauses), args)

    def _requeue(self, where: str, args: list) -> list[str]:
        with self.backend.transaction() as tx:
            ids = [r["id"] for r in tx.all(
                f"UPDATE requests SET status=?, attempts=0, error=NULL, error_kind=NULL, finished_at=NULL, {_UNCLAIM} "
                f"WHERE status=? AND {where} RETURNING id", [PENDING, FAILED, *args])]
            if ids:
                self.backend.notify(tx)
        return sorted(ids)

    def set_gpus(self, request_id: str, gpus: float | None) -> bool:
        """Override the GPUs a request needs (None: derive them from its size and precision again)."""
        if gpus is not None and not (0 <= gpus <= 4096):
            raise ValueError("the number of GPUs must be between 0 and 4096")
        with self.backend.transaction() as tx:
            return tx.execute("UPDATE requests SET gpus=? WHERE id=?", (gpus, request_id)).rowcount == 1

    # -- reading -------------------------------------------------------------------------
    def get(self, request_id: str) -> Request | None:
        with self.backend.read() as tx:
            row = tx.one("SELECT * FROM requests WHERE id=?", (request_id,))
        return _to_request(row) if row else None

    def list(self, status: str | None = None, limit: int = 500) -> list[Request]:
        q, args = "SELECT * FROM requests", []
        if status:
            q += " WHERE status=?"
            args.append(status)
        q += " ORDER BY submitted_at DESC LIMIT ?"
        args.append(limit)
        with self.backend.read() as tx:
            return [_to_request(r) for r in tx.all(q, args)]


class _Marker:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


_NOW, _LEASE = _Marker("now"), _Marker("now + lease")


def open_queue(default: str | os.PathLike, lease_s: float = default("lease_s"), url: str | None = None) -> Queue:
    """The deployment's queue: ``url``, else ``$POLYGLOT_QUEUE``, else the SQLite file ``default``."""
    return Queue(queue_url(default, url), lease_s=lease_s)


def queue_url(default: str | os.PathLike, url: str | None = None) -> str:
    chosen = url or os.environ.get("POLYGLOT_QUEUE") or ""
    return chosen.strip() or f"sqlite:///{Path(default).resolve()}"

