"""The arguments of every API endpoint, declared once: what each accepts, its default, its bounds.

Endpoints take JSON from anyone, so a value may be of any type and size. ``endpoint`` checks and
coerces every argument of a function against the spec of the same name in ``ARGS`` before the
function runs: a wrong value is refused with one clear message naming the argument, never a
traceback, and what reaches the function (and is echoed back) is always of the declared type.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from .filters import FILTERS

from evaluator.errors import PolyglotError


class BadArgument(PolyglotError, ValueError):
    """An argument that does not fit its spec; ``str(exc)`` is the message for the caller."""


def _kind(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True)
class Text:
    """One string: surrounding blanks dropped, at most ``max_length`` characters."""

    default: str = ""
    max_length: int = 1000
    required: bool = False

    def coerce(self, name: str, value) -> str:
        if value is None:
            value = self.default
        if not isinstance(value, str):
            raise BadArgument(f"{name} must be text, not {_kind(value)}.")
        value = value.strip()
        if len(value) > self.max_length:
            raise BadArgument(f"{name} is too long ({len(value):,} characters; at most {self.max_length:,}).")
        if self.required and not value:
            raise BadArgument(f"{name} is required.")
        return value


@dataclass(frozen=True)
class TextList:
    """A comma-separated list (or a JSON list of strings): a tuple of non-empty items."""

    max_length: int = 10_000
    max_items: int = 500

    def coerce(self, name: str, value) -> tuple:
        if value is None:
            return ()
        if isinstance(value, (list, tuple)):
            if not all(isinstance(v, str) for v in value):
                raise BadArgument(f"{name} must be a comma-separated text or a list of texts.")
            value = ",".join(value)
        if not isinstance(value, str):
            raise BadArgument(f"{name} must be a comma-separated text, not {_kind(value)}.")
        if len(value) > self.max_length:
            raise BadArgument(f"{name} is too long ({len(value):,} characters; at most {self.max_length:,}).")
        items = tuple(t.strip() for t in value.split(",") if t.strip())
        if len(items) > self.max_items:
            raise BadArgument(f"{name} lists {len(items):,} values; at most {self.max_items:,}.")
        return items


@dataclass(frozen=True)
class Choice:
    """One of a few fixed values (case-insensitive)."""

    values: tuple
    default: str

    def coerce(self, name: str, value) -> str:
        if value is None or value == "":
            return self.default
        if isinstance(value, str) and value.strip().lower() in self.values:
            return value.strip().lower()
        shown = repr(value)[:40] if isinstance(value, str) else _kind(value)
        raise BadArgument(f"{name} must be one of {', '.join(self.values)}, not {shown}.")


@dataclass(frozen=True)
class Integer:
    """A whole number in [low, high]; integral floats and digit strings are accepted."""

    default: int
    low: int
    high: int

    def coerce(self, name: str, value) -> int:
        if value is None or value == "":
            return self.default
        number = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value.strip()) <= 20:
            number = int(value.strip())
        if number is None:
            raise BadArgument(f"{name} must be a whole number from {self.low} to {self.high:,}.")
        if not self.low <= number <= self.high:
            raise BadArgument(f"{name} must be from {self.low} to {self.high:,}.")
        return number


@dataclass(frozen=True)
class Flag:
    """true/false; also 0/1 and the strings "true"/"false"."""

    default: bool = False

    def coerce(self, name: str, value) -> bool:
        if value is None or value == "":
            return self.default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "0", "1"):
            return value.strip().lower() in ("true", "1")
        raise BadArgument(f"{name} must be true or false.")


FILTER = TextList()
MODEL = Text(max_length=4096, required=True)
# Every argument of every endpoint, by name. An endpoint argument without a spec is a programming
# error, caught when the endpoint is declared.
ARGS: dict[str, Any] = {
    "model_id": MODEL, "model_a": MODEL, "model_b": MODEL,
    # What a submitter types is checked by submissions.validate, which explains each refusal.
    "submitted_model": Text(max_length=100_000),
    "revision": Text("main", max_length=5000),
    "precision": Text("auto", max_length=1000),
    # Every filter of explorer.filters, by its API name: a list, or one value such as the category.
    **{s.api: FILTER if s.many else Text(s.default, max_length=200) for s in FILTERS},
    "run_id": Text(max_length=200, required=True),
    "sample_task": Text(max_length=200, required=True),
    "sample_language": Text(max_length=200),
    "sample_category": Text(max_length=200),
    "wrong_only": Flag(),
    "page": Integer(1, 1, 1_000_000),
    "page_size": Integer(20, 1, 200),
    "fmt": Choice(("csv", "parquet", "json"), "csv"),
    "benchmark": Text(max_length=300), "sort": Text(max_length=300),
    "merge_sources": Flag(), "include_empty": Flag(),
}
# Arguments Gradio fills in itself (not from the caller's JSON).
INJECTED = (gr.Request, gr.OAuthProfile)


def _injected(param: inspect.Parameter) -> bool:
    ann = param.annotation
    if isinstance(ann, str):
        return "Request" in ann or "OAuthProfile" in ann
    return any(ann is t or (getattr(ann, "__args__", None) and t in ann.__args__) for t in INJECTED)


def endpoint(fn: Callable, specs: dict[str, Any] | None = None, aliases: dict[str, str] | None = None) -> Callable:
    """``fn`` with every caller-given argument checked against its spec (``ARGS`` by name, or
    ``aliases[name]``'s spec). A value that does not fit raises ``gr.Error`` with the spec's message."""
    specs = specs or ARGS
    aliases = aliases or {}
    sig = inspect.signature(fn)
    checked = {}
    for name, param in sig.parameters.items():
        if _injected(param):
            continue
        key = aliases.get(name, name)
        if key not in specs:
            raise TypeError(f"endpoint {fn.__name__}: argument {name} has no spec in explorer.api_args.ARGS")
        checked[name] = (key, specs[key])

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = sig.bind_partial(*args, **kwargs)
        for name, (key, spec) in checked.items():
            label = name
            try:
                bound.arguments[name] = spec.coerce(label, bound.arguments.get(name, sig.parameters[name].default
                                                                        if sig.parameters[name].default
                                                                        is not inspect.Parameter.empty else None))
            except BadArgument as exc:
                raise gr.Error(str(exc), title="Invalid argument") from None
        return fn(*bound.args, **bound.kwargs)

    return wrapper
