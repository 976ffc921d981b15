"""Every filter declared in explorer.filters.FILTERS is honoured everywhere: the page URL keeps it, the
API parses it, the filter bar shows it (or a tab sets it), and the views' SQL restricts by it.

A filter added to the list but missed by any of these fails here, named."""

from __future__ import annotations

import gradio as gr
import pandas as pd
import pytest

from explorer import filter_bar, views
from explorer.api_args import ARGS
from explorer.filters import BAR, FILTERS, LEVELS, Filters, from_api, restricting
from explorer.url_state import FILTER_ORDER, URL_JS, from_query, to_query

IDS = [s.name for s in FILTERS]
# Filters a tab sets rather than the bar, and which tab.
SET_BY_A_TAB = {"models": "Explorer (its model box)"}


def _value(spec):
    """A value other than the default: two items for a list, one text otherwise."""
    if spec.many:
        return tuple(spec.choices[:2]) if spec.choices else ("x1", "x2")
    return "x1"


class _Store:
    """Answers the language look-up of views.where with one code, computing every cached value."""

    def cached(self, key, compute):
        return compute()

    def query(self, sql, args=()):
        return pd.DataFrame({"code": ["xx_Latn"]})


@pytest.mark.parametrize("spec", FILTERS, ids=IDS)
def test_the_url_keeps_every_filter(spec):
    f = Filters(**{spec.name: _value(spec)})
    query = to_query(f)
    assert f"{spec.url}=" in query
    back, extra = from_query(query)
    assert back == f and extra == {}
    assert from_query("")[0] == Filters()


@pytest.mark.parametrize("spec", FILTERS, ids=IDS)
def test_the_api_parses_every_filter(spec):
    arg = ARGS[spec.api]
    raw = ",".join(_value(spec)) if spec.many else _value(spec)
    assert from_api(**{spec.api: arg.coerce(spec.api, raw)}) == Filters(**{spec.name: _value(spec)})
    assert from_api(**{spec.api: arg.coerce(spec.api, None)}) == Filters()  # left out: no restriction


@pytest.mark.parametrize("spec", FILTERS, ids=IDS)
def test_the_bar_shows_every_filter_and_the_page_script_writes_it(spec):
    if not spec.widget:
        assert spec.name in SET_BY_A_TAB, f"{spec.name}: neither in the filter bar nor set by a tab"
        return
    with gr.Blocks():
        bar = filter_bar.build()
    i = BAR.index(spec)
    assert bar.inputs[i] is bar.widgets[spec.name] and bar.inputs[i].label == spec.label
    values = [s.shown_initial for s in BAR]
    values[i] = list(_value(spec)) if spec.many else _value(spec)
    assert getattr(filter_bar.filters_from_values(*values), spec.name) == _value(spec)
    assert FILTER_ORDER[i] == spec.url and f'"{spec.url}"' in URL_JS
    # An empty leaderboard says which filters to widen: this one among them.
    assert spec.said and restricting(Filters(**{spec.name: _value(spec)})), f"{spec.name}: not named when empty"


@pytest.mark.parametrize("spec", FILTERS, ids=IDS)
def test_the_views_restrict_by_every_filter(spec):
    assert spec.level in LEVELS
    f = Filters(**{spec.name: _value(spec)})
    if spec.level == "category":
        assert views._table(f) != views._table(Filters())
        return
    assert views.where(_Store(), f) != views.where(_Store(), Filters()), f"{spec.name} changes no SQL condition"
    # Entry filters also hold where only the model entries are asked about.
    assert (views.where(_Store(), f, entry_only=True) != views.where(_Store(), Filters(), entry_only=True)) \
        == (spec.level == "entry")


def test_an_empty_table_names_only_the_filters_that_restrict():
    assert restricting(Filters()) == [] and restricting(Filters(sources=("imported", "evaluated", "reported"))) == []
    assert restricting(Filters(search="zzz", sources=("reported",), category="idiom")) == [
        "the search “zzz”", "the category idiom", "sources (reported)"]


def test_a_shared_link_keeps_only_values_the_store_offers():
    class Store(_Store):
        def cached(self, key, compute):
            return {"tasks": ["t1"], "kinds": ["multiple_choice"], "categories": ["*", "idiom"],
                    "languages": [("French (fra_Latn)", "fra_Latn")], "scripts": ["Latn"], "families": ["Romance"]}

    f, _ = from_query("tasks=t1,nope&langs=fra_Latn&category=nope&sources=reported&sizes=huge")
    got = {s.name: u.get("value") for s, u in zip(BAR, filter_bar.updates_for(Store(), f))}
    assert got["tasks"] == ["t1"] and got["languages"] == ["fra_Latn"] and got["category"] == "*"
    assert got["sources"] == ["reported"] and got["sizes"] == []
    # The category's default is offered by name, not as a bare "*".
    category = filter_bar.updates_for(Store(), Filters())[[s.name for s in BAR].index("category")]
    assert category["choices"][0] == ("All categories", "*")
    assert filter_bar.updates_for(Store(), Filters())[[s.name for s in BAR].index("sources")]["value"] == \
        ["evaluated", "reported", "imported"]
