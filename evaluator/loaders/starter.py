"""The starter suite's files (``data/starter``, format in its README)."""

from __future__ import annotations

from pathlib import Path

from ..items import Item
from .jsonl import read_jsonl


def _file(folder: Path, language: str) -> Path:
    path = folder / f"{language}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no {language} file in {folder}")
    return path


def load_mc(card, language: str, folder: Path) -> list[Item]:
    return [
        Item(
            item_id=r["id"],
            language=language,
            category=r.get("category", ""),
            fields={"question": r["question"]},
            choices=list(r["choices"]),
            gold=int(r["answer"]),
        )
        for r in read_jsonl(_file(folder, language))
    ]


def load_qa(card, language: str, folder: Path) -> list[Item]:
    return [
        Item(
            item_id=r["id"],
            language=language,
            category=r.get("category", ""),
            fields={"question": r["question"]},
            gold=[str(a) for a in r["answers"]],
            meta={"answer_type": r.get("answer_type", "text")},
        )
        for r in read_jsonl(_file(folder, language))
    ]


def load_translate(card, language: str, folder: Path) -> list[Item]:
    """Each pair gives two items: English into the language, and the language into English."""
    items = []
    for r in read_jsonl(_file(folder, language)):
        for direction, src, tgt, src_text, ref in (
            ("eng_Latn-" + language, "eng_Latn", language, r["eng"], r["text"]),
            (language + "-eng_Latn", language, "eng_Latn", r["text"], r["eng"]),
        ):
            items.append(
                Item(
                    item_id=f"{r['id']}:{direction}",
                    language=language,
                    category=r.get("category", ""),
                    fields={"source": src_text},
                    gold=ref,
                    meta={"direction": direction, "source_lang": src, "target_lang": tgt, "segment": r["id"]},
                )
            )
    return items


def load_instruct(card, language: str, folder: Path) -> list[Item]:
    return [
        Item(item_id=r["id"], language=language, category=r.get("category", ""), turns=r["turns"])
        for r in read_jsonl(_file(folder, language))
    ]


def load_parallel(card, language: str, folder: Path) -> list[Item]:
    return [
        Item(item_id=r["id"], language=language, fields={"text": r["text"]}, gold=r["id"])
        for r in read_jsonl(_file(folder, language))
    ]


# The loader names cards use (``source.loader``), found by evaluator.loaders.
LOADERS = {"starter_mc": load_mc, "starter_qa": load_qa, "starter_translate": load_translate,
           "starter_instruct": load_instruct, "starter_parallel": load_parallel}
