"""Multiple choice by loglikelihood of each choice given the prompt."""

from __future__ import annotations

from ..encoding import move_trailing_space, split_choices, truncate_left
from ..loglikelihood import ChoiceGroup
from ..metrics.multiple_choice import NORMALISATIONS, choice_lengths, score_choices
from ..pooling import mean_scores
from ..prompts import labels_for, render, template_for
from ..results import Score
from ._common import base_row


def units(items) -> int:
    return len(items)


def run(card, items, engine) -> list[dict]:
    lm = engine.lm
    metric = card.metric  # one of NORMALISATIONS: the card was checked against the metric registry
    groups, prompts, conts, truncated, separate = [], [], [], [], []
    for it in items:
        values = {**labels_for(it.language), **it.fields}
        context = render(template_for(card, "template", it.language), values)
        choice_tpl = template_for(card, "choice", it.language)
        continuations = [render(choice_tpl, {**values, "choice": c}) for c in it.choices]
        # The trailing space of the context moves to each continuation, as in split_choices.
        texts = (context.rstrip(), tuple(move_trailing_space(context, c)[1] for c in continuations))
        if lm.tokenizer is None:  # an endpoint scores the text itself
            split = None
            groups.append(ChoiceGroup([], [], *texts))
            cut = False
        else:
            split = split_choices(lm.tokenizer, lm.specials, context, continuations)
            ctx_ids, cont_ids = split.context, split.continuations
            ctx_ids, cut = truncate_left(ctx_ids, [len(c) for c in cont_ids], lm.max_length, len(lm.specials.prefix))
            groups.append(ChoiceGroup(ctx_ids, cont_ids, *texts))
        prompts.append(context)
        conts.append(continuations)
        truncated.append(cut)
        separate.append(split.n_separate if split is not None else 0)
    scores = engine.loglikelihood(groups)
    rows = []
    for it, prompt, s, cut, n_sep in zip(items, prompts, scores, truncated, separate):
        res = score_choices(s.loglik, it.choices, s.n_tokens, it.gold)
        n_chars, n_bytes = choice_lengths(it.choices)
        pred = res.predictions[metric]
        rows.append(
            {
                **base_row(it, prompt, cut),
                "choices": list(it.choices),
                "choice_loglik": s.loglik,
                "choice_n_tokens": s.n_tokens,
                "choice_n_chars": n_chars,
                "choice_n_bytes": n_bytes,
                "gold": it.choices[it.gold],
                "gold_index": int(it.gold),
                "prediction": it.choices[pred],
                "score": res.correct[metric],
                "metric": metric,
                "details": {
                    "correct": res.correct,
                    "predictions": res.predictions,
                    "margin": res.margin,
                    "is_greedy": s.is_greedy,
                    # choices whose joint split was degenerate and were encoded alone (evaluator.encoding)
                    "separate_continuations": n_sep,
                    **it.meta,
                },
            }
        )
    return rows


def aggregate(card, rows: list[dict]) -> list[Score]:
    """The card's accuracy is primary; every other normalisation is stored beside it."""
    return mean_scores(card, rows, (card.metric, *[m for m in NORMALISATIONS if m != card.metric]))
