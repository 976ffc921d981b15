"""Greedy generation: stop strings, batching and padding side."""

from __future__ import annotations

import pytest
import torch

from evaluator.batching import TokenBudget
from evaluator.encoding import encode_context
from evaluator.generation import GenRequest, cut_at_stop, generate_greedy


def test_cut_at_first_stop_string():
    assert cut_at_stop("12\nQuestion: next", ["\n", "Question:"]) == ("12", True)
    assert cut_at_stop("no stop here", ["\n"]) == ("no stop here", False)
    assert cut_at_stop("a</s>b\nc", ["\n", "</s>"]) == ("a", True)


@pytest.mark.slow
def test_batched_greedy_equals_one_by_one(tiny_lm):
    prompts = ["Question: how many?\nAnswer:", "猫は", "Le petit chat", "Mtoto anasoma kitabu shuleni. Jibu:", "Q"]
    reqs = [GenRequest(encode_context(tiny_lm.tokenizer, tiny_lm.specials, p), (), 8) for p in prompts]
    batched = generate_greedy(tiny_lm.model, tiny_lm.tokenizer, reqs, TokenBudget(10_000))
    single = [generate_greedy(tiny_lm.model, tiny_lm.tokenizer, [r], TokenBudget(10_000))[0] for r in reqs]
    assert [b.raw for b in batched] == [s.raw for s in single]
    assert all(o.n_tokens == 8 and o.stopped_by == "length" for o in batched)


@pytest.mark.slow
def test_greedy_output_matches_manual_argmax_decoding(tiny_lm):
    ids = encode_context(tiny_lm.tokenizer, tiny_lm.specials, "The quick brown")
    out = generate_greedy(tiny_lm.model, tiny_lm.tokenizer, [GenRequest(ids, (), 5)], TokenBudget(1000))[0]
    seq = list(ids)
    with torch.no_grad():
        for _ in range(5):
            seq.append(int(tiny_lm.model(torch.tensor([seq])).logits[0, -1].argmax()))
    assert out.raw == tiny_lm.tokenizer.decode(seq[len(ids):], skip_special_tokens=True)


@pytest.mark.slow
def test_stop_string_spanning_tokens_cuts_the_output(tiny_lm):
    ids = encode_context(tiny_lm.tokenizer, tiny_lm.specials, "The quick brown")
    free = generate_greedy(tiny_lm.model, tiny_lm.tokenizer, [GenRequest(ids, (), 12)], TokenBudget(1000))[0]
    text = free.raw
    assert len(text) >= 4
    stop = text[2:4]  # two characters in the middle of the free-running output
    got = generate_greedy(tiny_lm.model, tiny_lm.tokenizer, [GenRequest(ids, (stop,), 12)], TokenBudget(1000))[0]
    assert got.text == text[: text.find(stop)]
    assert got.stopped_by == "stop_string"


@pytest.mark.slow
def test_sampling_is_reproducible_with_its_seed_and_differs_from_greedy(tiny_lm):
    ids = encode_context(tiny_lm.tokenizer, tiny_lm.specials, "The quick brown")
    sampled = [GenRequest(ids, (), 12, temperature=1.5, top_p=0.95, seed=s) for s in (7, 7, 8)]
    a, b, c = (generate_greedy(tiny_lm.model, tiny_lm.tokenizer, [r], TokenBudget(1000))[0].raw for r in sampled)
    greedy = generate_greedy(tiny_lm.model, tiny_lm.tokenizer, [GenRequest(ids, (), 12)], TokenBudget(1000))[0].raw
    assert a == b
    assert len({a, c, greedy}) > 1  # a random tiny model at temperature 1.5 does not sample its argmax path
    assert sampled[0].sampling == (1.5, 0.95, 7) and GenRequest(ids).sampling == ()
