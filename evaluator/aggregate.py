"""From per-sample rows to scores: per task, language and category, with intervals.

Scores are computed from the sample rows only, so anyone holding the rows can recompute them.
Category "*" is the whole language; every accuracy-type score carries a 95% interval.
"""

from __future__ import annotations

from collections import defaultdict

from .metrics.multiple_choice import NORMALISATIONS
from .scope import ALL
from .stats import mean_with_interval


def score_row(language: str, category: str, metric: str, values, primary: bool, details: dict | None = None) -> dict:
    mean, lo, hi = mean_with_interval(values)
    return {
        "language": language,
        "category": category,
        "metric": metric,
        "value": mean,
        "n_items": len(values),
        "ci_low": lo,
        "ci_high": hi,
        "primary": primary,
        "details": details or {},
    }


def mean_scores(rows: list[dict], primary_metric: str, extra_metrics: dict[str, str] | None = None) -> list[dict]:
    """Mean of ``score`` per language and per (language, category).

    ``extra_metrics`` maps a metric name to a key of ``details["correct"]`` holding another 0/1
    score of the same item (e.g. the length-normalised accuracies of multiple choice).
    """
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        if not r.get("details", {}).get("supplementary"):
            groups[(r["language"], ALL)].append(r)
        for cat in [r.get("category"), *r.get("details", {}).get("also_categories", [])]:
            if cat:
                groups[(r["language"], cat)].append(r)
    out = []
    for (lang, cat), rs in sorted(groups.items()):
        out.append(score_row(lang, cat, primary_metric, [r["score"] for r in rs], True))
        for name, key in (extra_metrics or {}).items():
            vals = [r["details"]["correct"][key] for r in rs if key in r["details"].get("correct", {})]
            if vals:
                out.append(score_row(lang, cat, name, vals, False))
    return out


def aggregate_task(card, rows: list[dict]) -> list[dict]:
    """Scores of one task from its sample rows (kinds with corpus-level metrics override this)."""
    from .kinds import kind_module

    module = kind_module(card.kind)
    if hasattr(module, "aggregate"):
        return module.aggregate(card, rows)
    if card.kind == "multiple_choice":
        extras = {m: m for m in NORMALISATIONS if m != card.metric}
        return mean_scores(rows, card.metric, extras)
    return mean_scores(rows, card.metric)
