"""Statistics for comparing models: ranks with ties, paired tests, multiple-comparison correction."""

from __future__ import annotations

import math

import numpy as np


def rank_with_ties(ci_low: np.ndarray, ci_high: np.ndarray) -> np.ndarray:
    """LMArena's rule: a model's rank is 1 + the number of models whose lower bound is above its upper bound.

    Models whose intervals overlap share ranks; O(n log n)."""
    lows = np.sort(np.asarray(ci_low, dtype=float))
    hi = np.asarray(ci_high, dtype=float)
    above = len(lows) - np.searchsorted(lows, hi, side="right")
    return (1 + above).astype(int)


def _binom_cdf(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), exactly (in log space for large n)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2) for i in range(k + 1)]
    m = max(logs)
    return min(1.0, math.exp(m) * sum(math.exp(x - m) for x in logs))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar test on the discordant pairs (b: only A right, c: only B right)."""
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, 2 * _binom_cdf(min(b, c), n))


def paired_bootstrap_p(a: np.ndarray, b: np.ndarray, iterations: int = 2000, seed: int = 0) -> float:
    """Two-sided p-value of mean(a - b) = 0 by a paired sign-flip permutation of the differences."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) == 0 or np.allclose(d, 0):
        return 1.0
    observed = abs(d.mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice((-1.0, 1.0), size=(iterations, len(d)))
    null = np.abs((signs * d).mean(axis=1))
    return float((1 + (null >= observed - 1e-12).sum()) / (iterations + 1))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1); NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    valid = np.where(~np.isnan(p))[0]
    m = len(valid)
    if m == 0:
        return out
    order = valid[np.argsort(p[valid])]
    running = 0.0
    for i, idx in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[idx]))
        out[idx] = running
    return out
