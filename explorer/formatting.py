"""Turning view tables into what people read: percentages, links, escaped names."""

from __future__ import annotations

import html
import re

import pandas as pd

# "<" and ">" are left to html.escape; quotes stay as they are (harmless in text, and an entity such as
# &#x27; would show as such once its "#" is backslash-escaped).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def escape_markdown(text: str) -> str:
    """Text shown inside Markdown cells: HTML-escaped and Markdown syntax neutralised."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


# Text a Markdown renderer turns into a link by itself (GFM autolinks): a scheme, "www.", an e-mail
# address. Escaping the punctuation that starts one keeps the text as it is, but plain.
_AUTOLINK = re.compile(r"([:.@])")
HUB_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?/[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")


def plain_text(text: str) -> str:
    """Text shown in a Markdown cell exactly as written: no markup, no HTML, no automatic links."""
    return _AUTOLINK.sub(r"\\\1", escape_markdown(text))


def model_cell(name: str, url: str | None) -> str:
    """A model's name, linked only to its own Hub page (https://huggingface.co/ORG/NAME); any
    other name, whatever it looks like (a URL, www.…), is plain text."""
    label = plain_text(name)
    if isinstance(url, str) and url.startswith("https://huggingface.co/") \
            and HUB_REPO.fullmatch(url.removeprefix("https://huggingface.co/")):
        return f"[{label}]({url})"
    return label


def percent_columns(df: pd.DataFrame, columns: list[str], digits: int = 1) -> pd.DataFrame:
    out = df.copy()
    for c in columns:
        if c in out:
            out[c] = (pd.to_numeric(out[c], errors="coerce") * 100).round(digits)
    return out


def seconds_to_text(seconds) -> str:
    if seconds is None or pd.isna(seconds):
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
