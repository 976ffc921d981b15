"""The queue's schema, created and migrated by the code that opens the queue, never by hand.

Each migration has a version and runs once, in order, inside one transaction together with its
row in ``queue_schema``; concurrent openers serialise on the schema lock, so two processes starting
at once cannot both apply a step. A database written by a newer release is refused rather than
misread. Version 1 is the table the embedded SQLite queue has always had (``IF NOT EXISTS``), so an
existing data folder is adopted as it is and upgraded in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from .records import QueueError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]  # {float} and {bigint} become each database's type names


MIGRATIONS = (
    Migration(1, "requests", (
        """CREATE TABLE IF NOT EXISTS requests (
            id TEXT PRIMARY KEY,
            model_id TEXT NOT NULL,
            revision TEXT NOT NULL,
            sha TEXT NOT NULL,
            precision TEXT NOT NULL,
            source TEXT NOT NULL,
            suite TEXT NOT NULL,
            tasks TEXT NOT NULL,
            params {bigint},
            license TEXT,
            submitter TEXT,
            client TEXT,
            status TEXT NOT NULL,
            submitted_at {float} NOT NULL,
            started_at {float},
            finished_at {float},
            claimed_by TEXT,
            lease_until {float},
            heartbeat_at {float},
            attempts INTEGER NOT NULL DEFAULT 0,
            done INTEGER NOT NULL DEFAULT 0,
            total INTEGER NOT NULL DEFAULT 0,
            eta_s {float},
            error TEXT,
            error_kind TEXT,
            run_id TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS requests_status ON requests(status, submitted_at)",
        "CREATE INDEX IF NOT EXISTS requests_model ON requests(model_id, sha, precision)",
    )),
    Migration(2, "placement of each attempt, GPU override, rate-limit indexes", (
        "ALTER TABLE requests ADD COLUMN gpus {float}",
        "ALTER TABLE requests ADD COLUMN node TEXT",
        "ALTER TABLE requests ADD COLUMN gpu_ids TEXT",
        "ALTER TABLE requests ADD COLUMN dispatch_ref TEXT",
        "CREATE INDEX IF NOT EXISTS requests_submitter ON requests(submitter, submitted_at)",
        "CREATE INDEX IF NOT EXISTS requests_client ON requests(client, submitted_at)",
        "CREATE INDEX IF NOT EXISTS requests_lease ON requests(status, lease_until)",
    )),
    Migration(3, "models behind endpoints: the name of the API key's variable", (
        "ALTER TABLE requests ADD COLUMN api_key_env TEXT",
    )),
)
LATEST = MIGRATIONS[-1].version
_SCHEMA_LOCK = "polyglot-queue-schema"


def migrate(backend) -> int:
    """Bring the database to ``LATEST``; returns the version it was at before."""
    try:
        current = version(backend)
    except Exception:  # noqa: BLE001 - no schema table yet (or unreadable): take the locked path
        current = None
    if current == LATEST:
        return current
    with backend.transaction() as tx:
        backend.lock(tx, [_SCHEMA_LOCK])
        tx.execute(f"CREATE TABLE IF NOT EXISTS queue_schema (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                   f"applied_at {backend.types['float']} NOT NULL)")
        row = tx.one("SELECT MAX(version) AS v FROM queue_schema")
        current = (row or {}).get("v") or 0
        if current > LATEST:
            raise QueueError(f"the queue at {backend.where} has schema version {current}, newer than this release "
                             f"knows ({LATEST}): upgrade this installation before using it")
        now = backend.now(tx)
        for m in MIGRATIONS:
            if m.version <= current:
                continue
            for statement in m.statements:
                tx.execute(statement.format(**backend.types))
            tx.execute("INSERT INTO queue_schema (version, description, applied_at) VALUES (?, ?, ?)",
                       (m.version, m.description, now))
    return current


def version(backend) -> int:
    with backend.read() as tx:
        row = tx.one("SELECT MAX(version) AS v FROM queue_schema")
    return (row or {}).get("v") or 0
