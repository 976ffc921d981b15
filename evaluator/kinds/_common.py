"""Small pieces shared by the kinds: hashing prompts, encoding prompts within the window."""

from __future__ import annotations

import hashlib


def prompt_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def encode_prompt(lm, text: str, reserve: int) -> tuple[list[int], bool]:
    """Token ids of a generation prompt, left-truncated so that ``reserve`` new tokens fit."""
    from ..encoding import encode_context

    if lm.tokenizer is None:  # an endpoint: the server tokenizes (and truncates or refuses)
        return [], False
    ids = encode_context(lm.tokenizer, lm.specials, text)
    limit = lm.max_length - reserve
    if len(ids) <= limit:
        return ids, False
    keep = len(lm.specials.prefix)
    return ids[:keep] + ids[len(ids) - (limit - keep):], True


def chat_prompt(lm, messages: list[dict]) -> str:
    """The conversation rendered with the model's chat template, or plainly when it has none."""
    if lm.has_chat_template:
        return lm.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    parts = [m["content"] for m in messages]
    return "\n\n".join(parts) + "\n\n"


def base_row(item, prompt: str, truncated: bool) -> dict:
    """The columns every sample row has, whatever the kind of task."""
    return {"item_id": item.item_id, "language": item.language, "category": item.category, "prompt": prompt,
            "prompt_hash": prompt_hash(prompt), "truncated": truncated}


def as_messages(card, prompt: str) -> tuple:
    """The conversation an endpoint is sent for a one-prompt task: the prompt as the user's message
    (``/chat/completions``), or none where the card's ``prompt.style`` says it is a completion prompt
    (sent as it is to ``/completions``, as the local backend feeds it)."""
    if card.prompt.get("style", "chat") == "completion":
        return ()
    return ({"role": "user", "content": prompt},)
