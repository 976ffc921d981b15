"""Rendering prompt templates from task cards with localised labels."""

from __future__ import annotations

import string

from .cards import TaskCard, prompt_labels
from .errors import PolyglotError


class PromptError(PolyglotError, KeyError):
    pass


class _Values(dict):
    def __missing__(self, key):
        raise PromptError(f"the prompt template uses {{{key}}}, which the item does not provide")


def labels_for(language: str) -> dict[str, str]:
    labels = prompt_labels()
    out = dict(labels.get("eng_Latn", {}))
    out.update(labels.get(language, {}))
    return {f"label_{k}": v for k, v in out.items()}


def render(template: str, values: dict) -> str:
    return string.Formatter().vformat(template, (), _Values(values))


def template_for(card: TaskCard, name: str, language: str) -> str:
    """A named template of the card, with a per-language override where the card has one."""
    per_lang = card.prompt.get("by_language", {}).get(language, {})
    if name in per_lang:
        return per_lang[name]
    if name not in card.prompt:
        raise PromptError(f"task {card.id} has no prompt template {name!r}")
    return card.prompt[name]
