"""MEXA alignment: the vectorised metric against a loop that follows the reference script."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from evaluator.batching import TokenBudget
from evaluator.embeddings import pooled_hidden_states
from evaluator.encoding import encode_context
from evaluator.metrics.alignment import alignment_per_layer, mutual_nearest_hits, pooled


def reference_mexa(matrix) -> float:
    """cisnlp/MEXA compute_mexa.py's rule, written as plainly as possible."""
    n = len(matrix)
    count = 0
    for i in range(n):
        row = [matrix[i][j] for j in range(n) if j != i]
        col = [matrix[j][i] for j in range(n) if j != i]
        if matrix[i][i] > max(row, default=-math.inf) and matrix[i][i] > max(col, default=-math.inf):
            count += 1
    return count / n


def cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_hand_computed_example():
    eng = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # sentence 0 matches, sentence 1 is closer to the third English sentence, sentence 2 ties -> not strict
    oth = np.array([[1.0, 0.05], [0.9, 1.0], [1.0, 1.0]])
    hits = mutual_nearest_hits(eng, oth)
    assert hits.tolist() == [True, False, False] or hits.tolist() == [True, False, True]
    matrix = [[cosine(e, o) for o in oth] for e in eng]
    assert hits.mean() == reference_mexa(matrix)


def test_vectorised_equals_reference_loop_on_random_embeddings():
    rng = np.random.default_rng(0)
    eng = rng.normal(size=(10, 5, 16))
    oth = eng + rng.normal(scale=1.2, size=eng.shape)  # noisy translations: some layers align, some not
    per_layer = alignment_per_layer(eng, oth)
    for layer in range(5):
        matrix = [[cosine(eng[i, layer], oth[j, layer]) for j in range(10)] for i in range(10)]
        assert per_layer[layer] == reference_mexa(matrix)
    assert 0 < per_layer.mean() < 1
    p = pooled(per_layer)
    assert p["mean"] == per_layer.mean() and p["max"] == per_layer.max()


@pytest.mark.slow
def test_pooled_hidden_states_batched_equal_one_by_one(tiny_lm):
    sents = ["The cat sleeps.", "猫在温暖的屋顶上睡觉。", "Кошка спит на тёплой крыше.", "แมวนอน", "A"]
    seqs = [encode_context(tiny_lm.tokenizer, tiny_lm.specials, s) for s in sents]
    batched = pooled_hidden_states(tiny_lm.model, seqs, TokenBudget(10_000))
    for seq, got in zip(seqs, batched):
        with torch.no_grad():
            hs = tiny_lm.model(torch.tensor([seq]), output_hidden_states=True).hidden_states
        weights = torch.arange(1, len(seq) + 1, dtype=torch.float32)
        want = np.stack([((h[0] * weights[:, None]).sum(0) / weights.sum()).numpy() for h in hs])
        assert got.shape == (tiny_lm.model.config.num_hidden_layers + 1, tiny_lm.model.config.hidden_size)
        assert np.abs(got - want).max() < 1e-5
