"""Verifiable instruction-following checks, as the reference checkers decide them.

Three references, each a *family* of rules (``FAMILIES``):

* ``en``: IFEval (Zhou et al. 2023, google-research ``instruction_following_eval``), which M-IFEval's
  ``en:`` ids reuse unchanged. Plain ids (``punctuation:no_comma``) of the ``ifeval`` checker.
* ``es``, ``fr``, ``ja``: M-IFEval (Dussolle et al. 2025, lightblue-tech/M-IFEval @0bc3143a), ids
  prefixed ``es:``/``fr:``/``ja:``: the same instruction types with each language's words and markers,
  plus language-specific types (``es:special_character:enie``, ``ja:letters:furigana`` ...).
* ``multi_if``: Multi-IF (He et al. 2024, facebookresearch/Multi-IF @1cdb53ed ``ifeval.py``): IFEval's
  rules, with words and sentences counted per detected language (Chinese/Japanese by character, Hindi
  by danda) and typographic quotes; plus the four types its code defines but does not register
  (``keywords:key_sentences``, ``detectable_content:rephrase_paragraph``, ``detectable_format:rephrase``,
  ``multi-turn:constrained_start``).

The rules follow the references' code: keyword, forbidden-word, section-splitter and postscript kwargs
are regular expressions there, and here too. The language words of each family (relations, fixed
answers) are data, in ``data/instruction_dialects.json``. Text tools (langdetect, Punkt, janome,
ja_sentence_segmenter) are those of the references (``if_text``).

Deliberate differences, where the reference cannot be reproduced:

* A kwarg a check needs that is missing or malformed makes the instruction not followed, with the
  reason recorded; the references draw a random value instead (e.g. a ``letter`` that is not one
  ASCII letter, as IFEval's ``#`` and ``!`` items, or a missing ``relation``).
* A kwarg that is not a valid regular expression is matched literally (the references crash).
* langdetect is seeded (the references are not, so their verdicts on borderline text vary by run).
* M-IFEval es counts words and sentences with spaCy's ``es_core_news_sm`` (and ``xx_sent_ud_sm``);
  here words are letter/digit runs (numbers with their decimal point, symbols count as words, as
  spaCy's non-punctuation tokens do) and sentences come from the language-aware splitter of
  ``ifeval_polyglot``, after the same removal of list markers.
* Multi-IF counts Thai words and sentences with pythainlp; Thai text here falls back to the
  default rules (Multi-IF's data has no Thai).
* ``detectable_format:rephrase`` raises in Multi-IF's code when the response has no ``*change*``;
  here such a response does not follow the instruction.
"""

from __future__ import annotations

import collections
import json
import operator
import re
import string
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from . import if_text
from .if_kwargs import integer as _int
from .if_kwargs import required as _required
from .if_kwargs import string as _str

__all__ = ["FAMILIES", "CHECKERS", "InstructionResult", "evaluate_response", "prompt_level", "resolve", "supported"]

DIALECTS_FILE = Path(__file__).resolve().parents[2] / "data" / "instruction_dialects.json"
FAMILIES = ("en", "es", "fr", "ja", "multi_if")
# A task card's ``options.checker`` names the family of its plain (unprefixed) ids.
CHECKERS = {"ifeval": "en", "m_ifeval": "en", "multi_if": "multi_if"}
_M_IFEVAL_PREFIX = re.compile(r"^(en|es|fr|ja):(.+)$")


@dataclass(frozen=True)
class InstructionResult:
    instruction_id: str
    strict: bool
    loose: bool
    error: str = ""  # why it could not be checked (unsupported id, bad kwargs); then not followed


@dataclass(frozen=True)
class _Ctx:
    family: str
    prompt: str

    @property
    def words(self) -> dict:
        return _dialects()[self.family]


Kwargs = dict[str, Any]
Check = Callable[[str, Kwargs, _Ctx], bool]

_OPS = {"<": operator.lt, ">=": operator.ge, "<=": operator.le}


@lru_cache(maxsize=1)
def _dialects() -> dict:
    return json.loads(DIALECTS_FILE.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------
# Kwargs
# --------------------------------------------------------------------------------------------------







def _nonempty(kw: Kwargs, key: str) -> str:
    value = _str(kw, key).strip()
    if not value:
        raise ValueError(f"kwarg {key!r} is empty")
    return value


def _str_list(kw: Kwargs, key: str) -> list[str]:
    value = _required(kw, key)
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"kwarg {key!r} must be a non-empty list of strings, got {value!r}")
    return list(value)


def _compare(actual: int, kw: Kwargs, ctx: _Ctx, relation_key: str, threshold_key: str) -> bool:
    relation = _str(kw, relation_key)
    symbol = ctx.words["relations"].get(relation)
    if symbol is None:
        raise ValueError(f"unknown relation {relation!r}; {ctx.family} knows {sorted(ctx.words['relations'])}")
    return _OPS[symbol](actual, _int(kw, threshold_key))


@lru_cache(maxsize=4096)
def _pattern(text: str) -> str:
    """A kwarg used as a regular expression, as the references use it; literal when it is not one."""
    try:
        re.compile(text)
    except re.error:
        return re.escape(text)
    return text


# --------------------------------------------------------------------------------------------------
# IFEval (en) and the checks M-IFEval and Multi-IF share with it
# --------------------------------------------------------------------------------------------------

def _keywords_existence(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return all(re.search(_pattern(k), text, flags=re.IGNORECASE) for k in sorted(_str_list(kw, "keywords")))


def _keywords_frequency(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    count = len(re.findall(_pattern(_nonempty(kw, "keyword")), text, flags=re.IGNORECASE))
    return _compare(count, kw, ctx, "relation", "frequency")


def _forbidden_words(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    words = sorted(set(_str_list(kw, "forbidden_words")))
    return not any(re.search(r"\b" + _pattern(w) + r"\b", text, flags=re.IGNORECASE) for w in words)


def _letter_frequency(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    letter = _str(kw, "letter").lower()
    if len(letter) != 1 or not "a" <= letter <= "z":
        raise ValueError(f"letter_frequency needs one ASCII letter, got {letter!r}")
    return _compare(collections.Counter(text.lower())[letter], kw, ctx, "let_relation", "let_frequency")


def _detected_is(text: str, code: str) -> bool:
    """langdetect's verdict; text it cannot judge counts as followed (as in every reference)."""
    try:
        return if_text.detect_language(text) == code
    except if_text.LanguageUndetectable:
        return True


def _response_language(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _detected_is(text, _nonempty(kw, "language"))


def _number_sentences(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _compare(len(if_text.sentences(text, "english")), kw, ctx, "relation", "num_sentences")


def _number_paragraphs(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    paragraphs = re.split(r"\s?\*\*\*\s?", text)
    count = len(paragraphs)
    for index, paragraph in enumerate(paragraphs):
        if not paragraph.strip():
            if index in (0, len(paragraphs) - 1):
                count -= 1
            else:
                return False
    return count == _int(kw, "num_paragraphs")


def _number_words(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _compare(if_text.count_words(text), kw, ctx, "relation", "num_words")


def _nth_paragraph(text: str, kw: Kwargs) -> tuple[str | None, int]:
    """The stripped nth paragraph ("\\n\\n"-separated; None when there is none) and the paragraph count."""
    expected, nth = _int(kw, "num_paragraphs"), _int(kw, "nth_paragraph")
    if not 0 < nth <= expected:
        raise ValueError(f"nth_paragraph {nth} must be within 1..num_paragraphs ({expected})")
    paragraphs = re.split(r"\n\n", text)
    count = sum(1 for p in paragraphs if p.strip())
    if nth > count:
        return None, count
    return paragraphs[nth - 1].strip() or None, count


def _nth_paragraph_first_word(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    paragraph, count = _nth_paragraph(text, kw)
    if paragraph is None:
        return False
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    first = ""
    for letter in word:
        if letter in {".", ",", "?", "!", "'", '"'}:
            break
        first += letter.lower()
    return count == _int(kw, "num_paragraphs") and first == _str(kw, "first_word").lower()


def _number_placeholders(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return len(re.findall(r"\[.*?\]", text)) >= _int(kw, "num_placeholders")


def _postscript(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    marker = _nonempty(kw, "postscript_marker")
    if marker == "P.P.S":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        pattern = r"\s*p\.\s?s\..*$"
    elif ctx.family == "es" and marker == "P.D.":
        pattern = r"\s*p\.\s?d\..*$"
    elif ctx.family == "es" and marker == "Nota":
        pattern = r"\s*nota.*$"
    elif ctx.family == "ja":
        pattern = r"\s*" + re.escape(marker) + r".*$"
    else:
        pattern = r"\s*" + _pattern(marker.lower()) + r".*$"
    if ctx.family == "ja":
        return bool(re.findall(pattern, text, flags=re.IGNORECASE | re.MULTILINE))
    return bool(re.findall(pattern, text.lower(), flags=re.MULTILINE))


def _number_bullet_lists(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    if ctx.family == "ja":
        count = len(re.findall(r"^\s*・[^\・].*$", text, flags=re.MULTILINE))
    else:
        count = len(re.findall(r"^\s*\*[^\*].*$", text, flags=re.MULTILINE))
        if ctx.family != "es":
            count += len(re.findall(r"^\s*-.*$", text, flags=re.MULTILINE))
    return count == _int(kw, "num_bullets")


def _constrained_response(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    text = text.strip()
    return any(option in text for option in ctx.words["constrained_responses"])


def _number_highlighted_sections(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    if ctx.family == "ja":
        count = sum(1 for h in re.findall(r"《[^\n《》]*》", text) if h.strip("《》").strip())
    else:
        count = sum(1 for h in re.findall(r"\*[^\n\*]*\*", text) if h.strip("*").strip())
        count += sum(1 for h in re.findall(r"\*\*[^\n\*]*\*\*", text)
                     if h.removeprefix("**").removesuffix("**").strip())
    return count >= _int(kw, "num_highlights")


def _multiple_sections(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    splitter = _pattern(_nonempty(kw, "section_spliter"))
    if ctx.family == "ja":
        pattern = r"\s?" + r"第[\d\uFF10-\uFF19]+" + splitter + r"\s?"
    else:
        pattern = r"\s?" + splitter + r"\s?\d+\s?"
    return len(re.split(pattern, text)) - 1 >= _int(kw, "num_sections")


def _json_format(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    value = (text.strip().removeprefix("```json").removeprefix("```Json").removeprefix("```JSON")
             .removeprefix("```").removesuffix("```").strip())
    try:
        json.loads(value)
    except (ValueError, RecursionError):
        return False
    return True


_TITLES = {"fr": ("##", r"##[^\n]+##"), "ja": ("『』", r"『[^\n]+』")}


def _title(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    marks, pattern = _TITLES.get(ctx.family, ("<>", r"<<[^\n]+>>"))
    return any(t.lstrip(marks[0]).rstrip(marks[-1]).strip() for t in re.findall(pattern, text))


def _two_responses(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    parts = text.split("******")
    valid = []
    for index, part in enumerate(parts):
        if part.strip():
            valid.append(part)
        elif index not in (0, len(parts) - 1):
            return False
    return len(valid) == 2 and valid[0].strip() != valid[1].strip()


def _repeat_prompt(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    to_repeat = _nonempty(kw, "prompt_to_repeat")
    if ctx.family == "ja":
        return text.strip().startswith(to_repeat)
    return text.strip().lower().startswith(to_repeat.lower())


def _end_checker(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    phrase = _nonempty(kw, "end_phrase")
    if ctx.family == "ja":
        return text.strip().strip("」』").endswith(phrase.strip("」』"))
    value = text.strip().strip('"').lower()
    if ctx.family == "es" and value.endswith("."):
        value = value[:-1]
    return value.endswith(phrase.lower())


def _capital_word_frequency(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    words = _spanish_words(text) if ctx.family == "es" else if_text.word_tokenize(text)
    return _compare(sum(1 for w in words if w.isupper()), kw, ctx, "capital_relation", "capital_frequency")


def _english_capital(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return text.isupper() and _detected_is(text, "en")


def _english_lowercase(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return text.islower() and _detected_is(text, "en")


def _no_comma(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return ("、" if ctx.family == "ja" else ",") not in text


_QUOTES = {"en": ('""',), "es": ('""',), "fr": ('""', "''", "«»"), "ja": ("「」",), "multi_if": ('""', "“”", "「」")}


def _quotation(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    value = text.strip()
    return len(value) > 1 and any(value[0] == q[0] and value[-1] == q[1] for q in _QUOTES[ctx.family])


IFEVAL_CHECKS: dict[str, Check] = {
    "keywords:existence": _keywords_existence,
    "keywords:frequency": _keywords_frequency,
    "keywords:forbidden_words": _forbidden_words,
    "keywords:letter_frequency": _letter_frequency,
    "language:response_language": _response_language,
    "length_constraints:number_sentences": _number_sentences,
    "length_constraints:number_paragraphs": _number_paragraphs,
    "length_constraints:number_words": _number_words,
    "length_constraints:nth_paragraph_first_word": _nth_paragraph_first_word,
    "detectable_content:number_placeholders": _number_placeholders,
    "detectable_content:postscript": _postscript,
    "detectable_format:number_bullet_lists": _number_bullet_lists,
    "detectable_format:constrained_response": _constrained_response,
    "detectable_format:number_highlighted_sections": _number_highlighted_sections,
    "detectable_format:multiple_sections": _multiple_sections,
    "detectable_format:json_format": _json_format,
    "detectable_format:title": _title,
    "combination:two_responses": _two_responses,
    "combination:repeat_prompt": _repeat_prompt,
    "startend:end_checker": _end_checker,
    "change_case:capital_word_frequency": _capital_word_frequency,
    "change_case:english_capital": _english_capital,
    "change_case:english_lowercase": _english_lowercase,
    "punctuation:no_comma": _no_comma,
    "startend:quotation": _quotation,
}

# --------------------------------------------------------------------------------------------------
# M-IFEval Spanish
# --------------------------------------------------------------------------------------------------

# spaCy's non-punctuation tokens, approximately: words and numbers (with inner . , ' and digits after
# them), and every other non-space character that is not punctuation (currency, maths, emoji).
_ES_TOKEN = re.compile(r"\w+(?:[.,'’]\w+)*|[^\w\s]")
_LIST_MARKERS = re.compile(r"(^\s*[\d]+\.\s*)|(^\s*[-*]\s*)", flags=re.MULTILINE)


def _spanish_words(text: str) -> list[str]:
    return [t for t in _ES_TOKEN.findall(text) if not unicodedata.category(t[0]).startswith("P")]


def _es_number_sentences(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    from .ifeval_polyglot import split_sentences

    count = len(split_sentences(_LIST_MARKERS.sub("", text), "spa_Latn"))
    return _compare(count, kw, ctx, "relation", "num_sentences")


def _es_number_words(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    cleaned = _LIST_MARKERS.sub("", text).replace("\n", " ")
    return _compare(len(_spanish_words(cleaned)), kw, ctx, "relation", "num_words")


def _es_nth_paragraph_first_word(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    paragraph, count = _nth_paragraph(text, kw)
    if paragraph is None:
        return False
    expected = _str(kw, "first_word").lower().split()
    words = ["".join(ch for ch in w if ch not in string.punctuation).lower() for w in paragraph.split()]
    return len(words) >= len(expected) and count == _int(kw, "num_paragraphs") and words[:len(expected)] == expected


def _es_letter_frequency(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _letter_frequency(text, kw, ctx)


def _spanish_capital(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    upper = all(c.isupper() or not c.isalpha() for c in unicodedata.normalize("NFKD", text)
                if not unicodedata.combining(c))
    return upper and _detected_is(text.lower(), "es")


def _spanish_lowercase(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return text.islower() and _detected_is(text, "es")


def _wrapped(text: str, pattern: str, marks: str) -> bool:
    return any(m.lstrip(marks[0]).rstrip(marks[1]).strip() for m in re.findall(pattern, text))


def _question_marks(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _wrapped(text, r"¿[^?]*\?", "¿?")


def _exclamation_marks(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _wrapped(text, r"¡[^!]*\!", "¡!")


def _words_with(text: str, letters: str, lower: bool) -> int:
    return sum(1 for w in _spanish_words(text) if any(ch in letters for ch in (w.lower() if lower else w)))


def _enie(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _words_with(text, "ñ", True) == _int(kw, "let_frequency")


def _dieresis(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _words_with(text, "ü", True) == _int(kw, "let_frequency")


def _tildes(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _compare(_words_with(text, "áéíóúÁÉÍÓÚ", False), kw, ctx, "relation", "num_words")


SPANISH_CHECKS: dict[str, Check] = {
    "length_constraints:number_sentences": _es_number_sentences,
    "length_constraints:number_words": _es_number_words,
    "length_constraints:nth_paragraph_first_word": _es_nth_paragraph_first_word,
    "change_case:spanish_capital": _spanish_capital,
    "change_case:spanish_lowercase": _spanish_lowercase,
    "punctuation:question_marks": _question_marks,
    "punctuation:exclamation_marks": _exclamation_marks,
    "special_character:enie": _enie,
    "special_character:dieresis": _dieresis,
    "special_character:tildes": _tildes,
}
_NOT_IN_SPANISH = ("change_case:english_capital", "change_case:english_lowercase")

# --------------------------------------------------------------------------------------------------
# M-IFEval French
# --------------------------------------------------------------------------------------------------

def _fr_number_sentences(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _compare(len(if_text.sentences(text, "french")), kw, ctx, "relation", "num_sentences")


def _french_capital(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    # Lowercased for detection: langdetect takes capitalised French for German.
    return text.isupper() and _detected_is(text.lower(), "fr")


def _french_lowercase(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return text.islower() and _detected_is(text, "fr")


def _ethel_or_cedilla(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    char = _str(kw, "forbidden_char")
    return not char or re.search(re.escape(char), text, flags=re.IGNORECASE) is None


_TUTOIEMENT = re.compile(r"\btu\b|\bte\b|\bt'\b|\btoi\b|\bton\b|\bta\b|\btes\b", flags=re.IGNORECASE)


def _informal_address(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _TUTOIEMENT.search(text) is not None


def _no_digits(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return re.search(r"\d", text) is None


_ACCENTED = re.compile(r"[àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝ]")


def _no_accents(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _ACCENTED.search(text) is None


def _without_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _accents(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    targets = _required(kw, "word_to_accentuate")
    if not isinstance(targets, dict):
        raise ValueError(f"word_to_accentuate must map words to their accented form, got {targets!r}")
    for word in re.findall(r"\b\w+\b", text.lower()):
        bare = _without_accents(word)
        if bare in targets and word != targets[bare]:
            return False
    return True


FRENCH_CHECKS: dict[str, Check] = {
    "length_constraints:number_sentences": _fr_number_sentences,
    "change_case:french_capital": _french_capital,
    "change_case:french_lowercase": _french_lowercase,
    "special_character:ethel_or_cedilla": _ethel_or_cedilla,
    "detectable_content:informal_address": _informal_address,
    "special_character:no_accents": _no_accents,
    "special_character:accents": _accents,
    "detectable_content:no_digits": _no_digits,
}

# --------------------------------------------------------------------------------------------------
# M-IFEval Japanese
# --------------------------------------------------------------------------------------------------

def _surfaces(text: str) -> list[str]:
    return [surface for surface, _ in if_text.japanese_tokens(text)]


def _ja_keywords_existence(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    words = set(_surfaces(text))
    return all(k in words for k in _str_list(kw, "keywords"))


def _ja_keywords_frequency(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    count = collections.Counter(_surfaces(text))[_nonempty(kw, "keyword")]
    return _compare(count, kw, ctx, "relation", "frequency")


def _ja_forbidden_words(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    words = set(_surfaces(text))
    return not any(w in words for w in _str_list(kw, "forbidden_words"))


def _ja_letter_frequency(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    letter = _nonempty(kw, "letter")
    if len(letter) != 1 or not "ぁ" <= letter <= "ん":
        raise ValueError(f"ja letter_frequency needs one hiragana letter, got {letter!r}")
    counts = collections.Counter(text)
    return _compare(counts[letter] + counts[chr(ord(letter) + 96)], kw, ctx, "let_relation", "let_frequency")


def _ja_number_sentences(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _compare(if_text.count_japanese_sentences(text), kw, ctx, "relation", "num_sentences")


def _ja_number_letters(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _compare(len(text), kw, ctx, "relation", "num_letters")


def _ja_nth_paragraph_first_word(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    paragraph, count = _nth_paragraph(text, kw)
    if paragraph is None:
        return False
    expected = _str(kw, "first_word").lower()
    paragraph = paragraph.lstrip("「").lstrip("『")
    return count == _int(kw, "num_paragraphs") and paragraph[:len(expected)] == expected


def _ja_numbered_lists(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return len(re.findall(r"^\s*\d+\.\s.*$", text, flags=re.MULTILINE)) == _int(kw, "num_items")


def _ja_no_period(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return "。" not in text


_KANJI_RUN = re.compile(r"[\u4e00-\u9faf]+")
_KANJI_WITH_READING = re.compile(r"[\u4e00-\u9faf]+（[ぁ-ん]+）")


def _ja_furigana(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return len(_KANJI_RUN.findall(text)) == len(_KANJI_WITH_READING.findall(text))


def _ja_kanji(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return _compare(len(re.findall(r"[\u4e00-\u9faf]", text)), kw, ctx, "relation", "kanji_limit")


def _not_letter(ch: str) -> bool:
    return not unicodedata.category(ch).startswith("L")


def _ja_hiragana_only(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return all("ぁ" <= ch <= "ん" or ch == "ー" or _not_letter(ch) for ch in text)


def _ja_katakana_only(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return all("ァ" <= ch <= "ン" or ch in "ー・" or "ｦ" <= ch <= "ﾟ" or _not_letter(ch) for ch in text)


def _ja_no_hiragana(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return not any("ぁ" <= ch <= "ゖ" for ch in text)


def _ja_no_katakana(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return not any("ァ" <= ch <= "ヺ" or "ｦ" <= ch <= "ﾟ" for ch in text)


def _ja_kansuuji(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return re.search(r"\d", text) is None


def _without_quotes(text: str) -> str:
    return re.sub(r"『.*?』", "", re.sub(r"「.*?」", "", text))


def _ja_sentence_unified_end(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    ending = _str(kw, "ending")
    return all(not s or s.endswith(ending) for s in re.split(r"[。！？]", _without_quotes(text)))


def _ja_nominal_ending(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    tokens = if_text.japanese_tokens(_without_quotes(text))
    count = sum(1 for (prev, (surface, _)) in zip(tokens, tokens[1:])
                if surface in "。！？" and prev[1].startswith("名詞"))
    return count >= _int(kw, "count")


JAPANESE_CHECKS: dict[str, Check] = {
    "keywords:existence": _ja_keywords_existence,
    "keywords:frequency": _ja_keywords_frequency,
    "keywords:forbidden_words": _ja_forbidden_words,
    "keywords:letter_frequency": _ja_letter_frequency,
    "length_constraints:number_sentences": _ja_number_sentences,
    "length_constraints:number_letters": _ja_number_letters,
    "length_constraints:nth_paragraph_first_word": _ja_nth_paragraph_first_word,
    "detectable_format:number_numbered_lists": _ja_numbered_lists,
    "detectable_format:nominal_ending": _ja_nominal_ending,
    "startend:sentence_unified_end": _ja_sentence_unified_end,
    "letters:furigana": _ja_furigana,
    "letters:kansuuji": _ja_kansuuji,
    "letters:no_katakana": _ja_no_katakana,
    "letters:katakana_only": _ja_katakana_only,
    "letters:no_hiragana": _ja_no_hiragana,
    "letters:hiragana_only": _ja_hiragana_only,
    "letters:kanji": _ja_kanji,
    "punctuation:no_period": _ja_no_period,
}
_NOT_IN_JAPANESE = ("length_constraints:number_words", "change_case:capital_word_frequency",
                    "change_case:english_capital", "change_case:english_lowercase")

# --------------------------------------------------------------------------------------------------
# Multi-IF
# --------------------------------------------------------------------------------------------------

_CJK_CHARS = r"[\u4e00-\u9fff\u3400-\u4dbf]|[\u3040-\u309f\u30a0-\u30ff]|[\uac00-\ud7af]"
_NON_ALNUM = (r"[\\.\!\?\．\/_,\{\}<>:;$%^&*(+\"\'+——！，。？、`~@#￥……（）：；《）《》“”()\[\]»〔〕\-「」]+")


def _detected_or_english(text: str) -> str:
    try:
        return if_text.detect_language(text)
    except if_text.LanguageUndetectable:
        return "en"


def _count_words_cjk(text: str) -> int:
    """Multi-IF's Chinese/Japanese count: each Han/Kana/Hangul character, other words, emoji."""
    import emoji

    text = re.sub(_NON_ALNUM, "", text)
    emojis = emoji.emoji_count(text)
    text = emoji.replace_emoji(text, "")
    return len(re.findall(_CJK_CHARS, text)) + len(re.sub(_CJK_CHARS, " ", text).split()) + emojis


def _split_cjk_sentences(text: str) -> list[str]:
    return [s for line in text.splitlines()
            for s in re.findall(r"[^!?。\.\!\?\！\？\．\n]+[!?。\.\!\?\！\？\．\n]?", line.strip())]


_CJK_CODES = ("zh", "zh-cn", "zh-tw", "ja")


def _mi_number_sentences(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    lang = _detected_or_english(text)
    if lang == "hi":
        count = len([s for s in re.split(r"(?<=[।!?])\s*", text) if s.strip()])
    elif lang in _CJK_CODES:
        count = len(_split_cjk_sentences(text))
    else:
        count = len(if_text.sentences(text, "english"))
    return _compare(count, kw, ctx, "relation", "num_sentences")


def _mi_number_words(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    count = _count_words_cjk(text) if _detected_or_english(text) in _CJK_CODES else if_text.count_words(text)
    return _compare(count, kw, ctx, "relation", "num_words")


def _key_sentences(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    found = set(if_text.ifeval_split_sentences(text))
    return sum(1 for s in _str_list(kw, "key_sentences") if s in found) == _int(kw, "num_sentences")


def _rephrase_paragraph(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    response = collections.Counter(re.findall(r"\w+", text.lower()))
    original = collections.Counter(re.findall(r"\w+", _str(kw, "original_paragraph").lower()))
    shared = sum(min(n, response[w]) for w, n in original.items())
    return _int(kw, "low") <= shared <= _int(kw, "high")


def _without_changes(text: str) -> str:
    return re.sub(r"\*.*\*", "", text)


def _rephrase(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    original = _str(kw, "original_message")
    if not re.search(r"\*.*\*", original):
        raise ValueError("original_message must mark its changes as *change me*")
    return bool(re.search(r"\*.*\*", text)) and _without_changes(text) == _without_changes(original)


def _constrained_start(text: str, kw: Kwargs, ctx: _Ctx) -> bool:
    return re.search(r"^\s*" + _pattern(_nonempty(kw, "starter")) + r".*$", text, flags=re.MULTILINE) is not None


MULTI_IF_CHECKS: dict[str, Check] = {
    "length_constraints:number_sentences": _mi_number_sentences,
    "length_constraints:number_words": _mi_number_words,
    "keywords:key_sentences": _key_sentences,
    "detectable_content:rephrase_paragraph": _rephrase_paragraph,
    "detectable_format:rephrase": _rephrase,
    "multi-turn:constrained_start": _constrained_start,
}

# --------------------------------------------------------------------------------------------------
# Registries and evaluation
# --------------------------------------------------------------------------------------------------


def _family(overrides: dict[str, Check], dropped: tuple[str, ...] = ()) -> dict[str, Check]:
    checks = {k: v for k, v in IFEVAL_CHECKS.items() if k not in dropped}
    checks.update(overrides)
    return checks


REGISTRIES: dict[str, dict[str, Check]] = {
    "en": dict(IFEVAL_CHECKS),
    "es": _family(SPANISH_CHECKS, _NOT_IN_SPANISH),
    "fr": _family(FRENCH_CHECKS, ("change_case:english_capital", "change_case:english_lowercase")),
    "ja": _family(JAPANESE_CHECKS, _NOT_IN_JAPANESE),
    "multi_if": _family(MULTI_IF_CHECKS),
}


def resolve(instruction_id: str, checker: str = "ifeval") -> tuple[Check, str]:
    """The check for an id and its family; KeyError with the reason when there is none.

    ``en:``/``es:``/``fr:``/``ja:`` ids are M-IFEval's; plain ids belong to the ``checker``'s family.
    """
    if checker not in CHECKERS:
        raise KeyError(f"unknown instruction checker {checker!r}; known: {sorted(CHECKERS)}")
    m = _M_IFEVAL_PREFIX.match(instruction_id)
    family, name = (m.group(1), m.group(2)) if m else (CHECKERS[checker], instruction_id)
    check = REGISTRIES[family].get(name)
    if check is None:
        raise KeyError(f"instruction {instruction_id!r} is not implemented by the {family} checker")
    return check, family


def supported(instruction_id: str, checker: str = "ifeval") -> bool:
    try:
        resolve(instruction_id, checker)
    except KeyError:
        return False
    return True


def _loose_variants(response: str) -> list[str]:
    """IFEval's loose inputs: without the first and/or last line, each also without any '*'."""
    lines = response.split("\n")
    bases = [response, "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return bases + [b.replace("*", "") for b in bases]


def evaluate_response(instruction_ids: list[str], kwargs_list: list[dict], response: str, checker: str = "ifeval",
                      prompt: str = "") -> list[InstructionResult]:
    """Strict and loose verdicts for each instruction of one response.

    A whitespace-only response follows nothing (Multi-IF checks it strictly as it is, like its code).
    An instruction the checker does not implement, or whose kwargs are missing or malformed, is not
    followed and carries the reason in ``error``: it is never dropped.
    """
    if len(instruction_ids) != len(kwargs_list):
        raise ValueError(f"{len(instruction_ids)} instruction ids but {len(kwargs_list)} kwargs dicts")
    response = response if isinstance(response, str) else ""
    variants = _loose_variants(response)
    results = []
    for instruction_id, raw in zip(instruction_ids, kwargs_list):
        try:
            check, family = resolve(instruction_id, checker)
            ctx = _Ctx(family=family, prompt=prompt or "")
            kwargs = {k: v for k, v in (raw or {}).items() if v is not None}
            strict_ok = check(response, kwargs, ctx)  # first, so that bad kwargs show for any response
            strict = strict_ok and bool(response if family == "multi_if" else response.strip())
            loose = (strict_ok and bool(response.strip())) or any(
                v.strip() and check(v, kwargs, ctx) for v in variants[1:])
        except (KeyError, ValueError, TypeError) as exc:
            reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            results.append(InstructionResult(instruction_id, False, False, str(reason)))
            continue
        results.append(InstructionResult(instruction_id, bool(strict), bool(loose)))
    return results


def prompt_level(results: list[InstructionResult]) -> tuple[bool, bool]:
    """(every instruction followed strictly, every instruction followed loosely)."""
    return all(r.strict for r in results), all(r.loose for r in results)
