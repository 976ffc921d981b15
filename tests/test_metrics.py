"""Metrics against values computed by hand."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from evaluator.metrics.exact_match import exact_match, extract_number, normalise_answer, number_match
from evaluator.metrics.multiple_choice import score_choices
from evaluator.stats import bootstrap_interval, mean_with_interval, wilson_interval


def test_multiple_choice_normalisations_by_hand():
    # loglik: A -6 over "ab" (2 chars, 2 bytes, 3 tokens); B -8 over "éèêàù" (5 chars, 10 bytes, 2 tokens)
    res = score_choices([-6.0, -8.0], ["ab", "éèêàù"], [3, 2], gold=1)
    assert res.predictions == {"acc": 0, "acc_norm_char": 1, "acc_norm_byte": 1, "acc_norm_token": 0}
    # -6/2=-3 vs -8/5=-1.6 (char); -6/2=-3 vs -8/10=-0.8 (byte); -6/3=-2 vs -8/2=-4 (token)
    assert res.correct == {"acc": 0.0, "acc_norm_char": 1.0, "acc_norm_byte": 1.0, "acc_norm_token": 0.0}
    assert res.margin == pytest.approx(2.0)


def test_ties_pick_the_first_choice_like_numpy():
    assert score_choices([-1.0, -1.0], ["a", "b"], [1, 1], gold=0).predictions["acc"] == 0


@pytest.mark.parametrize("text,lang,expected", [
    ("১২", "ben_Beng", "12"), ("๑๒", "tha_Thai", "12"), ("1.234", "deu_Latn", "1234"), ("-5", "eng_Latn", "-5"),
    ("12.50", "eng_Latn", "12.5"), ("$1,000", "eng_Latn", "1000"), ("12,5", "fra_Latn", "12.5"),
    ("1 250 €", "fra_Latn", "1250"), ("Die Antwort lautet 1.250.", "deu_Latn", "1250"), ("１２３", "jpn_Jpan", "123"),
    ("−7 degrees", "eng_Latn", "-7"), ("1,234,567.5", "eng_Latn", "1234567.5"), ("٣٤", "arb_Arab", "34"),
    ("उत्तर: ४२", "hin_Deva", "42"), ("They had 3 apples, then 18.", "eng_Latn", "18"),
])
def test_number_extraction(text, lang, expected):
    assert extract_number(text, lang) == Decimal(expected)


def test_no_number_gives_none_and_no_match():
    assert extract_number("no digits here", "eng_Latn") is None
    assert number_match("no digits", ["3"], "eng_Latn") == 0.0
    assert number_match("The answer is 1,380.", ["1380"], "eng_Latn") == 1.0
    assert number_match("Jibu ni 12.0", ["12"], "swh_Latn") == 1.0


def test_answer_normalisation_is_language_aware():
    assert normalise_answer("The Eiffel Tower!", "eng_Latn") == "eiffel tower"
    assert normalise_answer("La Tour Eiffel", "fra_Latn") == "la tour eiffel"  # articles are English-only
    assert normalise_answer("春 节。", "zho_Hans") == "春节"
    assert exact_match("  Diwali.\n", ["diwali"], "hin_Deva") == 1.0
    assert exact_match("Holi", ["diwali"], "hin_Deva") == 0.0
    assert exact_match("ＡＢＣ", ["abc"], "eng_Latn") == 1.0  # NFKC folds full-width letters


def test_wilson_interval_by_hand():
    # p = 0.5, n = 100, z = 1.96: centre 0.5, half = 1.96*sqrt(0.0025 + 0.000096)/1.0384 = 0.0962
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-3)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_mean_interval_uses_wilson_for_binary_and_bootstrap_otherwise():
    mean, lo, hi = mean_with_interval([1, 0, 1, 1])
    assert mean == 0.75 and (lo, hi) == pytest.approx(wilson_interval(3, 4))
    mean, lo, hi = mean_with_interval([0.2, 0.4, 0.6, 0.8])
    assert mean == pytest.approx(0.5) and 0.2 <= lo < 0.5 < hi <= 0.8
    assert bootstrap_interval([0.3]) == (0.3, 0.3)
