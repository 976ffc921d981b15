"""Short answers by greedy generation.

Two ways of scoring, chosen by the card:
- a card with ``options.filter_list`` is scored as lm-evaluation-harness scores generation tasks: each
  named filter pipeline turns the response into an answer, compared with the target by lm-eval's
  exact_match (``options.metric_list``); every filter is stored as ``exact_match_<filter>``, the card's
  ``metric`` naming the headline one. ``options.lenient_number`` adds the language-aware numeric match
  as an extra metric.
- otherwise, exact match after normalisation (numbers compared as numbers).

A card with ``options.fewshot`` prefixes each prompt with examples of the item's ``meta["exemplars"]``
chosen as lm-eval chooses them (``evaluator.fewshot``).
"""

from __future__ import annotations

from collections import defaultdict

from ..fewshot import LM_EVAL_FEWSHOT_SEED, fewshot_indices
from ..generation import GenRequest
from ..metrics.exact_match import exact_match, extract_number, number_match
from ..metrics.lm_eval_match import exact_match as lm_eval_exact_match
from ..metrics.lm_eval_match import exact_match_options, pipeline_from_spec
from ..metrics.registry import filter_metric
from ..pooling import mean_scores
from ..prompts import labels_for, render, template_for
from ..results import Score
from ._common import as_messages, base_row, encode_prompt

LENIENT_NUMBER = "exact_match_number"


def units(items) -> int:
    return len(items)


def answer_type(card, item) -> str:
    return item.meta.get("answer_type") or card.options.get("answer_type", "text")


def clean_answer(text: str) -> str:
    """The first non-empty line of a generation, stripped."""
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def filter_specs(card, language: str) -> list[dict]:
    """The card's filter_list, with the per-language pipelines of ``options.filter_by_language`` swapped in."""
    overrides = card.options.get("filter_by_language", {}).get(language, {})
    return [{**spec, "filter": overrides.get(spec["name"], spec["filter"])} for spec in card.options["filter_list"]]


def metrics(card) -> tuple[str, ...]:
    """Every metric the card's rows carry, headline first."""
    if "filter_list" not in card.options:
        return (card.metric,)
    names = [filter_metric(spec["name"]) for spec in card.options["filter_list"]]
    if card.options.get("lenient_number"):
        names.append(LENIENT_NUMBER)
    return (card.metric, *[n for n in names if n != card.metric])


def label_stops(card, language: str) -> tuple[str, ...]:
    """Stop strings the card names by prompt label (``generation.stop_labels``), in the item's language."""
    labels = labels_for(language)
    return tuple(labels[f"label_{name}"] for name in card.generation.get("stop_labels", []))


def stops_for(card, language: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*label_stops(card, language), *card.stop_strings(language)]))


def fewshot_prefixes(card, items) -> list[tuple[str, list[str]]]:
    """Per item, the few-shot block that precedes its prompt and the ids of its examples in order.

    Each example is ``shot_template`` filled with the exemplar's fields plus ``target``: the exemplar's
    answer without its first ``len(label) + 1`` characters, ``label`` being the prompt label named by
    ``target_skips_label`` (lm-eval's ``doc_to_target: answer[len(ANSWER)+1:]``). Examples are joined
    and followed by ``delimiter``, as lm-eval's ``fewshot_delimiter``.
    """
    spec = card.options.get("fewshot")
    if not spec:
        return [("", []) for _ in items]
    n, delimiter = int(spec["n"]), spec.get("delimiter", "\n\n")
    by_language: dict[str, list[int]] = defaultdict(list)
    for pos, it in enumerate(items):
        by_language[it.language].append(pos)
    out: list[tuple[str, list[str]]] = [("", [])] * len(items)
    for language, positions in by_language.items():
        exemplars = items[positions[0]].meta.get("exemplars")
        if not exemplars:
            raise ValueError(f"{card.id}: items of {language} carry no few-shot exemplars")
        labels = labels_for(language)
        skip = len(labels[f"label_{spec['target_skips_label']}"]) + 1 if spec.get("target_skips_label") else 0
        template = template_for(card, "shot_template", language)
        # lm-eval draws for the test documents in order: an item's draw is fixed by its index.
        indices = [items[p].meta["index"] for p in positions]
        order = fewshot_indices(len(exemplars), n, max(indices) + 1, spec.get("sampler", "default"),
                                int(spec.get("seed", LM_EVAL_FEWSHOT_SEED)))
        for pos, index in zip(positions, indices):
            shots = [exemplars[k] for k in order[index]]
            texts = [render(template, {**labels, **ex, "target": ex["answer"][skip:]}) for ex in shots]
            out[pos] = ("".join(t + delimiter for t in texts), [ex["id"] for ex in shots])
    return out


def lm_eval_scores(card, text: str, gold: list[str], language: str) -> tuple[dict[str, float], dict[str, str]]:
    """exact_match after each of the card's filters: scores and filtered answers, by metric name."""
    specs = card.options.get("metric_list", [{"metric": "exact_match"}])
    if len(specs) != 1:
        raise ValueError(f"{card.id}: one metric_list entry (exact_match) expected, got {len(specs)}")
    options = exact_match_options(specs[0])
    scores, answers = {}, {}
    for spec in filter_specs(card, language):
        name = filter_metric(spec["name"])
        answers[name] = pipeline_from_spec(spec)(text)
        # lm-eval compares with one target; an item with several counts if any matches.
        scores[name] = max(lm_eval_exact_match(answers[name], g, **options) for g in gold)
    if card.options.get("lenient_number"):
        value = extract_number(text, language)
        answers[LENIENT_NUMBER] = "" if value is None else format(value.normalize(), "f")
        scores[LENIENT_NUMBER] = number_match(text, gold, language)
    return scores, answers


def run(card, items, engine) -> list[dict]:
    lm = engine.lm
    prompts, requests, truncated = [], [], []
    prefixes = fewshot_prefixes(card, items)
    for it, (prefix, _) in zip(items, prefixes):
        values = {**labels_for(it.language), **it.fields}
        prompt = prefix + render(template_for(card, "template", it.language), values)
        ids, cut = encode_prompt(lm, prompt, card.max_new_tokens)
        prompts.append(prompt)
        truncated.append(cut)
        requests.append(GenRequest(ids, stops_for(card, it.language), card.max_new_tokens, prompt=prompt,
                                   messages=as_messages(card, prompt)))
    outputs = engine.generate(requests)
    rows = []
    for it, prompt, out, cut, (_, shot_ids) in zip(items, prompts, outputs, truncated, prefixes):
        kind = answer_type(card, it)
        details = {"stopped_by": out.stopped_by, "n_tokens": out.n_tokens, "answer_type": kind,
                   **{k: v for k, v in it.meta.items() if k != "exemplars"}}
        if shot_ids:
            details["fewshot"] = shot_ids
        if "filter_list" in card.options:
            scores, answers = lm_eval_scores(card, out.text, it.gold, it.language)
            metric = card.metric
            prediction, score = answers[metric], scores[metric]
            details.update(correct=scores, answers=answers)
        elif kind == "number":
            value = extract_number(out.text, it.language)
            prediction = "" if value is None else format(value.normalize(), "f")
            score = number_match(out.text, it.gold, it.language)
            metric = "exact_match_number"
        else:
            prediction = clean_answer(out.text)
            score = exact_match(prediction, it.gold, it.language)
            metric = "exact_match"
        rows.append(
            {
                **base_row(it, prompt, cut),
                "generation": out.raw,
                "gold": " | ".join(it.gold),
                "prediction": prediction,
                "score": score,
                "metric": metric,
                "details": details,
            }
        )
    return rows


def aggregate(card, rows: list[dict]) -> list[Score]:
    """The card's metric is primary; a card scored by filters also gets the other filters' scores."""
    return mean_scores(card, rows, metrics(card))
