"""Translation by greedy generation, scored with corpus chrF++ per language and direction.

Each item is one segment in one direction (English into the language, or the language into
English). Outputs left in the source language (detected with lingua) are counted apart as
"untranslated", like the NA rating of human cultural-nuance studies.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..scope import ALL
from ..generation import GenRequest
from ..languages import language_name
from ..metrics.chrf import corpus_chrf, score_from_statistics, segment_statistics, sentence_chrf, signature
from ..metrics.language_id import is_untranslated
from ..metrics.registry import metric_of
from ..pooling import score_row
from ..prompts import labels_for, render, template_for
from ..results import Score
from ._common import as_messages, base_row, encode_prompt


def units(items) -> int:
    return len(items)


def run(card, items, engine) -> list[dict]:
    lm = engine.lm
    prompts, requests, truncated = [], [], []
    for it in items:
        src, tgt = it.meta["source_lang"], it.meta["target_lang"]
        values = {**labels_for(it.language), **it.fields, "source_name": language_name(src),
                  "target_name": language_name(tgt)}
        prompt = render(template_for(card, "template", it.language), values)
        ids, cut = encode_prompt(lm, prompt, card.max_new_tokens)
        prompts.append(prompt)
        truncated.append(cut)
        requests.append(GenRequest(ids, card.stop_strings(tgt), card.max_new_tokens, prompt=prompt,
                                    messages=as_messages(card, prompt)))
    outputs = engine.generate(requests)
    rows = []
    for it, prompt, out, cut in zip(items, prompts, outputs, truncated):
        hyp = out.text.strip()
        src, tgt = it.meta["source_lang"], it.meta["target_lang"]
        untranslated, detected = is_untranslated(hyp, src, tgt)
        rows.append({
            **base_row(it, prompt, cut), "generation": out.raw, "gold": it.gold, "prediction": hyp,
            "score": sentence_chrf(hyp, it.gold) / 100, "metric": "chrf_pp_sentence",
            "details": {**it.meta, "untranslated": untranslated, "detected_language": detected,
                        "stopped_by": out.stopped_by},
        })
    return rows


def _direction(row) -> str:
    return "into" if row["details"]["source_lang"] == "eng_Latn" else "from"


def aggregate(card, rows: list[dict]) -> list[Score]:
    """Corpus chrF++ per language (mean of both directions) and per category, with intervals."""
    sig = signature()
    out = []
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["language"], ALL)].append(r)
        if r.get("category"):
            groups[(r["language"], r["category"])].append(r)
    for (lang, cat), rs in sorted(groups.items()):
        by_dir = defaultdict(list)
        for r in rs:
            by_dir[_direction(r)].append(r)
        for d, drows in sorted(by_dir.items()):
            res = corpus_chrf([r["prediction"] for r in drows], [r["gold"] for r in drows])
            name = "chrf_pp_eng_to_x" if d == "into" else "chrf_pp_x_to_eng"
            out.append(_score(card, lang, cat, name, res.score / 100, len(drows), res.ci_low / 100,
                              res.ci_high / 100, sig))
        mean, lo, hi = _mean_of_directions(by_dir)
        out.append(_score(card, lang, cat, "chrf_pp", mean, len(rs), lo, hi, sig))
        untranslated = score_row(lang, cat, metric_of(card, "untranslated_rate"),
                                 [float(r["details"]["untranslated"]) for r in rs], False, {"signature": sig})
        out.append(untranslated)
    return out


def _mean_of_directions(by_dir: dict[str, list[dict]], iterations: int = 1000, seed: int = 0):
    """The mean of the directions' corpus scores, with a bootstrap interval over segments."""
    stats = {d: segment_statistics([r["prediction"] for r in rs], [r["gold"] for r in rs]) for d, rs in by_dir.items()}
    point = float(np.mean([score_from_statistics(s) for s in stats.values()])) / 100
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(iterations):
        draws.append(np.mean([score_from_statistics(s[rng.integers(0, len(s), len(s))]) for s in stats.values()]))
    lo, hi = np.quantile(draws, [0.025, 0.975])
    return point, float(lo) / 100, float(hi) / 100


def _score(card, lang, cat, metric, value, n, lo, hi, sig) -> Score:
    """A corpus chrF++ figure; the card's metric is primary."""
    m = metric_of(card, metric)
    return Score(language=lang, category=cat, metric=metric, value=value, n_items=n, ci_low=lo, ci_high=hi,
                 primary=metric == card.metric, higher_is_better=m.higher_is_better, details={"signature": sig})
