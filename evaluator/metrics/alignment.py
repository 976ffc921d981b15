"""Cross-lingual alignment (MEXA, Kargaran et al. 2024) from parallel sentence embeddings.

For one layer, with e_i the English and f_i the other language's embedding of sentence i,
C_ij = cos(e_i, f_j). Sentence i is aligned when its true translation is the strict nearest
neighbour in both directions: C_ii > max_{j != i} C_ij and C_ii > max_{j != i} C_ji. The layer's
alignment is the share of aligned sentences; models are summarised by the mean and the max over
layers. Cosines are computed in float64; ties count as failures (strict inequality).
"""

from __future__ import annotations

import numpy as np


def mutual_nearest_hits(english: np.ndarray, other: np.ndarray) -> np.ndarray:
    """[n] booleans for one layer; ``english`` and ``other`` are [n, hidden]."""
    a = np.asarray(english, dtype=np.float64)
    b = np.asarray(other, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-300)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-300)
    c = a @ b.T
    n = len(c)
    diag = np.diag(c).copy()
    off = c.copy()
    np.fill_diagonal(off, -np.inf)
    row_best = off.max(axis=1) if n > 1 else np.full(n, -np.inf)
    col_best = off.max(axis=0) if n > 1 else np.full(n, -np.inf)
    return (diag > row_best) & (diag > col_best)


def layer_hits(english: np.ndarray, other: np.ndarray) -> np.ndarray:
    """[n, layers] booleans; inputs are [n, layers, hidden] (layer 0 = embedding output)."""
    n_layers = english.shape[1]
    return np.stack([mutual_nearest_hits(english[:, l], other[:, l]) for l in range(n_layers)], axis=1)


def alignment_per_layer(english: np.ndarray, other: np.ndarray) -> np.ndarray:
    return layer_hits(english, other).mean(axis=0)


def pooled(per_layer: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(per_layer)), "max": float(np.max(per_layer)), "argmax_layer": int(np.argmax(per_layer))}
