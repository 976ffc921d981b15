"""Multiple-choice continuations are split from the joint encoding exactly as lm-eval's HF backend does.

Three tokenizer families are built here (byte-level BPE, SentencePiece-style BPE with a dummy ``▁``
prefix and byte fallback as Llama-2, Unigram over Metaspace) and compared, token id by token id,
with lm-evaluation-harness 0.4.13's split rule, reimplemented below from its published code.
"""

from __future__ import annotations

import dataclasses
import json

import pyarrow.parquet as pq
import pytest
import torch

from evaluator.batching import TokenBudget
from evaluator.encoding import encode_continuation, move_trailing_space, special_tokens_of, split_choices
from evaluator.loglikelihood import ChoiceGroup, score_packed, score_plain
from evaluator.tiny_model import TOKENIZER_FAMILIES, train_tokenizer

# XCOPA-style items (premise without its full stop + connector, each choice after a space) in several
# scripts, and joins without a space where a token can span context and continuation (CJK, Thai).
ITEMS = [
    ("The man turned on the faucet so", [" the toilet filled with water", " water flowed from the spout"]),
    ("Mees keeras kraani lahti seetõttu", [" tualett täitus veega", " kraanist voolas vett"]),
    ("L'uomo aprì il rubinetto quindi", [" il water si riempì d'acqua", " l'acqua uscì dal beccuccio"]),
    ("Pria itu membuka keran maka", [" toilet terisi air", " air mengalir dari keran"]),
    ("Mtoto anasoma kitabu shuleni kwa sababu", [" alipenda hadithi", " alikuwa na njaa"]),
    ("Adam musluğu açtı bu yüzden", [" tuvalet suyla doldu", " musluktan su aktı"]),
    ("Người đàn ông mở vòi nước vì vậy", [" nhà vệ sinh đầy nước", " nước chảy ra từ vòi"]),
    ("அந்த மனிதன் குழாயைத் திறந்தான் எனவே", [" கழிப்பறை நிரம்பியது", " நீர் வெளியேறியது"]),
    ("ชายคนนั้นเปิดก๊อกน้ำ ดังนั้น", [" ชักโครกเต็มไปด้วยน้ำ", " น้ำไหลออกมาจากก๊อก"]),
    ("男人打开了水龙头 所以", [" 马桶里装满了水", " 水从龙头里流出来"]),
    ("Answer: ", ["yes", "no"]),  # the context's trailing space moves to the continuation
    # no space at the join: tokens may span it (degenerate splits)
    ("今天是春", ["节", "天"]),
    ("猫は暖かい屋根の上で寝て", ["います", "いる"]),
    ("แมวนอนอยู่บน", ["หลังคา", "หลังคาที่อบอุ่น"]),
    ("Ans", ["wer", "swer"]),
    ("12", ["50", "3"]),
]


def lm_eval_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """lm-eval 0.4.13: ``TemplateLM.loglikelihood`` / ``_encode_pair`` with ``HFLM.tok_encode`` (causal backend)."""
    prefix_token_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id

    def tok_encode(string, add_special_tokens=None):
        kwargs = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        if add_special_tokens is None and string.startswith(tokenizer.decode(prefix_token_id)):
            kwargs["add_special_tokens"] = False
        return tokenizer.encode(string, **kwargs)

    if context == "":
        cont = tok_encode(continuation, add_special_tokens=False)
        return ([prefix_token_id], cont) if prefix_token_id != cont[0] else (cont[:1], cont[1:])
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tok_encode(context + continuation)
    ctx = tok_encode(context)
    return ctx, whole[len(ctx):]


def degenerate(tokenizer, context: str, continuation: str) -> bool:
    """lm-eval's split would score a shifted or empty continuation."""
    ctx, cont = lm_eval_pair(tokenizer, context, continuation)
    ctx_text, cont_text = move_trailing_space(context, continuation)
    whole = tokenizer.encode(ctx_text + cont_text)
    return not cont or whole[: len(ctx)] != ctx


@pytest.fixture(scope="module", params=sorted(TOKENIZER_FAMILIES))
def tokenizer(request):
    return request.param, train_tokenizer(family=request.param)


def test_continuation_ids_equal_lm_eval_split(tokenizer):
    family, tok = tokenizer
    specials = special_tokens_of(tok)
    joint = separate = 0
    for context, choices in ITEMS:
        split = split_choices(tok, specials, context, choices)
        for choice, cont, alone in zip(choices, split.continuations, split.separate):
            theirs_ctx, theirs_cont = lm_eval_pair(tok, context, choice)
            assert alone == degenerate(tok, context, choice), (family, context, choice)
            if alone:
                separate += 1
                # the documented fallback: the continuation encoded on its own, without special tokens
                assert cont == encode_continuation(tok, move_trailing_space(context, choice)[1])
            else:
                joint += 1
                assert (split.context, cont) == (theirs_ctx, theirs_cont), (family, context, choice)
    assert joint >= 2 * 11  # every XCOPA-style choice takes the joint split
    if family != "unigram":
        assert separate > 0, "the fixture should exercise the fallback for this family"


def test_sentencepiece_continuation_alone_has_a_stray_marker():
    """Why the joint split matters: encoded alone, " the man" starts with a lone "▁" token."""
    tok = train_tokenizer(family="sentencepiece_bpe")
    specials = special_tokens_of(tok)
    context, choice = ITEMS[0][0], ITEMS[0][1][0]
    alone = tok(choice, add_special_tokens=False)["input_ids"]
    split = split_choices(tok, specials, context, [choice])
    assert tok.convert_ids_to_tokens(alone[:1]) == ["▁"]
    assert split.continuations[0] != alone and split.continuations[0] == lm_eval_pair(tok, context, choice)[1]
    assert tok.decode(split.context[1:] + split.continuations[0]) == context + choice


def test_empty_context_conditions_on_bos_like_lm_eval(tokenizer):
    _, tok = tokenizer
    split = split_choices(tok, special_tokens_of(tok), "", ["Hello there", "No"])
    for choice, cont in zip(["Hello there", "No"], split.continuations):
        assert (split.context, cont) == lm_eval_pair(tok, "", choice)


def _tiny_llama(tok):
    from transformers import AutoModelForCausalLM, LlamaConfig

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    return AutoModelForCausalLM.from_config(config).eval()


@pytest.mark.slow
def test_packed_and_plain_score_the_joint_sequence(tokenizer):
    """Shared-prefix batching stays exact: each choice's loglikelihood is that of the tail of ``whole``."""
    _, tok = tokenizer
    model = _tiny_llama(tok)
    specials = special_tokens_of(tok)
    splits = [split_choices(tok, specials, c, ch) for c, ch in ITEMS]
    groups = [ChoiceGroup(s.context, s.continuations) for s in splits]
    packed = score_packed(model, groups, TokenBudget(4096), pad_id=tok.pad_token_id)
    plain = score_plain(model, groups, TokenBudget(4096), pad_id=tok.pad_token_id)
    for (context, choices), s, a, b in zip(ITEMS, splits, packed, plain):
        assert a.loglik == pytest.approx(b.loglik, abs=1e-4)
        for j, choice in enumerate(choices):
            if s.separate[j]:
                continue
            whole = torch.tensor([s.context + s.continuations[j]])
            with torch.inference_mode():
                lp = torch.log_softmax(model(whole).logits[0].float(), -1)
            n = len(s.context)
            ref = sum(float(lp[t - 1, whole[0, t]]) for t in range(n, whole.shape[1]))
            assert a.loglik[j] == pytest.approx(ref, abs=1e-4)


@pytest.mark.slow
def test_run_records_items_whose_continuation_was_encoded_alone(tiny_lm, tmp_path, monkeypatch):
    """The fallback is never silent: each sample row and the run's provenance count it."""
    from evaluator import runner
    from evaluator.cards import get_card

    # XCOPA's layout, asked without a space at the join so that a token can span it.
    rows = [{"premise": "今天是春。", "choice1": "节", "choice2": "天", "question": "effect", "label": 0, "idx": 1},
            {"premise": "猫在温暖的屋顶。", "choice1": "上睡觉", "choice2": "下睡觉", "question": "cause", "label": 0,
             "idx": 2}]
    path = tmp_path / "bench" / "xcopa" / "data" / "zh" / "test.zh.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    card = dataclasses.replace(get_card("xcopa"), languages=("zho_Hans",),
                               prompt={"template": "{premise}", "choice": "{choice}"})
    monkeypatch.setattr(runner, "get_card", lambda task: card)
    expected = [split_choices(tiny_lm.tokenizer, tiny_lm.specials, r["premise"][:-1], [r["choice1"], r["choice2"]])
                for r in rows]
    assert [s.n_separate for s in expected] == [1, 0]
    out = tmp_path / "run"
    info = runner.run_evaluation(runner.RunRequest(model="tiny", tasks=["xcopa"], output=out, precision="float32",
                                                   device="cpu", data_roots=[tmp_path / "bench"], allow_hub=False),
                                 lm=tiny_lm)
    assert info["tasks"]["xcopa"]["n_separate_continuations"] == 1
    assert json.loads((out / "run.json").read_text())["tasks"]["xcopa"]["n_separate_continuations"] == 1
    samples = pq.read_table(out / "samples-xcopa.parquet").to_pylist()
    assert sorted(json.loads(r["details"])["separate_continuations"] for r in samples) == [0, 1]
