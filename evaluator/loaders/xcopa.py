"""XCOPA (Ponti et al. 2020): ``data/<lang>/{test,val}.<lang>.jsonl`` (GitHub) or ``<lang>/test-*.parquet`` (Hub).

Fields: premise, choice1, choice2, question (cause|effect), label (0|1), idx, changed. The prompt
follows lm-eval's: the premise without its final full stop, a connector word in the language
("because" / "therefore"), and each choice with a lower-cased first letter as the continuation.
"""

from __future__ import annotations

from pathlib import Path

from ..items import Item
from .tables import first_existing, read_records


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def load(card, language: str, folder: Path) -> list[Item]:
    code = card.options["file_codes"][language]
    short, long = {"test": ("test", "test"), "validation": ("val", "validation"), "val": ("val", "validation")}[card.source.split]
    # GitHub layout (data/<lang>/test.<lang>.jsonl) or the Hub's Parquet layout (<lang>/test-*.parquet).
    path = first_existing(folder, [f"data/{code}/{short}.{code}.jsonl", f"{code}/{long}-*.parquet"])
    connectors = card.options["connectors"][language]
    items = []
    for r in read_records(path):
        items.append(Item(
            item_id=str(r["idx"]),
            language=language,
            category=r["question"],
            fields={"premise": r["premise"].strip()[:-1], "connector": connectors[r["question"]]},
            choices=[_lower_first(r["choice1"]), _lower_first(r["choice2"])],
            gold=int(r["label"]),
            meta={"changed": bool(r.get("changed", False))},
        ))
    return items


# The loader names cards use (``source.loader``), found by evaluator.loaders.
LOADERS = {"xcopa": load}
