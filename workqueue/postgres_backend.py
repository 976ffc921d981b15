"""PostgreSQL: the queue of record when the app, workers and dispatchers run on several machines.

A claim selects with ``FOR UPDATE SKIP LOCKED``, so concurrent claimers never wait on one another
nor take the same row. Adds that must count first (duplicates, rate limits) take transaction-scoped
advisory locks on their keys, so two submissions of one client serialise while others run
in parallel. Every time comes from the server's clock: workers on machines whose clocks differ
still agree on when a lease ran out. Changes that may give workers something to do are announced
with NOTIFY; waiting workers LISTEN, and poll as a fallback.
"""

from __future__ import annotations

import hashlib
import re
import threading
from contextlib import contextmanager

try:
    import psycopg
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("a postgresql:// queue needs psycopg and psycopg-pool: pip install -r requirements-cluster.txt") from exc

from .records import QueueError

TYPES = {"float": "DOUBLE PRECISION", "bigint": "BIGINT"}
CHANNEL = "polyglot_queue"
_PLACEHOLDER = re.compile(r"\?")


def _sql(text: str) -> str:
    """The queue writes SQLite's ``?`` placeholders; psycopg takes ``%s`` (and a literal ``%`` doubled)."""
    return _PLACEHOLDER.sub("%s", text.replace("%", "%%"))


def _key(text: str) -> int:
    """A stable signed 64-bit advisory-lock key for a text."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


class _Tx:
    def __init__(self, cur):
        self.cur = cur

    def execute(self, sql: str, args=()):
        self.cur.execute(_sql(sql), tuple(args))
        return self.cur

    def one(self, sql: str, args=()) -> dict | None:
        return self.execute(sql, args).fetchone()

    def all(self, sql: str, args=()) -> list[dict]:
        return self.execute(sql, args).fetchall()


class PostgresBackend:
    dialect = "postgresql"
    types = TYPES
    skip_locked = " FOR UPDATE SKIP LOCKED"
    notifies = True

    def __init__(self, url: str, max_connections: int = 8):
        self.url = url
        self.where = _redact(url)
        self._listen_lock = threading.Lock()
        self._listener = None
        try:  # one direct connection first: a wrong address fails at once with libpq's own words
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as exc:
            raise QueueError(f"the PostgreSQL queue at {self.where} cannot be reached: {exc}".strip()) from exc
        self.pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=True, timeout=30,
                                   kwargs={"connect_timeout": 10}, name="polyglot-queue")

    @contextmanager
    def transaction(self):
        with self.pool.connection() as conn:
            with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                yield _Tx(cur)

    read = transaction

    def now(self, tx) -> float:
        return tx.one("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8 AS now")["now"]

    def lock(self, tx, keys) -> None:
        # Sorted, so that two transactions locking overlapping keys cannot deadlock.
        for k in sorted({_key(k) for k in keys}):
            tx.execute("SELECT pg_advisory_xact_lock(?)", (k,))

    def notify(self, tx) -> None:
        tx.execute("SELECT pg_notify(?, '')", (CHANNEL,))  # delivered when the transaction commits

    def wait(self, timeout: float) -> bool:
        """Block until a NOTIFY arrives (True) or ``timeout`` seconds pass (False).

        The first call only starts listening and returns True at once, so that the caller looks
        again and no notification sent before the LISTEN is missed."""
        with self._listen_lock:
            if self._listener is None or self._listener.closed:
                try:
                    self._listener = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
                    self._listener.execute(f"LISTEN {CHANNEL}")
                except psycopg.Error:
                    self._listener = None
                    import time

                    time.sleep(max(0.0, timeout))
                    return False
                return True
            listener = self._listener
        try:
            got = any(True for _ in listener.notifies(timeout=max(0.0, timeout), stop_after=1))
            if got:  # drain what else arrived meanwhile: one wake-up is enough
                for _ in listener.notifies(timeout=0.0):
                    pass
            return got
        except psycopg.Error:
            listener.close()
            return False

    def close(self) -> None:
        with self._listen_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self.pool.close()


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
