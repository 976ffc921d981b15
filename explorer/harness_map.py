"""Which project task and language a task name of lm-evaluation-harness or lighteval stands for.

The mapping is data (``data/harness_tasks.csv``), one row per task family, tried in order:

    harness   lm-eval | lighteval
    pattern   the harness's task name; ``{lang}`` is a language code (checked against the language
              table, so ``arc_easy`` is not Okapi's ARC in "easy"), ``{category}`` a subject or
              subset, ``*`` anything
    task      this project's task id (an existing card where there is one, else the family's own id)
    language  ``{lang}`` (the code in the name) or a fixed code
    kind      the project's task kind
    metric    the harness metric that becomes the headline score; alternatives separated by ``|``,
              the first one the file holds counts (lm-eval keys carry their filter: ``acc,none``)
    item_id   how the project's loader names an item: a format template over the harness's logged
              document (``{idx}``), its document number (``{doc_id}`` from 0, ``{doc_number}``
              from 1) and the language code as written in the task name (``{lang}``); empty: the
              harness's document number
    direction into (from English) or from (into English), for translation

A name no row matches is imported under its own id, with no language (``*``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from evaluator.cards import DATA_DIR
from evaluator.languages import language_table, normalise_language
from evaluator.scope import ALL

TABLE = DATA_DIR / "harness_tasks.csv"
HARNESSES = ("lm-eval", "lighteval")
_LANG = r"(?P<lang>[A-Za-z]{2,3}(?:[_-][A-Za-z]{2,4})?)"
_CATEGORY = r"(?P<category>.+?)"


@dataclass(frozen=True)
class Mapping:
    """Where one harness task lands in this project."""

    task: str
    language: str
    category: str
    kind: str
    metrics: tuple[str, ...]  # preferred headline metrics, in order
    item_id: str  # a format template over the logged document, or ""
    direction: str  # "into", "from" or ""
    known: bool  # a row of the table matched (False: imported under its own id)
    name_language: str = ""  # the language code as the harness's task name writes it ("sw")

    def item_key(self, doc: dict, doc_id: int) -> str:
        """The project's id of the harness's document ``doc_id`` (its number in the harness's split),
        so imported samples pair with evaluated ones; the document number where the template cannot
        be filled."""
        if self.item_id:
            try:
                return self.item_id.format(**{**doc, "doc_id": doc_id, "doc_number": doc_id + 1,
                                              "lang": self.name_language})
            except (KeyError, IndexError, ValueError):
                pass
        return str(doc_id)


@dataclass(frozen=True)
class _Row:
    harness: str
    regex: re.Pattern
    task: str
    language: str
    kind: str
    metrics: tuple[str, ...]
    item_id: str
    direction: str


def _compile(pattern: str) -> re.Pattern:
    out, i = [], 0
    for m in re.finditer(r"\{lang\}|\{category\}|\*", pattern):
        out.append(re.escape(pattern[i:m.start()]))
        out.append({"{lang}": _LANG, "{category}": _CATEGORY, "*": ".*?"}[m.group()])
        i = m.end()
    out.append(re.escape(pattern[i:]))
    return re.compile("^" + "".join(out) + "$")


@lru_cache(maxsize=None)
def table(path: Path = TABLE) -> tuple[_Row, ...]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, r in enumerate(csv.DictReader(f), start=2):
            if r["harness"] not in HARNESSES:
                raise ValueError(f"{path}:{n}: harness must be one of {', '.join(HARNESSES)}, not {r['harness']!r}")
            rows.append(_Row(r["harness"], _compile(r["pattern"]), r["task"], r["language"], r["kind"],
                             tuple(m for m in r["metric"].split("|") if m), r["item_id"] or "", r["direction"] or ""))
    return tuple(rows)


def resolve(harness: str, name: str, kind: str = "") -> Mapping:
    """The project task, language and category of the harness task ``name``."""
    langs = language_table()
    for row in table():
        if row.harness != harness:
            continue
        m = row.regex.match(name)
        if not m:
            continue
        groups = m.groupdict()
        if row.language == "{lang}":
            language = normalise_language(groups.get("lang") or "")
            if language not in langs:
                continue  # not a language: another row, or the task's own id
        else:
            language = row.language
        return Mapping(row.task, language, groups.get("category") or ALL, row.kind, row.metrics, row.item_id,
                       row.direction, True, groups.get("lang") or "")
    return Mapping(name, ALL, ALL, kind, (), "", "", False)


def claim(m: Mapping, name: str, claimed: dict) -> Mapping:
    """``m``, or the harness task under its own id when another task of the same file already gave that
    project task, language and category (two formulations of one benchmark, say): nothing is dropped."""
    key = (m.task, m.language, m.category, m.direction)
    if claimed.setdefault(key, name) == name:
        return m
    own = replace(m, task=name, known=False)
    claimed.setdefault((own.task, own.language, own.category, own.direction), name)
    return own
