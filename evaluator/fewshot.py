"""Which few-shot examples each item gets, in which order, as lm-evaluation-harness chooses them.

lm-eval 0.4.13 (``api/samplers.py``) gives each task one ``random.Random(fewshot_seed)`` (1234 unless
the user sets ``--fewshot_random_seed``) and, building the prompts of the evaluated documents in
order, draws ``rnd.sample(pool, n)`` for each. So the examples of an item depend on its position in
the test split, and with a pool of exactly ``n`` examples every item sees all of them in its own order.
When the few-shot pool is the test split itself, lm-eval draws ``n + 1`` and drops the item; the
suite's few-shot pools are separate splits, so that path is not needed here.
"""

from __future__ import annotations

import random

LM_EVAL_FEWSHOT_SEED = 1234


def _default(pool_size: int, n: int, n_items: int, seed: int) -> list[list[int]]:
    rnd = random.Random(seed)
    pool = list(range(pool_size))
    return [rnd.sample(pool, n) for _ in range(n_items)]


def _first_n(pool_size: int, n: int, n_items: int, seed: int) -> list[list[int]]:
    return [list(range(n)) for _ in range(n_items)]


SAMPLERS = {"default": _default, "first_n": _first_n}


def fewshot_indices(pool_size: int, n: int, n_items: int, sampler: str = "default",
                    seed: int = LM_EVAL_FEWSHOT_SEED) -> list[list[int]]:
    """For items 0..n_items-1 of one task (one language), the pool indices of their ``n`` examples."""
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown few-shot sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    if not 0 <= n <= pool_size:
        raise ValueError(f"{n} few-shot examples asked for, {pool_size} available")
    return SAMPLERS[sampler](pool_size, n, n_items, seed)
