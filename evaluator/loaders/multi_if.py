"""Multi-IF (He et al. 2024): one CSV, ``multiIF_20241018.csv``, three turns per conversation.

Columns: key, language (an English name: "French"), turn_{1,2,3}_prompt (a JSON chat message),
turn_{k}_instruction_id_list (JSON list, cumulative over turns) and turn_{k}_kwargs (a JSON list
of JSON strings). Missing turns are empty or "None".
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from ..items import Item


def _turn(row: dict, k: int) -> dict | None:
    raw = (row.get(f"turn_{k}_prompt") or "").strip()
    if raw in ("", "None"):
        return None
    message = json.loads(raw)
    ids = json.loads(row[f"turn_{k}_instruction_id_list"])
    kwargs = [json.loads(x) if isinstance(x, str) else (x or {}) for x in json.loads(row[f"turn_{k}_kwargs"])]
    kwargs = [{a: b for a, b in kw.items() if b is not None} for kw in kwargs]
    return {"prompt": message["content"], "instruction_id_list": ids, "kwargs": kwargs}


def load(card, language: str, folder: Path) -> list[Item]:
    name = card.options["file_codes"][language]
    path = folder / card.options.get("file", "multiIF_20241018.csv")
    if not path.is_file():
        raise FileNotFoundError(f"Multi-IF file missing: {path}")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    items = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["language"].strip() != name:
                continue
            turns = [t for t in (_turn(row, k) for k in (1, 2, 3)) if t is not None]
            if turns:
                items.append(Item(item_id=row["key"], language=language, category="", turns=turns))
    return items


# The loader names cards use (``source.loader``), found by evaluator.loaders.
LOADERS = {"multi_if": load}
