"""Belebele (Bandarkar et al. 2024): ``data/<flores code>.jsonl`` (Hub layout since 2024).

Fields: link, question_number, flores_passage, question, mc_answer1..4, correct_answer_num ("1".."4",
1-based), dialect, ds. Several questions share a passage (the ``link``), which is kept in meta.
"""

from __future__ import annotations

from pathlib import Path

from ..items import Item
from .tables import first_existing, read_records


def load(card, language: str, folder: Path) -> list[Item]:
    code = card.options.get("file_codes", {}).get(language, language)
    path = first_existing(folder, [f"data/{code}.jsonl", f"{code}.jsonl", f"data/{code}.parquet"])
    items = []
    for n, r in enumerate(read_records(path)):
        gold = int(str(r["correct_answer_num"]).strip()) - 1
        if not 0 <= gold <= 3:
            raise ValueError(f"{path}: correct_answer_num {r['correct_answer_num']!r} is not 1-4")
        items.append(Item(
            item_id=f"{r['link']}#{r['question_number']}" if r.get("link") else str(n),
            language=language,
            category="",
            fields={"passage": r["flores_passage"].strip(), "question": r["question"].strip(),
                    **{f"answer{i}": r[f"mc_answer{i}"].strip() for i in range(1, 5)}},
            choices=["A", "B", "C", "D"],
            gold=gold,
            meta={"passage_id": r.get("link", "")},
        ))
    return items


# The loader names cards use (``source.loader``), found by evaluator.loaders.
LOADERS = {"belebele": load}
