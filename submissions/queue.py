"""The evaluation queue: one record per request, shared safely by the app and worker processes.

SQLite in WAL mode holds the queue because several processes (the app and any number of
workers) must claim requests atomically; a DuckDB file admits one process only. A claim is a
single ``BEGIN IMMEDIATE`` transaction, so two workers never get the same request. A worker
renews its lease while it runs; a request whose lease ran out (its worker died) is claimed again.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

PENDING, RUNNING, FINISHED, FAILED = "PENDING", "RUNNING", "FINISHED", "FAILED"
STATUSES = (PENDING, RUNNING, FINISHED, FAILED)
MAX_ATTEMPTS = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    revision TEXT NOT NULL,
    sha TEXT NOT NULL,
    precision TEXT NOT NULL,
    source TEXT NOT NULL,
    suite TEXT NOT NULL,
    tasks TEXT NOT NULL,
    params INTEGER,
    license TEXT,
    submitter TEXT,
    client TEXT,
    status TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    claimed_by TEXT,
    lease_until REAL,
    heartbeat_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    eta_s REAL,
    error TEXT,
    error_kind TEXT,
    run_id TEXT
);
CREATE INDEX IF NOT EXISTS requests_status ON requests(status, submitted_at);
CREATE INDEX IF NOT EXISTS requests_model ON requests(model_id, sha, precision);
"""


@dataclass
class Request:
    id: str
    model_id: str
    revision: str
    sha: str
    precision: str
    source: str  # "hub" or "local"
    suite: str
    tasks: list[str]
    status: str
    submitted_at: float
    params: int | None = None
    license: str | None = None
    submitter: str | None = None
    client: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    claimed_by: str | None = None
    lease_until: float | None = None
    heartbeat_at: float | None = None
    attempts: int = 0
    done: int = 0
    total: int = 0
    eta_s: float | None = None
    error: str | None = None
    error_kind: str | None = None  # "model" (the submission's fault) or "evaluator"
    run_id: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


_COLUMNS = [f.name for f in fields(Request)]


def _row_to_request(row: sqlite3.Row) -> Request:
    d = dict(row)
    d["tasks"] = json.loads(d["tasks"])
    return Request(**d)


class Queue:
    def __init__(self, path: str | Path, lease_s: float = 120.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lease_s = lease_s
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self):
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self):
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- submitting ----------------------------------------------------------------------
    def add(self, *, model_id: str, revision: str, sha: str, precision: str, source: str, suite: str,
            tasks: list[str], params: int | None = None, license: str | None = None,
            submitter: str | None = None, client: str | None = None) -> tuple[Request, Request | None]:
        """Queue a request unless the same model, commit and precision is already there.

        Returns (request, None) when queued, or (existing, existing) when it is a duplicate; the
        check and the insert happen in one transaction, so concurrent duplicates cannot both land.
        """
        now = time.time()
        req = Request(
            id=uuid.uuid4().hex[:12], model_id=model_id, revision=revision, sha=sha, precision=precision,
            source=source, suite=suite, tasks=list(tasks), status=PENDING, submitted_at=now, params=params,
            license=license, submitter=submitter, client=client,
        )
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM requests WHERE model_id=? AND sha=? AND precision=? ORDER BY submitted_at DESC LIMIT 1",
                (model_id, sha, precision),
            ).fetchone()
            if row is not None:
                existing = _row_to_request(row)
                return existing, existing
            values = req.as_dict()
            values["tasks"] = json.dumps(values["tasks"])
            db.execute(
                f"INSERT INTO requests ({','.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})",
                [values[c] for c in _COLUMNS],
            )
        return req, None

    def count_since(self, since: float, submitter: str | None = None, client: str | None = None) -> int:
        clauses, args = ["submitted_at >= ?"], [since]
        if submitter is not None:
            clauses.append("submitter = ?")
            args.append(submitter)
        if client is not None:
            clauses.append("client = ?")
            args.append(client)
        with self._connect() as db:
            return db.execute(f"SELECT COUNT(*) FROM requests WHERE {' AND '.join(clauses)}", args).fetchone()[0]

    # -- working -------------------------------------------------------------------------
    def has_claimable(self) -> bool:
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM requests WHERE status=? OR (status=? AND lease_until < ?) LIMIT 1",
                (PENDING, RUNNING, time.time()),
            ).fetchone()
        return row is not None

    def claim(self, worker_id: str) -> Request | None:
        """Atomically take the oldest pending request, or one whose worker's lease ran out."""
        now = time.time()
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM requests WHERE status=? OR (status=? AND lease_until < ?) "
                "ORDER BY CASE status WHEN ? THEN 0 ELSE 1 END, submitted_at LIMIT 1",
                (PENDING, RUNNING, now, RUNNING),
            ).fetchone()
            if row is None:
                return None
            req = _row_to_request(row)
            if req.attempts >= MAX_ATTEMPTS:
                db.execute(
                    "UPDATE requests SET status=?, finished_at=?, error=?, error_kind=?, claimed_by=NULL WHERE id=?",
                    (FAILED, now, f"the evaluation was interrupted {req.attempts} times (the worker stopped "
                     "without finishing, e.g. killed or out of memory); an admin can re-queue it", "evaluator", req.id),
                )
                return None
            db.execute(
                "UPDATE requests SET status=?, claimed_by=?, lease_until=?, heartbeat_at=?, "
                "started_at=COALESCE(started_at, ?), attempts=attempts+1, error=NULL, error_kind=NULL WHERE id=?",
                (RUNNING, worker_id, now + self.lease_s, now, now, req.id),
            )
        return self.get(req.id)

    def heartbeat(self, request_id: str, worker_id: str, done: int | None = None, total: int | None = None,
                  eta_s: float | None = None) -> bool:
        """Renew the lease and record progress; False when the request is no longer ours."""
        now = time.time()
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE requests SET lease_until=?, heartbeat_at=?, done=COALESCE(?, done), "
                "total=COALESCE(?, total), eta_s=? WHERE id=? AND claimed_by=? AND status=?",
                (now + self.lease_s, now, done, total, eta_s, request_id, worker_id, RUNNING),
            )
            return cur.rowcount == 1

    def finish(self, request_id: str, worker_id: str, run_id: str) -> bool:
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE requests SET status=?, finished_at=?, run_id=?, done=total, eta_s=0, lease_until=NULL "
                "WHERE id=? AND claimed_by=? AND status=?",
                (FINISHED, time.time(), run_id, request_id, worker_id, RUNNING),
            )
            return cur.rowcount == 1

    def fail(self, request_id: str, worker_id: str, error: str, error_kind: str) -> bool:
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE requests SET status=?, finished_at=?, error=?, error_kind=?, lease_until=NULL "
                "WHERE id=? AND claimed_by=? AND status=?",
                (FAILED, time.time(), error[:2000], error_kind, request_id, worker_id, RUNNING),
            )
            return cur.rowcount == 1

    # -- admin ---------------------------------------------------------------------------
    def requeue(self, request_id: str) -> bool:
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE requests SET status=?, claimed_by=NULL, lease_until=NULL, attempts=0, error=NULL, "
                "error_kind=NULL, finished_at=NULL WHERE id=? AND status=?",
                (PENDING, request_id, FAILED),
            )
            return cur.rowcount == 1

    def requeue_failed(self, error_kind: str | None = "evaluator", since: float | None = None) -> list[str]:
        clauses, args = ["status=?"], [FAILED]
        if error_kind:
            clauses.append("error_kind=?")
            args.append(error_kind)
        if since is not None:
            clauses.append("finished_at >= ?")
            args.append(since)
        with self._transaction() as db:
            ids = [r[0] for r in db.execute(f"SELECT id FROM requests WHERE {' AND '.join(clauses)}", args)]
            db.executemany(
                "UPDATE requests SET status=?, claimed_by=NULL, lease_until=NULL, attempts=0, error=NULL, "
                "error_kind=NULL, finished_at=NULL WHERE id=?",
                [(PENDING, i) for i in ids],
            )
        return ids

    # -- reading -------------------------------------------------------------------------
    def get(self, request_id: str) -> Request | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM requests WHERE id=?", (request_id,)).fetchone()
        return _row_to_request(row) if row else None

    def list(self, status: str | None = None, limit: int = 500) -> list[Request]:
        q, args = "SELECT * FROM requests", []
        if status:
            q += " WHERE status=?"
            args.append(status)
        q += " ORDER BY submitted_at DESC LIMIT ?"
        args.append(limit)
        with self._connect() as db:
            return [_row_to_request(r) for r in db.execute(q, args)]
