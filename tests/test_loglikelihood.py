"""The scoring engine against references computed by hand from the model's own logits."""

from __future__ import annotations

import random

import pytest
import torch

from evaluator.batching import TokenBudget, budget_batches
from evaluator.encoding import encode_choice_group, encode_context, truncate_left
from evaluator.loglikelihood import ChoiceGroup, score_packed, score_plain, tree_mask


def reference_loglik(model, ctx, cont) -> float:
    """Sum of log p(cont_t | ctx, cont_<t) from one unbatched forward pass of the whole sequence."""
    ids = torch.tensor([ctx + cont])
    with torch.no_grad():
        logp = model(ids).logits[0].float().log_softmax(-1)
    return sum(logp[len(ctx) - 1 + t, tok].item() for t, tok in enumerate(cont))


def random_groups(vocab, n, seed=0):
    rng = random.Random(seed)
    return [
        ChoiceGroup([1] + [rng.randrange(3, vocab) for _ in range(rng.randint(1, 30))],
                    [[rng.randrange(3, vocab) for _ in range(rng.randint(1, 5))] for _ in range(rng.choice([2, 3, 4]))])
        for _ in range(n)
    ]


@pytest.mark.slow
def test_plain_path_matches_hand_reference(tiny_lm):
    model = tiny_lm.model
    groups = random_groups(model.config.vocab_size, 12)
    scores = score_plain(model, groups, TokenBudget(256))
    for g, s in zip(groups, scores):
        for cont, ll in zip(g.continuations, s.loglik):
            assert ll == pytest.approx(reference_loglik(model, g.context, cont), abs=1e-4)


@pytest.mark.slow
def test_batched_equals_one_by_one_and_packed_equals_plain(tiny_lm):
    model = tiny_lm.model
    groups = random_groups(model.config.vocab_size, 40, seed=1)
    batched = score_plain(model, groups, TokenBudget(400))
    single = [score_plain(model, [g], TokenBudget(10_000))[0] for g in groups]
    packed = score_packed(model, groups, TokenBudget(400))
    for b, s, p in zip(batched, single, packed):
        for x, y, z in zip(b.loglik, s.loglik, p.loglik):
            assert abs(x - y) < 1e-4
            assert abs(x - z) < 1e-4
        assert b.is_greedy == p.is_greedy


@pytest.mark.slow
def test_single_token_choices_need_only_the_context(tiny_lm):
    model = tiny_lm.model
    groups = [ChoiceGroup([1, 40, 41, 42], [[50], [51], [52], [53]])]
    with torch.no_grad():
        logp = model(torch.tensor([[1, 40, 41, 42]])).logits[0, -1].float().log_softmax(-1)
    got = score_packed(model, groups, TokenBudget(100))[0]
    assert got.loglik == pytest.approx([logp[t].item() for t in (50, 51, 52, 53)], abs=1e-5)


@pytest.mark.slow
def test_greedy_flag_is_true_for_the_argmax_continuation(tiny_lm):
    model = tiny_lm.model
    ctx = [1, 60, 61]
    with torch.no_grad():
        first = int(model(torch.tensor([ctx])).logits[0, -1].argmax())
        second = int(model(torch.tensor([ctx + [first]])).logits[0, -1].argmax())
    res = score_packed(model, [ChoiceGroup(ctx, [[first, second], [first, (second + 1) % 100 + 3]])], TokenBudget(100))[0]
    assert res.is_greedy[0] is True
    assert res.is_greedy[1] is False


def test_tree_mask_lets_choices_see_context_and_themselves_only():
    seg = torch.tensor([[0, 0, 1, 1, 2, -1]])
    allowed = tree_mask(seg, torch.float32)[0, 0] == 0
    # first choice token sees the context and itself, not the second choice
    assert allowed[2].tolist() == [True, True, True, False, False, False]
    assert allowed[3].tolist() == [True, True, True, True, False, False]
    assert allowed[4].tolist() == [True, True, False, False, True, False]
    assert allowed[5].tolist() == [False, False, False, False, False, True]  # padding sees itself only


@pytest.mark.slow
def test_context_has_exactly_one_bos_and_continuation_none(tiny_lm):
    tok, specials = tiny_lm.tokenizer, tiny_lm.specials
    bos = tok.bos_token_id
    assert specials.prefix == (bos,)
    ctx, conts = encode_choice_group(tok, specials, "Question: 2+2?\nAnswer:", [" 4", " 5"])
    assert ctx[0] == bos and ctx.count(bos) == 1
    assert all(bos not in c for c in conts)
    # a context that already starts with the BOS string gets no second BOS
    again = encode_context(tok, specials, tok.bos_token + "Hello")
    assert again.count(bos) == 1


@pytest.mark.slow
@pytest.mark.parametrize("context,choice", [("猫在温暖的屋顶", "上睡觉"), ("แมวนอนอยู่บน", "หลังคา"), ("Ans", "wer"),
                                            ("Réponse :", " oui"), ("答え：", "はい")])
def test_continuations_are_never_empty_and_round_trip(tiny_lm, context, choice):
    tok, specials = tiny_lm.tokenizer, tiny_lm.specials
    ctx, (cont,) = encode_choice_group(tok, specials, context, [choice])
    assert len(cont) > 0
    assert tok.decode(ctx[1:]) + tok.decode(cont) == context + choice


@pytest.mark.slow
def test_trailing_space_of_context_moves_to_the_continuation(tiny_lm):
    tok, specials = tiny_lm.tokenizer, tiny_lm.specials
    a = encode_choice_group(tok, specials, "Answer: ", ["yes"])
    b = encode_choice_group(tok, specials, "Answer:", [" yes"])
    assert a == b


def test_truncation_drops_context_from_the_left_and_says_so():
    ids, cut = truncate_left([1, 10, 11, 12, 13, 14], [3, 2], max_length=6, keep_prefix=1)
    assert cut and ids == [1, 12, 13, 14]
    ids, cut = truncate_left([1, 10, 11], [2], max_length=10, keep_prefix=1)
    assert not cut and ids == [1, 10, 11]


def test_budget_batches_are_longest_first_and_within_budget():
    lengths = [5, 50, 20, 20, 7, 49]
    batches = budget_batches(lengths, budget=100)
    assert batches[0][0] == 1  # the longest row comes first
    for b in batches:
        assert len(b) * max(lengths[i] for i in b) <= 100 or len(b) == 1
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))


def test_out_of_memory_halves_the_budget_and_loses_nothing():
    budget = TokenBudget(100)
    seen, calls = [], {"n": 0}

    def step(batch):
        calls["n"] += 1
        if len(batch) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return batch

    budget.run([10] * 8, step, lambda batch, res: seen.extend(res))
    assert sorted(seen) == list(range(8))
    assert budget.backoffs >= 1 and budget.tokens < 100
