"""How each kind of task turns items into model requests and model responses into sample rows.

One module per kind; each exposes ``METRICS`` (the headline metrics a card of that kind may name),
``units(items)`` (how many progress units the items are) and
``run(card, items, engine) -> list[dict]`` (one row per item, or per item and turn).
"""

from __future__ import annotations

from . import alignment, instruction, knowledge_qa, multiple_choice, short_answer, translation

KIND_MODULES = {
    "multiple_choice": multiple_choice,
    "short_answer": short_answer,
    "translation": translation,
    "instruction": instruction,
    "knowledge_qa": knowledge_qa,
    "alignment": alignment,
}


def kind_module(kind: str):
    if kind not in KIND_MODULES:
        raise KeyError(f"no runner for task kind {kind!r}")
    return KIND_MODULES[kind]


def known_metrics(kind: str, card=None) -> tuple[str, ...]:
    """The headline metrics a card of ``kind`` may name; with ``card``, also those its own options define
    (the filters of an lm-eval-style short-answer card, ``exact_match_<filter>``)."""
    module = kind_module(kind)
    defined = getattr(module, "defined_metrics", None)
    return tuple(module.METRICS) + (tuple(defined(card)) if card is not None and defined else ())
