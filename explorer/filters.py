"""Every filter of the explorer declared once: its field, URL key, API argument, widget, vocabulary and
what it restricts. ``Filters`` (what views take), the filter bar (``filter_bar``), the page URL
(``url_state``) and the API's arguments (``api_args``, ``api``) are all made from ``FILTERS``.

Adding a filter is one ``FilterSpec`` below; besides, where its choices come from the store, their
key in ``views.filter_options``; where an endpoint should take it, that endpoint's parameter (api.py);
and only a filter restricting rows in a new way (a new ``match``) needs its SQL in ``views.where``.
tests/test_filter_specs.py checks every spec against the bar, the URL round trip, the API's parsing,
the SQL and the empty table's message.

No Gradio here: the views import ``Filters``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass

from evaluator.scope import ALL

# Where rows come from: our evaluator, published figures, results imported from other harnesses.
SOURCES = ("evaluated", "reported", "imported")
TIERS = ("high", "mid", "low", "extremely low")
# Model size buckets: (upper bound in billions of parameters, label); larger models are ">75B".
_SIZE_LIMITS = ((1, "<1B"), (3, "1-3B"), (8, "3-8B"), (20, "8-20B"), (75, "20-75B"))
SIZE_BUCKETS = [label for _, label in _SIZE_LIMITS] + [">75B", "unknown"]
# The bucket of a row with a ``params_b`` column, in SQL.
SIZE_SQL = ("CASE WHEN params_b IS NULL THEN 'unknown' "
            + " ".join(f"WHEN params_b < {limit} THEN '{label}'" for limit, label in _SIZE_LIMITS)
            + " ELSE '>75B' END")


@dataclass(frozen=True)
class FilterSpec:
    name: str  # the Filters field
    url: str  # query key of the page URL (lists comma-separated)
    api: str  # argument name of the API endpoints that take it
    # What it restricts: "entry" (which model entries), "cell" (which task scores), "language" (which
    # languages, through the languages table) or "category" (scores of one category instead of the task's).
    level: str
    match: str = "in"  # how: "in" (column IN values), "search" (model name contains a term), "size" (size bucket)
    column: str = ""  # the column matched ("in"): of the score tables, or of the languages table
    many: bool = True  # a list of values (else one text)
    default: str | tuple = ()  # the value that restricts nothing
    # The filter bar: widget "text", "dropdown" or "checkboxes"; "" when a tab sets it instead.
    widget: str = ""
    label: str = ""
    more: bool = False  # under "More filters"
    placeholder: str = ""
    choices: tuple = ()  # a fixed vocabulary...
    options: str = ""  # ...or the key of views.filter_options, from what the store holds
    default_label: str = ""  # how the default is shown in the widget (instead of the bare value)
    initial: tuple | None = None  # what the widget shows when the URL says nothing (None: the default)
    said: str = ""  # how an empty table's message names it, "{}" its values ("": not named)

    @property
    def shown_initial(self):
        return self.default if self.initial is None else self.initial


FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec("search", "q", "search", "entry", match="search", many=False, default="", widget="text",
               label="Search models", placeholder="name; another name", said="the search “{}”"),
    FilterSpec("tasks", "tasks", "task", "cell", column="task", widget="dropdown", label="Tasks", options="tasks",
               said="tasks ({})"),
    FilterSpec("languages", "langs", "language", "language", column="code", widget="dropdown", label="Languages",
               options="languages", said="languages ({})"),
    FilterSpec("kinds", "kinds", "kind", "cell", column="kind", widget="dropdown", label="Task kind", more=True,
               options="kinds", said="task kinds ({})"),
    FilterSpec("category", "category", "category", "category", many=False, default=ALL, widget="dropdown",
               label="Category (scores restricted to it)", more=True, options="categories",
               default_label="All categories", said="the category {}"),
    FilterSpec("scripts", "scripts", "script", "language", column="script", widget="dropdown", label="Script",
               more=True, options="scripts", said="scripts ({})"),
    FilterSpec("families", "families", "family", "language", column="family", widget="dropdown",
               label="Language family", more=True, options="families", said="language families ({})"),
    FilterSpec("tiers", "tiers", "tier", "language", column="tier", widget="checkboxes", label="Resource tier",
               more=True, choices=TIERS, said="resource tiers ({})"),
    FilterSpec("sizes", "sizes", "size", "entry", match="size", widget="checkboxes", label="Model size", more=True,
               choices=SIZE_BUCKETS, said="model sizes ({})"),
    # Unticking every source restricts nothing, like ticking them all.
    FilterSpec("sources", "sources", "source", "entry", column="source", widget="checkboxes", label="Source",
               more=True, choices=SOURCES, initial=SOURCES, said="sources ({})"),
    # The Explorer's model box (tab_explore) sets it, not the bar.
    FilterSpec("models", "models", "models", "entry", column="model"),
)
BY_NAME = {s.name: s for s in FILTERS}
BAR = tuple(s for s in FILTERS if s.widget)  # in the order of FilterBar.inputs
LEVELS = ("entry", "cell", "language", "category")


def _normalised(self) -> None:
    for spec in FILTERS:
        value = getattr(self, spec.name)
        if spec.many:
            value = tuple(value) if value else ()
        else:
            value = value or spec.default
        object.__setattr__(self, spec.name, value)


def _key(self) -> tuple:
    return tuple(getattr(self, f.name) for f in fields(self))


def _keeping(self, *levels: str):
    """These filters restricted to the given levels (the others cleared)."""
    return Filters(**{s.name: getattr(self, s.name) for s in FILTERS if s.level in levels})


Filters = make_dataclass(
    "Filters",
    [(s.name, tuple if s.many else str, field(default=s.default)) for s in FILTERS],
    frozen=True,
    namespace={
        "__module__": __name__,
        "__doc__": "What a view is restricted to, one field per FilterSpec; empty means no restriction. "
                   "``category`` \"*\" is the whole task.",
        "__post_init__": _normalised,
        "key": _key,
        "keeping": _keeping,
        "language_filtered": property(lambda self: any(getattr(self, s.name) for s in FILTERS
                                                       if s.level == "language")),
        "entry_part": property(lambda self: _keeping(self, "entry")),
    },
)


def restricting(f: Filters) -> list[str]:
    """The filters of ``f`` that restrict anything, as an empty table's message names them."""
    out = []
    for spec in FILTERS:
        value = getattr(f, spec.name)
        unset = value == spec.default or (spec.many and set(value) == set(spec.initial or ()))
        if spec.said and value and not unset:
            out.append(spec.said.format(", ".join(map(str, value)) if spec.many else value))
    return out


def from_api(**args) -> Filters:
    """Filters from API arguments (already checked by ``api_args``), by each spec's ``api`` name."""
    by_api = {s.api: s.name for s in FILTERS}
    return Filters(**{by_api[k]: v for k, v in args.items()})
