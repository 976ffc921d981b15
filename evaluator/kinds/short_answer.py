"""Short answers by greedy generation, scored by exact match (numbers compared as numbers)."""

from __future__ import annotations

from ..generation import GenRequest
from ..metrics.exact_match import exact_match, extract_number, number_match
from ..prompts import labels_for, render, template_for
from .common import as_messages, base_row, encode_prompt


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


def run(card, items, engine) -> list[dict]:
    lm = engine.lm
    prompts, requests, truncated = [], [], []
    for it in items:
        values = {**labels_for(it.language), **it.fields}
        prompt = render(template_for(card, "template", it.language), values)
        ids, cut = encode_prompt(lm, prompt, card.max_new_tokens)
        prompts.append(prompt)
        truncated.append(cut)
        requests.append(GenRequest(ids, card.stop_strings(it.language), card.max_new_tokens, prompt=prompt,
                                    messages=as_messages(card, prompt)))
    outputs = engine.generate(requests)
    rows = []
    for it, prompt, out, cut in zip(items, prompts, outputs, truncated):
        kind = answer_type(card, it)
        if kind == "number":
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
                "details": {"stopped_by": out.stopped_by, "n_tokens": out.n_tokens, "answer_type": kind, **it.meta},
            }
        )
    return rows
