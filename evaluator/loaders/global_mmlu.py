"""Global-MMLU and Global-MMLU-Lite (Singh et al. 2024): ``<lang>/<split>-00000-of-00001.parquet``.

Each question carries its subject category and a cultural-sensitivity label (CS: culturally
sensitive, CA: culturally agnostic); both become categories so scores can be sliced by either.
"""

from __future__ import annotations

from pathlib import Path

from ..items import Item
from .tables import first_existing, read_records

LETTERS = "ABCD"


def load(card, language: str, folder: Path) -> list[Item]:
    code = card.options["file_codes"][language]
    split = card.source.split
    path = first_existing(folder, [f"{code}/{split}-*.parquet", f"{code}/{split}.jsonl", f"{code}/{split}-*.jsonl"])
    items = []
    for r in read_records(path):
        answer = str(r["answer"]).strip().upper()
        if answer not in LETTERS:
            raise ValueError(f"{path}: answer {r['answer']!r} is not one of A-D")
        label = (r.get("cultural_sensitivity_label") or "").strip()
        subject_cat = (r.get("subject_category") or "").strip()
        items.append(Item(
            item_id=str(r["sample_id"]),
            language=language,
            category=label or subject_cat,
            fields={"question": r["question"].strip(), **{f"option_{c}": str(r[f"option_{c}"]).strip() for c in "abcd"}},
            choices=list(LETTERS),
            gold=LETTERS.index(answer),
            meta={"also_categories": [f"subject:{subject_cat}"] if subject_cat else [], "subject": r.get("subject")},
        ))
    return items


# The loader names cards use (``source.loader``), found by evaluator.loaders.
LOADERS = {"global_mmlu": load}
