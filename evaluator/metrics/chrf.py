"""chrF++ (sacrebleu, character 6-grams + word 2-grams), at corpus level, with a bootstrap interval.

The corpus score is computed from per-segment n-gram statistics summed over segments, exactly as
``sacrebleu.metrics.CHRF.corpus_score`` does; keeping the per-segment statistics makes bootstrap
resampling over segments cheap (sum resampled rows, score once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _metric():
    from sacrebleu.metrics import CHRF

    return CHRF(word_order=2)


def signature() -> str:
    """sacrebleu's signature string (it needs one evaluation to know the number of references)."""
    metric = _metric()
    metric.corpus_score(["a"], [["a"]])
    return str(metric.get_signature())


@dataclass(frozen=True)
class CorpusChrF:
    score: float  # 0..100, as sacrebleu reports
    ci_low: float
    ci_high: float
    n_segments: int
    signature: str


def segment_statistics(hypotheses: list[str], references: list[str]) -> np.ndarray:
    metric = _metric()
    return np.asarray(metric._extract_corpus_statistics(hypotheses, [references]), dtype=np.int64)


def score_from_statistics(stats: np.ndarray) -> float:
    return float(_metric()._compute_score_from_stats(list(stats.sum(axis=0))).score)


def corpus_chrf(hypotheses: list[str], references: list[str], iterations: int = 1000, seed: int = 0) -> CorpusChrF:
    if not hypotheses:
        return CorpusChrF(float("nan"), float("nan"), float("nan"), 0, signature())
    metric = _metric()
    stats = segment_statistics(hypotheses, references)
    score = float(metric.corpus_score(hypotheses, [references]).score)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(stats), size=(iterations, len(stats)))
    boot = [float(metric._compute_score_from_stats(list(stats[i].sum(axis=0))).score) for i in idx]
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return CorpusChrF(score, float(lo), float(hi), len(hypotheses), signature())


def sentence_chrf(hypothesis: str, reference: str) -> float:
    return float(_metric().sentence_score(hypothesis, [reference]).score)
