"""The evaluation queue shared by the app (submissions), the workers and the dispatchers.

Standard library (and evaluator.settings, itself standard library) for the embedded SQLite default;
``postgresql://`` queues import psycopg when chosen (``requirements-cluster.txt``).
"""

from .queue import Queue, backend_for, open_queue, queue_url
from .records import (CANCELLED, COLUMNS, EVALUATOR, FAILED, FINISHED, MAX_ATTEMPTS, MODEL, PENDING, RUNNING,
                      STATUSES, Limit, LimitReached, QueueError, Request)
from .schema import LATEST as SCHEMA_VERSION

__all__ = ["Queue", "Request", "Limit", "LimitReached", "QueueError", "open_queue", "queue_url", "backend_for",
           "PENDING", "RUNNING", "FINISHED", "FAILED", "STATUSES", "MAX_ATTEMPTS", "MODEL", "EVALUATOR", "CANCELLED",
           "COLUMNS", "SCHEMA_VERSION"]
