"""MGSM (Shi et al. 2022): ``mgsm_<lang>.tsv``, question TAB answer_number, no header."""

from __future__ import annotations

import csv
from pathlib import Path

from ..items import Item


def load(card, language: str, folder: Path) -> list[Item]:
    code = card.options["file_codes"][language]
    path = folder / f"mgsm_{code}.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"MGSM file missing: {path}")
    items = []
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not row:
                continue
            if len(row) != 2:
                raise ValueError(f"{path}:{n}: expected 2 tab-separated fields, got {len(row)}")
            question, answer = row
            # answer_number is written with thousands separators ("2,125"), as the Hub script strips them.
            items.append(Item(item_id=f"{code}-{n:03d}", language=language, category="arithmetic",
                              fields={"question": question.strip()}, gold=[answer.strip().replace(",", "")],
                              meta={"answer_type": "number"}))
    return items
