"""What crosses the queue's boundary: the request record, its statuses, rate limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from evaluator.errors import PolyglotError

PENDING, RUNNING, FINISHED, FAILED = "PENDING", "RUNNING", "FINISHED", "FAILED"
STATUSES = (PENDING, RUNNING, FINISHED, FAILED)
MAX_ATTEMPTS = 3
# error_kind of a FAILED request: the submission's fault, the evaluator's, or an admin's decision.
MODEL, EVALUATOR, CANCELLED = "model", "evaluator", "cancelled"


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
    error_kind: str | None = None  # MODEL, EVALUATOR or CANCELLED
    run_id: str | None = None
    gpus: float | None = None  # an admin's override of the GPUs the evaluation needs
    node: str | None = None  # where the current attempt runs (host name or cluster node)
    gpu_ids: str | None = None  # the accelerators it was given ("0,1"; "" for none)
    dispatch_ref: str | None = None  # the cluster's handle of the current attempt (e.g. a Ray task id)
    # A model behind an endpoint (source "endpoint"): the environment variable holding its API key on the
    # workers; the key itself never enters the queue.
    api_key_env: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


COLUMNS = tuple(f.name for f in fields(Request))
LIMITED_FIELDS = ("submitter", "client")


@dataclass(frozen=True)
class Limit:
    """At most ``max_count`` requests with ``field == value`` submitted since ``since`` (epoch seconds)."""

    field: str  # one of LIMITED_FIELDS
    value: str
    max_count: int
    since: float
    also: tuple[str, ...] = ()  # earlier spellings of the same key whose requests count too

    @property
    def values(self) -> tuple[str, ...]:
        return (self.value, *self.also)

    def __post_init__(self):
        if self.field not in LIMITED_FIELDS:
            raise ValueError(f"a limit counts one of {LIMITED_FIELDS}, not {self.field!r}")


class LimitReached(PolyglotError):
    """Raised by ``Queue.add`` when a limit would be exceeded; nothing was queued."""

    def __init__(self, limit: Limit, count: int):
        super().__init__(f"{limit.field} has {count} requests since {limit.since:.0f} (limit {limit.max_count})")
        self.limit, self.count = limit, count


class QueueError(PolyglotError, RuntimeError):
    """The queue cannot be used as configured; the message says why."""
