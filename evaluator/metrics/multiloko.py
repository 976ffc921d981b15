"""MultiLoKo's answer normalisation, exact match and F1 (facebookresearch/multiloko ``eval.py``).

normalize = squash whitespace ∘ drop English articles ∘ drop punctuation ∘ lower case, the same for
every language (the reference drops only "a", "an", "the", wherever a word boundary allows). The
punctuation set is ASCII's plus the reference's CJK and European marks. EM and F1 are the best over
the accepted targets; F1 is over whitespace tokens of the normalised strings.
"""

from __future__ import annotations

import re
import string
from collections import Counter

PUNCTUATION = frozenset(string.punctuation + "„“«»¡¿《》！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃》"
                        "「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏.")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, targets: list[str]) -> float:
    """1.0 when the normalised prediction equals a normalised target."""
    pred = normalize_answer(prediction)
    return max((float(pred == normalize_answer(t)) for t in targets), default=0.0)


def _f1(pred: list[str], gold: list[str]) -> float:
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def f1(prediction: str, targets: list[str]) -> float:
    pred = normalize_answer(prediction).split()
    return max((_f1(pred, normalize_answer(t).split()) for t in targets), default=0.0)
