"""Verifiable instruction following (IFEval, M-IFEval, Multi-IF), multi-turn where the data has turns.

Turn k is generated from the conversation so far, rendered with the model's chat template: the
user's earlier prompts and the model's own earlier answers. Each answer is checked against the
instructions listed for its turn, strictly and loosely (IFEval's definitions, language-aware).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..aggregate import score_row
from ..generation import GenRequest
from ..metrics import ifeval
from .common import base_row, chat_prompt, encode_prompt

THINK_END = "</think>"


def units(items) -> int:
    return sum(len(it.turns or []) for it in items)


def strip_thinking(text: str) -> str:
    """Reasoning models put their thoughts before </think>; only the answer is checked."""
    return text.rsplit(THINK_END, 1)[1] if THINK_END in text else text


def check_turn(turn: dict, response: str, language: str) -> dict:
    ids = list(turn.get("instruction_id_list") or [])
    kwargs = list(turn.get("kwargs") or [{}] * len(ids))
    kept = [(i, k) for i, k in zip(ids, kwargs) if ifeval.supported(i)]
    unsupported = [i for i in ids if not ifeval.supported(i)]
    results = ifeval.evaluate_response([i for i, _ in kept], [k or {} for _, k in kept], response, language,
                                       turn.get("prompt", ""))
    strict, loose = ifeval.prompt_level(results) if results else (False, False)
    return {
        "prompt_strict": bool(strict) and bool(results),
        "prompt_loose": bool(loose) and bool(results),
        "instructions": [{"id": r.instruction_id, "strict": bool(r.strict), "loose": bool(r.loose)} for r in results],
        "unsupported": unsupported,
    }


def run(card, items, engine) -> list[dict]:
    lm = engine.lm
    histories: list[list[dict]] = [[] for _ in items]
    rows = []
    max_turns = max((len(it.turns or []) for it in items), default=0)
    for k in range(max_turns):
        active = [i for i, it in enumerate(items) if len(it.turns or []) > k]
        prompts, requests, truncated = [], [], []
        for i in active:
            messages = histories[i] + [{"role": "user", "content": items[i].turns[k]["prompt"]}]
            text = chat_prompt(lm, messages)
            ids, cut = encode_prompt(lm, text, card.max_new_tokens)
            prompts.append(text)
            truncated.append(cut)
            requests.append(GenRequest(ids, card.stop_strings(items[i].language), card.max_new_tokens))
        outputs = engine.generate(requests)
        for i, text, out, cut in zip(active, prompts, outputs, truncated):
            it, turn = items[i], items[i].turns[k]
            answer = strip_thinking(out.text).strip()
            checked = check_turn(turn, answer, it.language)
            histories[i] += [{"role": "user", "content": turn["prompt"]}, {"role": "assistant", "content": answer}]
            rows.append({
                **base_row(it, text, cut), "turn": k + 1, "generation": out.raw,
                "gold": ", ".join(turn.get("instruction_id_list") or []), "prediction": answer,
                "score": float(checked["prompt_strict"]), "metric": "prompt_strict",
                "details": {**checked, "stopped_by": out.stopped_by, "n_tokens": out.n_tokens,
                            "kwargs": turn.get("kwargs"), **it.meta},
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


def _bootstrap_mean4(rows: list[dict], iterations: int = 1000, seed: int = 0) -> tuple[float, float]:
    ps = np.array([r["details"]["prompt_strict"] for r in rows], dtype=float)
    pl = np.array([r["details"]["prompt_loose"] for r in rows], dtype=float)
    n = np.array([len(r["details"]["instructions"]) for r in rows], dtype=float)
    s = np.array([sum(x["strict"] for x in r["details"]["instructions"]) for r in rows], dtype=float)
    lo_ = np.array([sum(x["loose"] for x in r["details"]["instructions"]) for r in rows], dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(rows), size=(iterations, len(rows)))
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = (ps[idx].mean(1) + pl[idx].mean(1) + s[idx].sum(1) / n[idx].sum(1) + lo_[idx].sum(1) / n[idx].sum(1)) / 4
    draws = draws[np.isfinite(draws)]
    if len(draws) == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(draws, [0.025, 0.975])
    return float(lo), float(hi)


def aggregate(card, rows: list[dict]) -> list[dict]:
    out = []
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["language"], "*")].append(r)
        groups[(r["language"], f"turn_{r['turn']}")].append(r)
        if r.get("category"):
            groups[(r["language"], r["category"])].append(r)
    for (lang, cat), rs in sorted(groups.items()):
        m = four_metrics(rs)
        lo, hi = _bootstrap_mean4(rs)
        out.append({"language": lang, "category": cat, "metric": "ifeval_mean4", "value": m["ifeval_mean4"],
                    "n_items": len(rs), "ci_low": lo, "ci_high": hi, "primary": True, "details": {}})
        for name in ("prompt_strict", "prompt_loose", "inst_strict", "inst_loose"):
            out.append({"language": lang, "category": cat, "metric": name, "value": m[name], "n_items": len(rs),
                        "ci_low": None, "ci_high": None, "primary": False, "details": {}})
    # Instruction-level accuracy per instruction group (keywords, length_constraints, ...).
    by_group: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for r in rows:
        for x in r["details"]["instructions"]:
            group = x["id"].split(":")[-2] if x["id"].count(":") >= 1 else x["id"]
            by_group[(r["language"], group)].append(x["loose"])
    for (lang, group), vals in sorted(by_group.items()):
        out.append(score_row(lang, f"instruction:{group}", "inst_loose", [float(v) for v in vals], False))
    return out
