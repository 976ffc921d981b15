"""Every metric a task of this project can report, each registered once with what is known about it.

A metric record says which kind of task produces it, the function that scores one item, how item
scores pool into one figure, its direction, how its interval is computed, and whether a card may name
it as its headline. Cards name metrics (``metric``); loading a card whose metric its kind does not
register is a card error. Aggregation reads pooling, interval and direction from here.

The records hold the per-item function as ``"module:function"`` (imported on use), so that reading
cards, as the web app does, imports no scoring code.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace

# How item scores become one figure (``Metric.pool``).
MEAN = "mean"  # the mean of the item scores
CORPUS_CHRF = "corpus_chrf"  # chrF++ over the pooled character n-gram statistics of a direction's segments
MEAN_OF_DIRECTIONS = "mean_of_directions"  # the mean of both directions' corpus chrF++
IFEVAL = "ifeval"  # IFEval's prompt-level mean or instruction-level (micro) mean; per-turn mean for Multi-IF
COUNT = "count"  # a number of items, not a rate
BEST_LAYER = "best_layer"  # the mean at the layer whose mean is highest

# How the 95% interval is computed (``Metric.interval``).
WILSON_OR_BOOTSTRAP = "wilson_or_bootstrap"  # Wilson for 0/1 item scores, percentile bootstrap otherwise
BOOTSTRAP = "bootstrap"  # percentile bootstrap over resampled items (corpus statistics, IFEval's means)
HEADLINE_BOOTSTRAP = "headline_bootstrap"  # bootstrap over items for the card's headline only
NONE = "none"  # no interval


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # the kind of task whose scores carry it
    item: str  # the function scoring one item, "module:function"
    pool: str = MEAN
    interval: str = WILSON_OR_BOOTSTRAP
    higher_is_better: bool = True
    headline: bool = True  # a card may name it as the figure its task is ranked by
    description: str = ""

    def item_function(self):
        module, name = self.item.split(":")
        return getattr(importlib.import_module(module), name)


_MC = "evaluator.metrics.multiple_choice:score_choices"
_IFEVAL = "evaluator.kinds.instruction:check_turn"
_CHRF = "evaluator.metrics.chrf:segment_statistics"

METRICS: tuple[Metric, ...] = (
    Metric("acc", "multiple_choice", _MC, description="the choice with the highest loglikelihood is the gold one"),
    Metric("acc_norm_char", "multiple_choice", _MC, description="loglikelihood per character (lm-eval's acc_norm)"),
    Metric("acc_norm_byte", "multiple_choice", _MC, description="loglikelihood per UTF-8 byte"),
    Metric("acc_norm_token", "multiple_choice", _MC, description="loglikelihood per token"),
    Metric("exact_match", "short_answer", "evaluator.metrics.exact_match:exact_match",
           description="the first line of the answer equals a gold answer after normalisation"),
    Metric("exact_match_number", "short_answer", "evaluator.metrics.exact_match:number_match",
           description="the answer's number equals the gold number, in the language's numerals"),
    Metric("exact_match", "knowledge_qa", "evaluator.metrics.multiloko:exact_match",
           description="MultiLoKo's normalised exact match"),
    Metric("f1", "knowledge_qa", "evaluator.metrics.multiloko:f1", headline=False,
           description="MultiLoKo's token F1"),
    Metric("chrf_pp", "translation", _CHRF, pool=MEAN_OF_DIRECTIONS, interval=BOOTSTRAP,
           description="corpus chrF++, the mean of English into the language and the language into English"),
    Metric("chrf_pp_eng_to_x", "translation", _CHRF, pool=CORPUS_CHRF, interval=BOOTSTRAP, headline=False),
    Metric("chrf_pp_x_to_eng", "translation", _CHRF, pool=CORPUS_CHRF, interval=BOOTSTRAP, headline=False),
    Metric("chrf_pp_sentence", "translation", "evaluator.metrics.chrf:sentence_chrf", headline=False,
           description="sentence chrF++ of one segment (the per-sample score; never pooled)"),
    Metric("untranslated_rate", "translation", "evaluator.metrics.language_id:is_untranslated", interval=NONE,
           higher_is_better=False, headline=False, description="outputs left in the source language"),
    Metric("prompt_strict", "instruction", _IFEVAL, pool=IFEVAL, interval=HEADLINE_BOOTSTRAP),
    Metric("prompt_loose", "instruction", _IFEVAL, pool=IFEVAL, interval=HEADLINE_BOOTSTRAP),
    Metric("inst_strict", "instruction", _IFEVAL, pool=IFEVAL, interval=HEADLINE_BOOTSTRAP),
    Metric("inst_loose", "instruction", _IFEVAL, pool=IFEVAL, interval=HEADLINE_BOOTSTRAP),
    Metric("ifeval_mean4", "instruction", _IFEVAL, pool=IFEVAL, interval=HEADLINE_BOOTSTRAP,
           description="the mean of the four IFEval accuracies"),
    Metric("unchecked_instructions", "instruction", _IFEVAL, pool=COUNT, interval=NONE, higher_is_better=False,
           headline=False, description="instructions the checker could not check (counted as not followed)"),
    Metric("alignment_mean", "alignment", "evaluator.metrics.alignment:layer_hits",
           description="MEXA: English sentence retrieved as the nearest, averaged over layers"),
    Metric("alignment_max", "alignment", "evaluator.metrics.alignment:layer_hits", pool=BEST_LAYER, headline=False),
)

# The metrics a short-answer card defines with its lm-eval filters (``options.filter_list``):
# exact_match after each filter, named ``exact_match_<filter>``.
LM_EVAL_FILTER_MATCH = Metric("exact_match_<filter>", "short_answer", "evaluator.metrics.lm_eval_match:exact_match",
                              description="lm-eval's exact_match after the named filter pipeline")

_BY_KEY = {(m.kind, m.name): m for m in METRICS}


def filter_metric(name: str) -> str:
    """The stored name of exact_match after the filter ``name`` ("flexible-extract" -> exact_match_flexible_extract)."""
    return "exact_match_" + name.replace("-", "_")


def defined_metrics(card) -> tuple[Metric, ...]:
    """The metrics a card's own options define (the filters of an lm-eval-style short-answer card)."""
    if card.kind != "short_answer":
        return ()
    return tuple(replace(LM_EVAL_FILTER_MATCH, name=filter_metric(spec["name"]))
                 for spec in card.options.get("filter_list", []))


def kind_metrics(kind: str) -> tuple[Metric, ...]:
    return tuple(m for m in METRICS if m.kind == kind)


def known_metrics(kind: str, card=None) -> tuple[str, ...]:
    """The headline metrics a card of ``kind`` may name; with ``card``, also those its own options define."""
    names = [m.name for m in kind_metrics(kind) if m.headline]
    if card is not None:
        names += [m.name for m in defined_metrics(card)]
    return tuple(names)


def metric_of(card, name: str) -> Metric:
    """The record of ``name`` as a card of its kind reports it; KeyError names what the kind knows."""
    found = _BY_KEY.get((card.kind, name)) or next((m for m in defined_metrics(card) if m.name == name), None)
    if found is None:
        known = [m.name for m in kind_metrics(card.kind)] + [m.name for m in defined_metrics(card)]
        raise KeyError(f"no metric {name!r} for {card.kind} tasks; known: {', '.join(known)}")
    return found
