"""Verifiable instruction following (IFEval, M-IFEval, Multi-IF), multi-turn where the data has turns.

Turn k is generated from the conversation so far, rendered with the model's chat template: the
user's earlier prompts and the model's own earlier answers. Each answer is checked against the
instructions listed for its turn, strictly and loosely, by the card's checker (``options.checker``):
``ifeval`` (IFEval, and M-IFEval's prefixed ids), ``multi_if`` (Multi-IF's rules) or ``polyglot``
(the starter suite's language-aware rules). Decoding is greedy unless the card's ``generation`` sets
a ``temperature`` (with ``top_p`` and ``seed``), as Multi-IF's protocol does.

An instruction the checker cannot check (an id it does not implement, bad kwargs) is not followed:
the row keeps the reason in ``details.unsupported`` and counts it, never drops it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..generation import GenRequest
from ..metrics import ifeval, ifeval_polyglot
from ..metrics.registry import HEADLINE_BOOTSTRAP, metric_of
from ..pooling import score_row
from ..scope import ALL
from ..results import Score
from ._common import base_row, chat_prompt, encode_prompt

THINK_END = "</think>"


def units(items) -> int:
    return sum(len(it.turns or []) for it in items)


def strip_thinking(text: str) -> str:
    """Reasoning models put their thoughts before </think>; only the answer is checked."""
    return text.rsplit(THINK_END, 1)[1] if THINK_END in text else text


def _polyglot_results(ids, kwargs, response, language, prompt) -> list[ifeval.InstructionResult]:
    results = []
    for iid, kw in zip(ids, kwargs):
        if not ifeval_polyglot.supported(iid):
            results.append(ifeval.InstructionResult(iid, False, False, f"instruction {iid!r} is not implemented"))
            continue
        try:
            (r,) = ifeval_polyglot.evaluate_response([iid], [kw or {}], response, language, prompt)
        except (KeyError, ValueError) as exc:
            results.append(ifeval.InstructionResult(iid, False, False, str(exc)))
            continue
        results.append(ifeval.InstructionResult(iid, r.strict, r.loose))
    return results


def check_turn(turn: dict, response: str, language: str, checker: str = "ifeval") -> dict:
    ids = list(turn.get("instruction_id_list") or [])
    kwargs = list(turn.get("kwargs") or [{}] * len(ids))
    if checker == "polyglot":
        results = _polyglot_results(ids, kwargs, response, language, turn.get("prompt", ""))
    else:
        results = ifeval.evaluate_response(ids, [k or {} for k in kwargs], response, checker, turn.get("prompt", ""))
    strict, loose = ifeval.prompt_level(results) if results else (False, False)
    return {
        "prompt_strict": bool(strict) and bool(results),
        "prompt_loose": bool(loose) and bool(results),
        "instructions": [{"id": r.instruction_id, "strict": bool(r.strict), "loose": bool(r.loose)} for r in results],
        "unsupported": [{"id": r.instruction_id, "reason": r.error} for r in results if r.error],
    }


def sampling(card) -> dict:
    """The card's decoding: greedy, or its reference's sampling (temperature, top_p, seed)."""
    g = card.generation
    if float(g.get("temperature", 0) or 0) <= 0:
        return {}
    return {"temperature": float(g["temperature"]), "top_p": float(g.get("top_p", 1.0)), "seed": int(g.get("seed", 0))}


def run(card, items, engine) -> list[dict]:
    lm = engine.lm
    histories: list[list[dict]] = [[] for _ in items]
    rows = []
    max_turns = max((len(it.turns or []) for it in items), default=0)
    checker, decoding = card.options.get("checker", "ifeval"), sampling(card)
    for k in range(max_turns):
        active = [i for i, it in enumerate(items) if len(it.turns or []) > k]
        prompts, requests, truncated = [], [], []
        for i in active:
            messages = histories[i] + [{"role": "user", "content": items[i].turns[k]["prompt"]}]
            text = chat_prompt(lm, messages)
            ids, cut = encode_prompt(lm, text, card.max_new_tokens)
            prompts.append(text)
            truncated.append(cut)
            requests.append(GenRequest(ids, card.stop_strings(items[i].language), card.max_new_tokens, **decoding,
                                       prompt=text, messages=tuple(messages)))
        outputs = engine.generate(requests)
        for i, text, out, cut in zip(active, prompts, outputs, truncated):
            it, turn = items[i], items[i].turns[k]
            answer = strip_thinking(out.text).strip()
            checked = check_turn(turn, answer, it.language, checker)
            histories[i] += [{"role": "user", "content": turn["prompt"]}, {"role": "assistant", "content": answer}]
            rows.append({
                **base_row(it, text, cut), "turn": k + 1, "generation": out.raw,
                "gold": ", ".join(turn.get("instruction_id_list") or []), "prediction": answer,
                "score": float(checked["prompt_strict"]), "metric": "prompt_strict",
                "details": {**checked, "stopped_by": out.stopped_by, "n_tokens": out.n_tokens,
                            "kwargs": turn.get("kwargs"), "decoding": decoding or {"greedy": True}, **it.meta},
            })
    return rows


def four_metrics(rows: list[dict]) -> dict[str, float]:
    """IFEval's prompt-level and instruction-level accuracies, strict and loose, and their mean."""
    ps = np.mean([r["details"]["prompt_strict"] for r in rows])
    pl = np.mean([r["details"]["prompt_loose"] for r in rows])
    inst = [x for r in rows for x in r["details"]["instructions"]]
    is_ = np.mean([x["strict"] for x in inst]) if inst else np.nan
    il = np.mean([x["loose"] for x in inst]) if inst else np.nan
    return {"prompt_strict": float(ps), "prompt_loose": float(pl), "inst_strict": float(is_),
            "inst_loose": float(il), "ifeval_mean4": float(np.nanmean([ps, pl, is_, il]))}


# The figures IFEval pools from the checked turns (``four_metrics``), in the order they are stored.
METRICS = ("prompt_strict", "prompt_loose", "inst_strict", "inst_loose", "ifeval_mean4")


def _bootstrap(rows: list[dict], metric: str, iterations: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of ``metric`` over rows resampled with replacement."""
    ps = np.array([r["details"]["prompt_strict"] for r in rows], dtype=float)
    pl = np.array([r["details"]["prompt_loose"] for r in rows], dtype=float)
    n = np.array([len(r["details"]["instructions"]) for r in rows], dtype=float)
    s = np.array([sum(x["strict"] for x in r["details"]["instructions"]) for r in rows], dtype=float)
    lo_ = np.array([sum(x["loose"] for x in r["details"]["instructions"]) for r in rows], dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(rows), size=(iterations, len(rows)))
    with np.errstate(invalid="ignore", divide="ignore"):
        parts = {"prompt_strict": ps[idx].mean(1), "prompt_loose": pl[idx].mean(1),
                 "inst_strict": s[idx].sum(1) / n[idx].sum(1), "inst_loose": lo_[idx].sum(1) / n[idx].sum(1)}
        draws = sum(parts.values()) / 4 if metric == "ifeval_mean4" else parts[metric]
    draws = draws[np.isfinite(draws)]
    if len(draws) == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(draws, [0.025, 0.975])
    return float(lo), float(hi)


def _metric_rows(card, lang: str, cat: str, rows: list[dict], headline: str, value: dict | None = None) -> list[Score]:
    m = value or four_metrics(rows)
    out = []
    for name in METRICS:
        metric, primary = metric_of(card, name), name == headline
        with_interval = metric.interval == HEADLINE_BOOTSTRAP and primary and value is None
        lo, hi = _bootstrap(rows, name) if with_interval else (None, None)
        out.append(Score(language=lang, category=cat, metric=name, value=m[name], n_items=len(rows), ci_low=lo,
                         ci_high=hi, primary=primary, higher_is_better=metric.higher_is_better))
    return out


def aggregate(card, rows: list[dict]) -> list[Score]:
    """The four IFEval metrics and their mean per language, category and turn; the card's metric is primary.

    Multi-turn data (Multi-IF) reports per turn: each metric of the whole language is the mean of its
    per-turn values, as the paper averages its turn scores.
    """
    headline = card.metric  # one of METRICS: the card was checked against the metric registry
    out = []
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["language"], f"turn_{r['turn']}")].append(r)
        if r.get("category"):
            groups[(r["language"], r["category"])].append(r)
    languages = sorted({r["language"] for r in rows})
    for lang in languages:
        lang_rows = [r for r in rows if r["language"] == lang]
        turns = sorted({r["turn"] for r in lang_rows})
        if len(turns) > 1:
            per_turn = [four_metrics(groups[(lang, f"turn_{t}")]) for t in turns]
            mean = {name: float(np.mean([m[name] for m in per_turn])) for name in METRICS}
            out += _metric_rows(card, lang, ALL, lang_rows, headline, mean)
        else:
            out += _metric_rows(card, lang, ALL, lang_rows, headline)
        unchecked = sum(len(r["details"].get("unsupported") or []) for r in lang_rows)
        out.append(Score(language=lang, category=ALL, metric="unchecked_instructions", value=float(unchecked),
                         n_items=len(lang_rows), higher_is_better=metric_of(card, "unchecked_instructions").higher_is_better))
    for (lang, cat), rs in sorted(groups.items()):
        out += _metric_rows(card, lang, cat, rs, headline)
    # Instruction-level accuracy per instruction group (keywords, length_constraints, ...): a plain mean
    # of the group's instructions, with the mean's interval.
    by_group: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for r in rows:
        for x in r["details"]["instructions"]:
            group = x["id"].split(":")[-2] if x["id"].count(":") >= 1 else x["id"]
            by_group[(r["language"], group)].append(x["loose"])
    for (lang, group), vals in sorted(by_group.items()):
        out.append(score_row(lang, f"instruction:{group}", metric_of(card, "inst_loose"), [float(v) for v in vals], False))
    return out
