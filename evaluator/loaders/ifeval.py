"""IFEval and M-IFEval: JSON Lines of {key, prompt, instruction_id_list, kwargs}."""

from __future__ import annotations

from pathlib import Path

from ..items import Item
from .jsonl import read_jsonl


def load(card, language: str, folder: Path) -> list[Item]:
    pattern = card.options.get("file_pattern", "data/{code}_input_data.jsonl")
    path = folder / pattern.format(code=card.options["file_codes"][language])
    if not path.is_file():
        raise FileNotFoundError(f"instruction file missing: {path}")
    items = []
    for r in read_jsonl(path):
        ids = list(r["instruction_id_list"])
        kwargs = [{k: v for k, v in (kw or {}).items() if v is not None} for kw in r["kwargs"]]
        group = ids[0].split(":")[-2] if ids and ids[0].count(":") >= 1 else ""
        items.append(Item(item_id=str(r["key"]), language=language, category=group,
                          turns=[{"prompt": r["prompt"], "instruction_id_list": ids, "kwargs": kwargs}]))
    return items


# The loader names cards use (``source.loader``), found by evaluator.loaders.
LOADERS = {"ifeval": load}
