"""The page's filter state as URL query parameters, so that any view can be shared as a link."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from evaluator.scope import ALL

from .views import Filters

# query key -> Filters field (lists are comma-separated in the URL)
LIST_KEYS = {"tasks": "tasks", "kinds": "kinds", "langs": "languages", "scripts": "scripts", "families": "families",
             "tiers": "tiers", "sources": "sources", "sizes": "sizes", "models": "models"}
TEXT_KEYS = {"q": "search", "category": "category"}
MAX_VALUE = 2000


def to_query(f: Filters, extra: dict[str, str] | None = None) -> str:
    params = []
    for key, attr in TEXT_KEYS.items():
        value = getattr(f, attr)
        if value and not (key == "category" and value == ALL):
            params.append((key, value))
    for key, attr in LIST_KEYS.items():
        values = getattr(f, attr)
        if values:
            params.append((key, ",".join(values)))
    for key, value in (extra or {}).items():
        if value:
            params.append((key, value))
    return urlencode(params)


def from_query(query: str | dict) -> tuple[Filters, dict[str, str]]:
    """Filters and the remaining parameters (e.g. the tab) from a query string or a mapping."""
    pairs = parse_qsl(query, keep_blank_values=False) if isinstance(query, str) else list(query.items())
    kwargs, extra = {}, {}
    for key, value in pairs:
        value = str(value)[:MAX_VALUE]
        if key in LIST_KEYS:
            kwargs[LIST_KEYS[key]] = tuple(v for v in value.split(",") if v)
        elif key in TEXT_KEYS:
            kwargs[TEXT_KEYS[key]] = value
        else:
            extra[key] = value
    return Filters(**kwargs), extra


# Runs in the browser on every filter change: rewrite the address bar without reloading the page.
# Arguments arrive in the order of FILTER_ORDER.
FILTER_ORDER = ["q", "tasks", "langs", "kinds", "category", "scripts", "families", "tiers", "sizes", "sources"]
URL_JS = """
(...values) => {
  const keys = %s;
  const url = new URL(window.location.href);
  keys.forEach((key, i) => {
    const v = values[i];
    const text = Array.isArray(v) ? v.join(",") : (v === null || v === undefined ? "" : String(v));
    if (text && !(key === "category" && text === "*") && !(key === "sources" && text === "evaluated,reported,imported")) {
      url.searchParams.set(key, text);
    } else {
      url.searchParams.delete(key);
    }
  });
  window.history.replaceState(null, "", url.toString());
}
""" % (str(FILTER_ORDER).replace("'", '"'))


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
TABLE_URL_JS = """
(set, sort, merge) => {
  const url = new URL(window.location.href);
  const values = {set: set || "", sort: (sort && sort !== "rank") ? sort : "", merge: merge ? "1" : ""};
  for (const [key, text] of Object.entries(values)) {
    if (text) { url.searchParams.set(key, text); } else { url.searchParams.delete(key); }
  }
  window.history.replaceState(null, "", url.toString());
}
"""
