"""Which language a text is written in (lingua, offline), in the project's ISO 639-3 terms."""

from __future__ import annotations

from functools import lru_cache

# lingua reports macrolanguage codes where the language table holds the individual language.
_TO_LINGUA = {"arb": "ara", "swh": "swa", "pes": "fas", "zsm": "msa", "cmn": "zho", "ekk": "est", "lvs": "lav",
              "azj": "aze", "uzn": "uzb", "khk": "mon", "npi": "nep", "gaz": "orm", "als": "sqi", "plt": "mlg",
              "nob": "nob", "pbt": "pus", "ydd": "yid"}


@lru_cache(maxsize=1)
def detector():
    """One lingua detector for the process (its language models load lazily, on first use)."""
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().build()


def lingua_code(iso639_3: str) -> str:
    return _TO_LINGUA.get(iso639_3, iso639_3)


def _detect(text: str):
    text = (text or "").strip()
    return detector().detect_language_of(text) if len(text) >= 3 else None


def detect_iso639_3(text: str) -> str | None:
    """ISO 639-3 code (lingua's, macrolanguages as lingua names them) or None when unsure."""
    lang = _detect(text)
    return lang.iso_code_639_3.name.lower() if lang is not None else None


def is_untranslated(text: str, source: str, target: str) -> tuple[bool, str | None]:
    """Whether a translation was left in its source language (and the language detected, if any).

    ``source`` and ``target`` are table codes such as ``fra_Latn``; undecidable text counts as translated."""
    detected = detect_iso639_3(text)
    if detected is None or source == target:
        return False, detected
    return (detected == lingua_code(source.split("_")[0]) and detected != lingua_code(target.split("_")[0])), detected
