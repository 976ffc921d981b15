"""MultiLoKo (Hupkes et al. 2025): ``<language>/dev.jsonl`` per language name (e.g. ``french``).

Fields: text, question, targets (acceptable short answers), target (long answer), id, output_type
(what to produce, in the question's language, e.g. "una data"). Locally sourced questions; the
mother-tongue effect compares them with their human translation into English
(``<language>/dev_translated_human_english.jsonl``), loaded under the same language as the category
``english_translation`` when present. Each item names the language it is asked in
(``meta["prompt_language"]``): its own for local questions, English for the translations.
"""

from __future__ import annotations

from pathlib import Path

from ..items import Item
from .tables import first_existing, read_records


def _items(path: Path, language: str, category: str, suffix: str, prompt_language: str) -> list[Item]:
    # Translated questions are scored per category only: the language's score is on its own questions.
    supplementary = {"supplementary": True} if suffix else {}
    return [
        Item(item_id=f"{r['id']}{suffix}", language=language, category=category,
             fields={"question": r["question"], "output_type": str(r.get("output_type") or "")},
             gold=[str(t) for t in r["targets"]],
             meta={"answer_type": "text", "source_page": r["id"], "prompt_language": prompt_language, **supplementary})
        for r in read_records(path)
    ]


def load(card, language: str, folder: Path) -> list[Item]:
    name = card.options["file_codes"][language]
    roots = [folder / name, folder / "benchmark_data" / name]
    path = first_existing(folder, [f"{name}/dev.jsonl", f"benchmark_data/{name}/dev.jsonl", f"{name}/dev-*.parquet"])
    items = _items(path, language, "local", "", name)
    if name != "english":
        for root in roots:
            translated = root / "dev_translated_human_english.jsonl"
            if translated.is_file():
                # The same questions, human-translated into English: the mother-tongue effect compares the two.
                items += _items(translated, language, "english_translation", ":en", "english")
                break
    return items


# The loader names cards use (``source.loader``), found by evaluator.loaders.
LOADERS = {"multiloko": load}
