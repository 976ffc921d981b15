"""Accuracy of loglikelihood multiple choice, raw and length-normalised.

Normalisations divide the summed loglikelihood of each choice by its length in characters
(lm-eval's ``acc_norm``: the choice text without the leading delimiter), UTF-8 bytes, or tokens
(lighteval's suggestion for non-Latin scripts, where character counts mean very different things).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NORMALISATIONS = ("acc", "acc_norm_char", "acc_norm_byte", "acc_norm_token")


def argmax(values: list[float]) -> int:
    """Index of the largest value; the first one on ties (as numpy.argmax)."""
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


@dataclass(frozen=True)
class ChoiceResult:
    predictions: dict[str, int]  # normalisation -> predicted index
    correct: dict[str, float]  # normalisation -> 1.0 / 0.0
    margin: float  # loglik gap between the best and second-best choice (fragility)


def choice_lengths(choices: list[str]) -> tuple[list[int], list[int]]:
    stripped = [c.strip() for c in choices]
    return [max(1, len(c)) for c in stripped], [max(1, len(c.encode("utf-8"))) for c in stripped]


def score_choices(loglik: list[float], choices: list[str], n_tokens: list[int], gold: int) -> ChoiceResult:
    n_chars, n_bytes = choice_lengths(choices)
    variants = {
        "acc": loglik,
        "acc_norm_char": [l / n for l, n in zip(loglik, n_chars)],
        "acc_norm_byte": [l / n for l, n in zip(loglik, n_bytes)],
        "acc_norm_token": [l / max(1, n) for l, n in zip(loglik, n_tokens)],
    }
    preds = {k: argmax(v) for k, v in variants.items()}
    ordered = sorted(loglik, reverse=True)
    margin = ordered[0] - ordered[1] if len(ordered) > 1 else math.inf
    return ChoiceResult(preds, {k: float(p == gold) for k, p in preds.items()}, margin)
