"""FLORES+ (NLLB Team; OLDI): ``<split>/<code>.jsonl`` (or ``.parquet``), one sentence per row.

Columns: id, iso_639_3, iso_15924, glottocode, text, url, domain, topic, ... Sentences with the same
``id`` are translations of each other. Used for translation (both directions with English) and,
through ``load_parallel``, as parallel text for cross-lingual alignment.
"""

from __future__ import annotations

from pathlib import Path

from ..items import Item
from .tables import first_existing, read_records

ENGLISH = "eng_Latn"


def _sentences(card, language: str, folder: Path) -> dict[str, dict]:
    code = card.options.get("file_codes", {}).get(language, language)
    split = card.source.split
    path = first_existing(folder, [f"{split}/{code}.jsonl", f"{split}/{code}.parquet", f"{split}/{code}-*.parquet"])
    return {str(r["id"]): r for r in read_records(path)}


def load_translation(card, language: str, folder: Path) -> list[Item]:
    eng = _sentences(card, ENGLISH, folder)
    other = _sentences(card, language, folder)
    items = []
    for sid in sorted(set(eng) & set(other), key=lambda s: int(s) if s.isdigit() else s):
        for src, tgt, src_text, ref in ((ENGLISH, language, eng[sid]["text"], other[sid]["text"]),
                                        (language, ENGLISH, other[sid]["text"], eng[sid]["text"])):
            items.append(Item(item_id=f"{sid}:{src}-{tgt}", language=language,
                              category=str(other[sid].get("domain") or ""), fields={"source": src_text}, gold=ref,
                              meta={"direction": f"{src}-{tgt}", "source_lang": src, "target_lang": tgt,
                                    "segment": sid}))
    return items


def load_parallel(card, language: str, folder: Path) -> list[Item]:
    rows = _sentences(card, language, folder)
    ids = sorted(rows, key=lambda s: int(s) if s.isdigit() else s)[: card.options.get("sentences", 100)]
    return [Item(item_id=sid, language=language, fields={"text": rows[sid]["text"]}, gold=sid) for sid in ids]


# The loader names cards use (``source.loader``), found by evaluator.loaders.
LOADERS = {"flores_translation": load_translation, "flores_parallel": load_parallel}
