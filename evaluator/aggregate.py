"""From per-sample rows to scores: each kind pools its rows into Score records (``Kind.aggregate``).

Scores are computed from the sample rows only, so anyone holding the rows can recompute them;
how each metric pools and what interval it carries is its record's (``evaluator.metrics.registry``).
"""

from __future__ import annotations

from .kinds import kind_module
from .results import Score


def aggregate_task(card, rows: list[dict]) -> list[Score]:
    """Scores of one task from its sample rows."""
    return kind_module(card.kind).aggregate(card, rows)
