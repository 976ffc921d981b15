"""Turning (context, continuation) strings into token ids the way lm-eval's HF backend does.

Multiple choice follows lm-evaluation-harness 0.4.13 (``TemplateLM._encode_pair`` with a causal HF
model) so that loglikelihoods are comparable with published figures:

- Trailing whitespace of the context moves to the continuation.
- ``whole = encode(context + continuation)``, ``ctx = encode(context)`` (both with the tokenizer's
  special prefix, usually one BOS), and the continuation is ``whole[len(ctx):]``. Encoding the
  continuation on its own would differ for tokenizers with a dummy word-boundary prefix
  (SentencePiece-style Llama-2, Mistral): ``" the man"`` alone gains a stray ``"▁"`` token.
- An empty context is the model's prefix token (BOS, else EOS) and the continuation is encoded
  alone, as lm-eval does.

The joint split is *degenerate* when a token spans the join (CJK, Thai, some byte merges): ``ctx``
is then not a prefix of ``whole``, or nothing is left for the continuation. lm-eval would score a
shifted or empty continuation there; we fall back to encoding the continuation alone, without
special tokens, and count those choices (``ChoiceSplit.separate``) so a run reports how often.

Deliberate difference: only the special tokens the tokenizer puts *before* a sequence are added;
a suffix (an EOS some tokenizers append) never lands between context and continuation.
"""

from __future__ import annotations

from dataclasses import dataclass


class EmptyContinuationError(ValueError):
    pass


@dataclass(frozen=True)
class SpecialTokens:
    """The ids a tokenizer puts before and after a single sequence."""

    prefix: tuple[int, ...]
    suffix: tuple[int, ...]


@dataclass(frozen=True)
class ChoiceSplit:
    """One multiple-choice item as token ids; ``separate[j]`` says choice j used the fallback rule."""

    context: list[int]
    continuations: list[list[int]]
    separate: tuple[bool, ...]

    @property
    def n_separate(self) -> int:
        return sum(self.separate)


def special_tokens_of(tokenizer) -> SpecialTokens:
    probe = "a"
    plain = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe, add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            return SpecialTokens(tuple(full[:start]), tuple(full[start + len(plain) :]))
    return SpecialTokens((), ())


def prefix_token_id(tokenizer) -> int:
    """What an empty context conditions on: BOS, else EOS (lm-eval's ``prefix_token_id``)."""
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def move_trailing_space(context: str, continuation: str) -> tuple[str, str]:
    stripped = context.rstrip()
    return stripped, context[len(stripped) :] + continuation


def _with_prefix(tokenizer, specials: SpecialTokens, text: str) -> list[int]:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
    prefix = list(specials.prefix)
    if prefix and ids[: len(prefix)] == prefix:
        prefix = []  # the text already starts with the BOS string
    return prefix + ids


def encode_context(tokenizer, specials: SpecialTokens, text: str) -> list[int]:
    ids = _with_prefix(tokenizer, specials, text)
    # An empty context still needs something to condition on.
    return ids or [prefix_token_id(tokenizer)]


def encode_continuation(tokenizer, text: str) -> list[int]:
    """The continuation alone, without special tokens (empty contexts and the fallback rule)."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise EmptyContinuationError(f"continuation {text!r} encodes to no tokens")
    return ids


def split_choices(tokenizer, specials: SpecialTokens, context: str, continuations: list[str]) -> ChoiceSplit:
    """Encode one multiple-choice item with lm-eval's joint split (see the module docstring).

    Every choice shares the same context ids, so the packed path (context once, then each choice)
    computes exactly what one row per choice computes.
    """
    if context == "":
        ctx = [prefix_token_id(tokenizer)]
        return ChoiceSplit(ctx, [encode_continuation(tokenizer, c) for c in continuations],
                           (False,) * len(continuations))
    ctx_text = context.rstrip()
    ctx = _with_prefix(tokenizer, specials, ctx_text)
    if not ctx:  # a context of spaces only, and a tokenizer without BOS: lm-eval's empty-context rule
        ctx = [prefix_token_id(tokenizer)]
        return ChoiceSplit(ctx, [encode_continuation(tokenizer, move_trailing_space(context, c)[1])
                                 for c in continuations], (False,) * len(continuations))
    conts, separate = [], []
    for choice in continuations:
        cont_text = move_trailing_space(context, choice)[1]
        whole = _with_prefix(tokenizer, specials, ctx_text + cont_text)
        tail = whole[len(ctx) :]
        if whole[: len(ctx)] == ctx and tail:
            conts.append(tail)
            separate.append(False)
        else:
            conts.append(encode_continuation(tokenizer, cont_text))
            separate.append(True)
    return ChoiceSplit(ctx, conts, tuple(separate))


def encode_choice_group(tokenizer, specials: SpecialTokens, context: str, continuations: list[str]):
    """Encode one multiple-choice item: (context ids, [continuation ids per choice])."""
    split = split_choices(tokenizer, specials, context, continuations)
    return split.context, split.continuations


def truncate_left(ctx_ids: list[int], cont_lens: list[int], max_length: int, keep_prefix: int) -> tuple[list[int], bool]:
    """Drop context tokens from the left (after the special prefix) so every row fits.

    The longest choice decides: context + longest continuation - 1 must fit in ``max_length``.
    Returns the ids and whether anything was dropped.
    """
    need = len(ctx_ids) + max(cont_lens) - 1
    if need <= max_length:
        return ctx_ids, False
    excess = need - max_length
    head, body = ctx_ids[:keep_prefix], ctx_ids[keep_prefix:]
    if excess >= len(body):
        raise ValueError("a continuation alone is longer than the model's context window")
    return head + body[excess:], True
