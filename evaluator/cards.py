"""Task cards and suites: the declarative description of what is evaluated.

A task card is a JSON file in ``data/tasks/``; a suite is a JSON file in ``data/suites/`` naming
task cards and carrying its own version. Changing a prompt or the data of a task means bumping the
card's ``version``; scores record both the suite and the task versions. A card's ``description``
and ``categories`` are notes for people reading it: the categories of the scores come from its loader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from .errors import PolyglotError
from .kinds import KINDS
from .metrics.registry import known_metrics

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class CardError(PolyglotError, ValueError):
    pass


@dataclass(frozen=True)
class DatasetSource:
    loader: str  # a name in the LOADERS of a module of evaluator.loaders
    local: str | None = None  # folder inside this repository (starter suite)
    hub_repo: str | None = None
    hub_revision: str | None = None  # a commit sha: datasets are pinned
    hub_files: tuple[str, ...] = ()
    gated: bool = False
    license: str = ""
    citation: str = ""
    url: str = ""
    split: str = "test"


@dataclass(frozen=True)
class Reference:
    """The implementation a task's numbers are meant to reproduce, and what deliberately differs."""

    implementation: str  # e.g. "lm-evaluation-harness", or "this project" for the project's own tasks
    headline_metric: str  # the metric the reference publishes as its headline, in words
    version: str = ""  # a release or a commit
    task: str = ""  # the reference's task name or entry points, e.g. "xcopa_et"
    url: str = ""
    differences: str = ""  # deliberate differences, in words ("" when there are none)


@dataclass(frozen=True)
class CategoryDifference:
    """A score the task reports as the difference of two of its categories, the mean over languages of
    ``category`` minus ``minus`` (MultiLoKo's mother-tongue effect: local questions minus their English
    translation). The explorer shows it per model as the column ``name``."""

    name: str
    category: str
    minus: str
    reported_task: str = ""  # published figures of the same difference: their task id...
    reported_metric: str = ""  # ...and metric in data/reported


def _difference_from_dict(d, categories: tuple, origin: str) -> CategoryDifference | None:
    if d is None:
        return None
    if not isinstance(d, dict):
        raise CardError(f"{origin}: category_difference must be an object")
    unknown = set(d) - {f.name for f in fields(CategoryDifference)}
    if unknown:
        raise CardError(f"{origin}: category_difference has unknown fields {', '.join(sorted(unknown))}")
    diff = CategoryDifference(**{k: str(v) for k, v in d.items()})
    if not diff.name.isidentifier():
        raise CardError(f"{origin}: category_difference name must be a column name, not {diff.name!r}")
    outside = [c for c in (diff.category, diff.minus) if c not in categories]
    if outside:
        raise CardError(f"{origin}: category_difference names categories the card lacks: {', '.join(outside)}")
    return diff


def _reference_from_dict(d, origin: str) -> Reference | None:
    if d is None:
        return None
    if not isinstance(d, dict):
        raise CardError(f"{origin}: reference must be an object")
    missing = [k for k in ("implementation", "headline_metric") if not str(d.get(k) or "").strip()]
    if missing:
        raise CardError(f"{origin}: reference lacks {', '.join(missing)}")
    unknown = set(d) - {f.name for f in fields(Reference)}
    if unknown:
        raise CardError(f"{origin}: reference has unknown fields {', '.join(sorted(unknown))}")
    return Reference(**{k: str(v) for k, v in d.items()})


@dataclass(frozen=True)
class TaskCard:
    id: str
    version: str
    title: str
    kind: str
    source: DatasetSource
    languages: tuple[str, ...]
    metric: str  # the headline: a metric its kind registers (evaluator.metrics.registry) or its options define
    prompt: dict = field(default_factory=dict)
    generation: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    reference: Reference | None = None
    category_difference: CategoryDifference | None = None

    @property
    def max_new_tokens(self) -> int:
        return int(self.generation.get("max_new_tokens", 32))

    def stop_strings(self, language: str) -> tuple[str, ...]:
        stops = self.generation.get("stop", [])
        per_lang = self.generation.get("stop_by_language", {}).get(language, [])
        return tuple(dict.fromkeys([*stops, *per_lang]))


@dataclass(frozen=True)
class Suite:
    id: str
    version: str
    title: str
    tasks: tuple[str, ...]
    description: str = ""


def _card_from_dict(d: dict, origin: str) -> TaskCard:
    try:
        src = d["source"]
        source = DatasetSource(
            loader=src["loader"],
            local=src.get("local"),
            hub_repo=src.get("hub_repo"),
            hub_revision=src.get("hub_revision"),
            hub_files=tuple(src.get("hub_files", ())),
            gated=bool(src.get("gated", False)),
            license=src.get("license", ""),
            citation=src.get("citation", ""),
            url=src.get("url", ""),
            split=src.get("split", "test"),
        )
        card = TaskCard(
            id=d["id"],
            version=str(d["version"]),
            title=d.get("title", d["id"]),
            kind=d["kind"],
            source=source,
            languages=tuple(d["languages"]),
            metric=d["metric"],
            prompt=d.get("prompt", {}),
            generation=d.get("generation", {}),
            options=d.get("options", {}),
            reference=_reference_from_dict(d.get("reference"), origin),
            category_difference=_difference_from_dict(d.get("category_difference"),
                                                      tuple(d.get("categories", ())), origin),
        )
    except KeyError as exc:
        raise CardError(f"{origin}: missing field {exc}") from exc
    if card.kind not in KINDS:
        raise CardError(f"{origin}: kind must be one of {KINDS}, not {card.kind!r}")
    if "higher_is_better" in d:
        raise CardError(f"{origin}: higher_is_better is the metric's, not the card's (evaluator.metrics.registry)")
    known = known_metrics(card.kind, card)
    if card.metric not in known:
        raise CardError(f"{origin}: metric {card.metric!r} is not one {card.kind} tasks report; "
                        f"known: {', '.join(known)}")
    if card.source.hub_repo and card.source.hub_revision and len(card.source.hub_revision) != 40:
        raise CardError(f"{origin}: hub_revision must be a 40-character commit sha")
    return card


@lru_cache(maxsize=None)
def all_cards(data_dir: Path = DATA_DIR) -> dict[str, TaskCard]:
    cards = {}
    for path in sorted((data_dir / "tasks").glob("*.json")):
        card = _card_from_dict(json.loads(path.read_text(encoding="utf-8")), str(path))
        if card.id in cards:
            raise CardError(f"duplicate task id {card.id}")
        cards[card.id] = card
    return cards


@lru_cache(maxsize=None)
def all_suites(data_dir: Path = DATA_DIR) -> dict[str, Suite]:
    suites = {}
    for path in sorted((data_dir / "suites").glob("*.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        suites[d["id"]] = Suite(d["id"], str(d["version"]), d.get("title", d["id"]), tuple(d["tasks"]), d.get("description", ""))
    return suites


def get_card(task_id: str) -> TaskCard:
    cards = all_cards()
    if task_id not in cards:
        raise CardError(f"unknown task {task_id!r}; known: {', '.join(sorted(cards))}")
    return cards[task_id]


def get_suite(suite_id: str) -> Suite:
    suites = all_suites()
    if suite_id not in suites:
        raise CardError(f"unknown suite {suite_id!r}; known: {', '.join(sorted(suites))}")
    return suites[suite_id]


@lru_cache(maxsize=None)
def prompt_labels(data_dir: Path = DATA_DIR) -> dict[str, dict[str, str]]:
    """Localised words used in prompts ("Question", "Answer", ...) per language code."""
    return json.loads((data_dir / "prompt_labels.json").read_text(encoding="utf-8"))
