"""Item scores pooled into Score records per language and category, with intervals.

Shared by the kinds (each kind's ``aggregate`` builds its scores with these) and by
``evaluator.aggregate``; it imports no kind. Category "*" is the whole language.
"""

from __future__ import annotations

from collections import defaultdict

from .metrics.registry import NONE, Metric, metric_of
from .results import Score
from .scope import ALL
from .stats import mean_with_interval


def score_row(language: str, category: str, metric: Metric, values, primary: bool,
              details: dict | None = None) -> Score:
    """The mean of ``values`` as one score of ``metric``: Wilson interval for 0/1 values, bootstrap for
    others (``stats.mean_with_interval``), none where the metric's record says it has none."""
    mean, lo, hi = mean_with_interval(values)
    if metric.interval == NONE:
        lo = hi = None
    return Score(language=language, category=category, metric=metric.name, value=mean, n_items=len(values),
                 ci_low=lo, ci_high=hi, primary=primary, higher_is_better=metric.higher_is_better,
                 details=details or {})


def mean_scores(card, rows: list[dict], metrics: tuple[str, ...]) -> list[Score]:
    """Mean of each metric per language and per (language, category); ``metrics[0]`` is the card's headline,
    read from each row's ``score``, the others from ``details["correct"][name]`` (another 0/1 or graded
    score of the same item, e.g. the length-normalised accuracies of multiple choice)."""
    headline, *others = [metric_of(card, name) for name in metrics]
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        if not r.get("details", {}).get("supplementary"):
            groups[(r["language"], ALL)].append(r)
        for cat in [r.get("category"), *r.get("details", {}).get("also_categories", [])]:
            if cat:
                groups[(r["language"], cat)].append(r)
    out = []
    for (lang, cat), rs in sorted(groups.items()):
        out.append(score_row(lang, cat, headline, [r["score"] for r in rs], True))
        for m in others:
            vals = [r["details"]["correct"][m.name] for r in rs if m.name in r["details"].get("correct", {})]
            if vals:
                out.append(score_row(lang, cat, m, vals, False))
    return out
