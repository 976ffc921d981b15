"""The item: one benchmark question in one language, as every loader returns it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Item:
    item_id: str
    language: str  # <iso639-3>_<Script>
    category: str = ""
    fields: dict = field(default_factory=dict)  # values the prompt template may use
    choices: list[str] | None = None  # multiple choice
    gold: object = None  # index (multiple choice), list of answers, reference text, ...
    turns: list[dict] | None = None  # instruction following: prompts with their instructions
    meta: dict = field(default_factory=dict)
