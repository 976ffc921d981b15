"""Reading an instruction's kwargs: a missing or malformed value is a ValueError naming it."""

from __future__ import annotations

from typing import Any

Kwargs = dict[str, Any]


def required(kw: Kwargs, key: str) -> Any:
    if kw.get(key) is None:
        raise ValueError(f"instruction needs the kwarg {key!r} (got {sorted(kw)})")
    return kw[key]


def integer(kw: Kwargs, key: str, default: int | None = None) -> int:
    value = kw[key] if kw.get(key) is not None else default if default is not None else required(kw, key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (
            isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"kwarg {key!r} must be an integer, got {value!r}")
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"kwarg {key!r} must be an integer, got {value!r}") from exc


def string(kw: Kwargs, key: str) -> str:
    value = required(kw, key)
    if not isinstance(value, str):
        raise ValueError(f"kwarg {key!r} must be a string, got {value!r}")
    return value
