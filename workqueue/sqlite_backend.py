"""SQLite in WAL mode: the embedded default, for the app and workers on one machine.

Every write transaction is ``BEGIN IMMEDIATE``: SQLite then admits one writer at a time, so a
claim, or a rate-limit count followed by an insert, cannot interleave with another process's.
There is no notification channel: waiting for work is polling.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

TYPES = {"float": "REAL", "bigint": "INTEGER"}


class _Tx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def execute(self, sql: str, args=()):
        return self.db.execute(sql, tuple(args))

    def one(self, sql: str, args=()) -> dict | None:
        row = self.db.execute(sql, tuple(args)).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, args=()) -> list[dict]:
        return [dict(r) for r in self.db.execute(sql, tuple(args))]


class SqliteBackend:
    dialect = "sqlite"
    types = TYPES
    skip_locked = ""  # BEGIN IMMEDIATE already excludes every other writer
    notifies = False

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.where = str(self.path)

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
    def transaction(self):
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield _Tx(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def read(self):
        with self._connect() as db:
            yield _Tx(db)

    def now(self, tx) -> float:
        return time.time()

    def lock(self, tx, keys) -> None:
        """Nothing to do: the transaction already holds the database's write lock."""

    def notify(self, tx) -> None:
        """No channel: waiting workers poll."""

    def wait(self, timeout: float) -> bool:
        time.sleep(max(0.0, timeout))
        return False

    def close(self) -> None:
        pass
