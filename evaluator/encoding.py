"""Turning (context, continuation) strings into token ids without the usual traps.

- The context and each continuation are encoded separately: encoding the joined string and
  splitting it can leave an empty continuation when a token spans the join (CJK, Thai).
- Trailing whitespace of the context moves to the continuation, as lm-eval and lighteval do.
- The context carries exactly the special tokens the tokenizer adds to a single sequence
  (usually one BOS), never two; continuations carry none.
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


def special_tokens_of(tokenizer) -> SpecialTokens:
    probe = "a"
    plain = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe, add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            return SpecialTokens(tuple(full[:start]), tuple(full[start + len(plain) :]))
    return SpecialTokens((), ())


def move_trailing_space(context: str, continuation: str) -> tuple[str, str]:
    stripped = context.rstrip()
    return stripped, context[len(stripped) :] + continuation


def encode_context(tokenizer, specials: SpecialTokens, text: str) -> list[int]:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
    prefix = list(specials.prefix)
    if prefix and ids[: len(prefix)] == prefix:
        prefix = []  # the text already starts with the BOS string
    ids = prefix + ids
    if not ids:
        # An empty context still needs something to condition on.
        fallback = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        ids = [fallback]
    return ids


def encode_continuation(tokenizer, text: str) -> list[int]:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise EmptyContinuationError(f"continuation {text!r} encodes to no tokens")
    return ids


def encode_choice_group(tokenizer, specials: SpecialTokens, context: str, continuations: list[str]):
    """Encode one multiple-choice item: (context ids, [continuation ids per choice])."""
    ctx_text = context.rstrip()
    ctx_ids = encode_context(tokenizer, specials, ctx_text)
    cont_ids = [encode_continuation(tokenizer, move_trailing_space(context, c)[1]) for c in continuations]
    return ctx_ids, cont_ids


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
