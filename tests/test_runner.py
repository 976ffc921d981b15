"""The runner and engine: truncation is counted, the cache key covers what changes a response."""

from __future__ import annotations

import dataclasses

import pytest

from evaluator.cache import ResponseCache
from evaluator.cards import get_card
from evaluator.engine import Engine, EngineOptions
from evaluator.items import Item
from evaluator.kinds import multiple_choice
from evaluator.loglikelihood import ChoiceGroup


@pytest.mark.slow
def test_truncated_items_are_flagged_never_silent(tiny_lm):
    lm = dataclasses.replace(tiny_lm, max_length=24)
    card = get_card("polyglot_mc")
    items = [Item("short", "eng_Latn", "idiom", {"question": "Hi?"}, ["a", "b"], 0),
             Item("long", "eng_Latn", "idiom", {"question": "word " * 60}, ["a", "b"], 1)]
    rows = multiple_choice.run(card, items, Engine(lm, ResponseCache(None)))
    assert [r["truncated"] for r in rows] == [False, True]


def _count_misses(lm, cache_path, groups):
    cache = ResponseCache(cache_path)
    Engine(lm, cache, EngineOptions(path="packed")).loglikelihood(groups)
    cache.close()
    return cache.misses


@pytest.mark.slow
@pytest.mark.parametrize("change", ["revision", "dtype", "chat_template", "engine_version", "none"])
def test_changing_model_revision_dtype_template_or_engine_recomputes(tiny_lm, tmp_path, monkeypatch, change):
    import torch

    groups = [ChoiceGroup([1, 50, 51], [[60], [61, 62]]), ChoiceGroup([1, 70], [[80, 81], [82]])]
    path = tmp_path / "cache.sqlite"
    assert _count_misses(tiny_lm, path, groups) == 2
    lm = tiny_lm
    if change == "revision":
        lm = dataclasses.replace(tiny_lm, revision="another-commit")
    elif change == "dtype":
        lm = dataclasses.replace(tiny_lm, dtype=torch.bfloat16)
    elif change == "chat_template":
        lm = dataclasses.replace(tiny_lm, chat_template_hash="different")
    elif change == "engine_version":
        monkeypatch.setattr("evaluator.engine.ENGINE_VERSION", "999")
    expected = 0 if change == "none" else 2
    assert _count_misses(lm, path, groups) == expected


@pytest.mark.slow
def test_vllm_backend_without_vllm_says_how_to_install(tiny_lm):
    import importlib.util

    from evaluator.vllm_generation import VLLMUnavailable

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    with pytest.raises(VLLMUnavailable, match="own environment"):
        Engine(tiny_lm, ResponseCache(None), EngineOptions(generation_backend="vllm"))


@pytest.mark.slow
def test_generation_cache_key_includes_the_backend(tiny_lm, tmp_path):
    from evaluator.generation import GenRequest

    cache = ResponseCache(tmp_path / "c.sqlite")
    engine = Engine(tiny_lm, cache, EngineOptions())
    engine.generate([GenRequest([1, 40, 41], (), 4)])
    engine.options.generation_backend = "other"
    engine.generate([GenRequest([1, 40, 41], (), 4)])
    assert cache.misses == 2 and cache.hits == 0
