"""The page's state as URL query parameters, so that any view can be shared as a link: the filters
(``filters.FILTERS``, the Explorer's models among them), the tab, the leaderboard's set, sort, merge
choice and columns, and Compare's two models."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from .filters import BAR, BY_NAME, FILTERS, Filters

MAX_VALUE = 2000


def _text(value) -> str:
    """A value as the URL writes it (lists comma-separated)."""
    return ",".join(value) if isinstance(value, (list, tuple)) else str(value or "")


def to_query(f: Filters, extra: dict[str, str] | None = None) -> str:
    params = []
    for spec in FILTERS:
        value = getattr(f, spec.name)
        if value and value != spec.default:
            params.append((spec.url, _text(value)))
    for key, value in (extra or {}).items():
        if value:
            params.append((key, value))
    return urlencode(params)


def from_query(query: str | dict) -> tuple[Filters, dict[str, str]]:
    """Filters and the remaining parameters (e.g. the tab) from a query string or a mapping."""
    pairs = parse_qsl(query, keep_blank_values=False) if isinstance(query, str) else list(query.items())
    by_key = {s.url: s for s in FILTERS}
    kwargs, extra = {}, {}
    for key, value in pairs:
        value = str(value)[:MAX_VALUE]
        spec = by_key.get(key)
        if spec is None:
            extra[key] = value
        else:
            kwargs[spec.name] = tuple(v for v in value.split(",") if v) if spec.many else value
    return Filters(**kwargs), extra


def url_js(keys: list[str], defaults: dict[str, str] | None = None, empty: dict[str, str] | None = None) -> str:
    """Browser code run on a change: write each value (in the order of ``keys``) into the address bar,
    dropping a key whose value is empty or its default, without reloading the page. ``empty``: the
    text written for an empty list where empty is not the default."""
    return """
(...values) => {
  const keys = %s;
  const defaults = %s;
  const empty = %s;
  const url = new URL(window.location.href);
  keys.forEach((key, i) => {
    const v = values[i];
    const text = Array.isArray(v) ? (v.length ? v.join(",") : (empty[key] || "")) : v === true ? "1"
      : (v === null || v === undefined || v === false) ? "" : String(v);
    if (text && text !== defaults[key]) { url.searchParams.set(key, text); } else { url.searchParams.delete(key); }
  });
  window.history.replaceState(null, "", url.toString());
}
""" % (json.dumps(keys), json.dumps(defaults or {}), json.dumps(empty or {}))


# The filter bar's values, in the order of FilterBar.inputs.
FILTER_ORDER = [s.url for s in BAR]
URL_JS = url_js(FILTER_ORDER, {s.url: _text(s.shown_initial) for s in BAR if _text(s.shown_initial)})


# The leaderboard's own choices (benchmark set, sort, merged sources) travel in the URL too.
TABLE_KEYS = ["set", "sort", "merge"]


def table_spec_from_query(extra: dict[str, str], include_empty: bool = False):
    """The leaderboard's TableSpec from the parameters ``from_query`` left over."""
    from .leaderboard_table import TableSpec

    return TableSpec(benchmark=extra.get("set", "")[:200], sort=extra.get("sort", "")[:200],
                     merge_sources=extra.get("merge", "") in ("1", "true", "yes"), include_empty=include_empty)


def table_spec_to_query(spec) -> dict[str, str]:
    return {"set": spec.benchmark, "sort": spec.sort if spec.sort != "rank" else "", "merge": "1" if spec.merge_sources else ""}


# Runs in the browser when the leaderboard's set, sort or merge choice changes.
TABLE_URL_JS = url_js(TABLE_KEYS, {"sort": "rank"})


@dataclass(frozen=True)
class PageState:
    """What a link restores besides the filters and the leaderboard's TableSpec."""

    tab: str = ""  # a tab id ("": the first tab)
    columns: tuple | None = None  # the leaderboard's optional columns shown (None: its default)
    model_a: str = ""  # Compare's two models
    model_b: str = ""


def page_from_query(extra: dict[str, str]) -> PageState:
    """The PageState from the parameters ``from_query`` left over."""
    cols = extra.get("cols")
    return PageState(tab=extra.get("tab", "")[:100],
                     columns=None if cols is None else tuple(c for c in cols.split(",") if c and c != "none"),
                     model_a=extra.get("a", "")[:4096], model_b=extra.get("b", "")[:4096])


def page_to_query(state: PageState, default_columns) -> dict[str, str]:
    """The parameters of a PageState; ``default_columns``: the leaderboard's columns shown by default."""
    cols = "" if state.columns is None or tuple(state.columns) == tuple(default_columns) else \
        ",".join(state.columns) or "none"
    return {"tab": state.tab, "cols": cols, "a": state.model_a, "b": state.model_b}


def columns_url_js(default_columns) -> str:
    """Runs in the browser when the leaderboard's columns change ("none": every optional column hidden)."""
    return url_js(["cols"], {"cols": ",".join(default_columns)}, {"cols": "none"})


# Run in the browser when the tab, the Explorer's models or Compare's models change.
TAB_URL_JS = url_js(["tab"])
MODELS_URL_JS = url_js([BY_NAME["models"].url])
COMPARE_URL_JS = url_js(["a", "b"])
