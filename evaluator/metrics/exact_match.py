"""Exact match of short answers, with language-aware normalisation and numeric extraction."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from ..languages import NO_SPACE_SCRIPTS, script_of

# Languages whose decimal separator is a comma (and where "." or a space groups thousands).
DECIMAL_COMMA = {
    "deu", "fra", "spa", "ita", "por", "rus", "ukr", "pol", "ces", "slk", "nld", "swe", "nob", "dan",
    "fin", "est", "lvs", "lit", "ron", "bul", "hrv", "srp", "slv", "hun", "tur", "ell", "ind", "vie",
    "cat", "eus", "glg", "kaz", "aze", "azj", "bel", "mkd", "isl",
}
ENGLISH_ARTICLES = re.compile(r"\b(a|an|the)\b")
MINUS = "-\u2212\u2012\u2013\ufe63\uff0d"


def normalise_answer(text: str, language: str = "eng_Latn") -> str:
    """NFKC, case-folded, punctuation removed, articles removed in English, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    if language.startswith("eng"):
        text = ENGLISH_ARTICLES.sub(" ", text)
    if script_of(language) in NO_SPACE_SCRIPTS:
        return "".join(text.split())
    return " ".join(text.split())


def exact_match(prediction: str, answers: list[str], language: str = "eng_Latn") -> float:
    pred = normalise_answer(prediction, language)
    return float(any(pred == normalise_answer(a, language) for a in answers))


def ascii_digits(text: str) -> str:
    """Map every Unicode decimal digit (Bengali, Thai, Devanagari, full-width ...) to ASCII."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch.isdigit() and not ("0" <= ch <= "9"):
            try:
                out.append(str(unicodedata.digit(ch)))
                continue
            except (TypeError, ValueError):
                pass
        out.append(ch)
    return "".join(out)


# Digits joined by single separators. An ordinary space never joins ("5 10-dollar bills" is two numbers,
# not 510), except where a language groups thousands with spaces ("1 250 €"): there a head of 1-3 digits
# followed by exact groups of three. (NFKC has already made no-break and thin spaces ordinary ones.)
_TIGHT = r"\d+(?:[,.']\d+)*"
_NUMBER = re.compile(rf"[{MINUS}]?{_TIGHT}")
_NUMBER_SPACED = re.compile(rf"[{MINUS}]?(?:(?<!\d)\d{{1,3}}(?: \d{{3}}(?!\d))+(?:[,.]\d+)?|{_TIGHT})")


def _parse_number(token: str, decimal_comma: bool) -> Decimal | None:
    negative = token[0] in MINUS
    body = token.lstrip(MINUS)
    body = re.sub(r"[\u00a0\u202f\u2009 ']", "", body)  # spaces and apostrophes group thousands
    group_sep, dec_sep = (".", ",") if decimal_comma else (",", ".")
    if group_sep in body:
        parts = body.split(dec_sep)
        groups = parts[0].split(group_sep)
        if all(len(g) == 3 for g in groups[1:]) and groups[0]:
            body = "".join(groups) + ("." + parts[1] if len(parts) > 1 else "")
        else:
            # Not a grouping pattern: treat the separator as a decimal point (e.g. "12.5" in German).
            body = body.replace(group_sep, ".")
    else:
        body = body.replace(dec_sep, ".")
    if body.count(".") > 1:
        return None
    try:
        value = Decimal(body.strip("."))
    except InvalidOperation:
        return None
    return -value if negative else value


def extract_number(text: str, language: str = "eng_Latn") -> Decimal | None:
    """The last number written in ``text``, or None."""
    text = ascii_digits(text)
    decimal_comma = language.split("_")[0] in DECIMAL_COMMA
    pattern = _NUMBER_SPACED if decimal_comma else _NUMBER
    matches = [m.group(0).rstrip(".,' ") for m in pattern.finditer(text)]
    for token in reversed(matches):
        value = _parse_number(token, decimal_comma)
        if value is not None:
            return value
    return None


def number_match(prediction: str, answers: list[str], language: str = "eng_Latn") -> float:
    got = extract_number(prediction, language)
    if got is None:
        return 0.0
    for a in answers:
        want = extract_number(a, "eng_Latn")
        if want is not None and got == want:
            return 1.0
    return 0.0
