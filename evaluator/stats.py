"""Uncertainty of scores: Wilson intervals for proportions, bootstrap for everything else."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

Z95 = 1.959963984540054


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (well-behaved near 0 and 1, unlike the normal one)."""
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_interval(values: Sequence[float], statistic: Callable[[np.ndarray], float] = np.mean,
                       iterations: int = 1000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over resampled items."""
    arr = np.asarray(values, dtype=float)
    if len(arr) == 0:
        return (math.nan, math.nan)
    if len(arr) == 1:
        v = float(statistic(arr))
        return (v, v)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(iterations, len(arr)))
    stats = np.array([statistic(arr[i]) for i in idx])
    return (float(np.quantile(stats, alpha / 2)), float(np.quantile(stats, 1 - alpha / 2)))


def mean_with_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% interval: Wilson for 0/1 scores, bootstrap otherwise."""
    arr = np.asarray(values, dtype=float)
    if len(arr) == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(arr.mean())
    if np.all((arr == 0) | (arr == 1)):
        lo, hi = wilson_interval(float(arr.sum()), len(arr))
    else:
        lo, hi = bootstrap_interval(arr)
    return (mean, lo, hi)
