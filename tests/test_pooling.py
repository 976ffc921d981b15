"""Item scores pooled into Score records: the metric's record decides interval and direction."""

from __future__ import annotations

import pytest

from evaluator.cards import get_card
from evaluator.metrics.registry import metric_of
from evaluator.pooling import mean_scores, score_row
from evaluator.scope import ALL


def test_a_mean_carries_the_interval_and_direction_of_its_metric():
    card = get_card("polyglot_translate")
    s = score_row("fra_Latn", ALL, metric_of(card, "untranslated_rate"), [0.0, 1.0, 1.0, 0.0], False)
    assert (s.value, s.n_items, s.ci_low, s.ci_high, s.higher_is_better) == (0.5, 4, None, None, False)
    acc = score_row("fra_Latn", ALL, metric_of(get_card("polyglot_mc"), "acc"), [1.0, 0.0], True)
    assert acc.value == 0.5 and acc.higher_is_better and 0 < acc.ci_low < 0.5 < acc.ci_high < 1


def test_the_headline_is_each_rows_score_and_the_others_come_from_its_details():
    card = get_card("polyglot_mc")
    rows = [{"language": "deu_Latn", "category": "idiom", "score": 1.0,
             "details": {"correct": {"acc": 1.0, "acc_norm_char": 0.0}}},
            {"language": "deu_Latn", "category": "pun", "score": 0.0,
             "details": {"correct": {"acc": 0.0, "acc_norm_char": 0.0}}}]
    scores = mean_scores(card, rows, ("acc", "acc_norm_char", "acc_norm_byte"))
    got = {(s.category, s.metric): (s.value, s.primary) for s in scores}
    assert got == {("*", "acc"): (0.5, True), ("*", "acc_norm_char"): (0.0, False),
                   ("idiom", "acc"): (1.0, True), ("idiom", "acc_norm_char"): (0.0, False),
                   ("pun", "acc"): (0.0, True), ("pun", "acc_norm_char"): (0.0, False)}


def test_a_metric_its_kind_does_not_know_is_named_with_the_known_ones():
    with pytest.raises(KeyError, match="no metric 'chrf_pp' for multiple_choice tasks; known: acc"):
        metric_of(get_card("polyglot_mc"), "chrf_pp")
