"""How each kind of task turns items into model requests and model responses into sample rows.

One module per kind, named as the kind (a card's ``kind``); the kinds are the modules of this package
(``_common`` holds what they share). Each module follows ``Kind``. Listing the kinds imports none of
them, so that reading cards, as the web app does, loads no model code.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Protocol, runtime_checkable

from ..results import Score

KINDS: tuple[str, ...] = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


@runtime_checkable
class Kind(Protocol):
    """What a kind module provides; its metrics are registered in ``evaluator.metrics.registry``."""

    def units(self, items) -> int:
        """How many progress units the items are (items, or turns)."""

    def run(self, card, items, engine) -> list[dict]:
        """One sample row per item, or per item and turn."""

    def aggregate(self, card, rows: list[dict]) -> list[Score]:
        """The task's scores from its sample rows; the card's metric is the primary one."""


def kind_module(kind: str) -> Kind:
    if kind not in KINDS:
        raise KeyError(f"no runner for task kind {kind!r}")
    return importlib.import_module(f"{__name__}.{kind}")
