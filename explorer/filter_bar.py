"""The filters shared by every view, shown above the tabs and mirrored in the page URL."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from evaluator.scope import ALL

from . import views
from .url_state import FILTER_ORDER, URL_JS, from_query

# Where rows come from: our evaluator, published figures, results imported from other harnesses.
SOURCES = ("evaluated", "reported", "imported")


@dataclass
class FilterBar:
    search: gr.Textbox
    tasks: gr.Dropdown
    languages: gr.Dropdown
    kinds: gr.Dropdown
    category: gr.Dropdown
    scripts: gr.Dropdown
    families: gr.Dropdown
    tiers: gr.CheckboxGroup
    sizes: gr.CheckboxGroup
    sources: gr.CheckboxGroup

    @property
    def inputs(self) -> list:
        # The order of url_state.FILTER_ORDER.
        return [self.search, self.tasks, self.languages, self.kinds, self.category, self.scripts, self.families,
                self.tiers, self.sizes, self.sources]


def filters_from_values(search, tasks, languages, kinds, category, scripts, families, tiers, sizes, sources) -> views.Filters:
    return views.Filters(search=search or "", tasks=tasks or (), languages=languages or (), kinds=kinds or (),
                         category=category or ALL, scripts=scripts or (), families=families or (), tiers=tiers or (),
                         sizes=sizes or (), sources=sources or ())


def build() -> FilterBar:
    with gr.Row():
        search = gr.Textbox(label="Search models", placeholder="name; another name", scale=2, elem_id="filter-search")
        tasks = gr.Dropdown(label="Tasks", multiselect=True, choices=[], scale=2, elem_id="filter-tasks")
        languages = gr.Dropdown(label="Languages", multiselect=True, choices=[], scale=2, elem_id="filter-languages")
    with gr.Accordion("More filters", open=False):
        with gr.Row():
            kinds = gr.Dropdown(label="Task kind", multiselect=True, choices=[])
            category = gr.Dropdown(label="Category (scores restricted to it)", choices=[ALL], value=ALL)
            scripts = gr.Dropdown(label="Script", multiselect=True, choices=[])
            families = gr.Dropdown(label="Language family", multiselect=True, choices=[])
        with gr.Row():
            tiers = gr.CheckboxGroup(label="Resource tier", choices=["high", "mid", "low", "extremely low"])
            sizes = gr.CheckboxGroup(label="Model size", choices=views.SIZE_BUCKETS)
            sources = gr.CheckboxGroup(label="Source", choices=list(SOURCES), value=list(SOURCES))
    bar = FilterBar(search, tasks, languages, kinds, category, scripts, families, tiers, sizes, sources)
    for comp in bar.inputs:
        event = comp.submit if isinstance(comp, gr.Textbox) else comp.change
        event(None, bar.inputs, None, js=URL_JS, api_visibility="private")
    return bar


def load_from_url(store, request: gr.Request | None):
    """Filter choices from the store, and values from the page URL (a shared link)."""
    params = dict(request.query_params) if request is not None else {}
    f, _ = from_query(params)
    opts = views.filter_options(store)
    valid_langs = {c for _, c in opts["languages"]}

    def keep(values, allowed):
        return [v for v in values if v in allowed]

    return [
        gr.update(value=f.search),
        gr.update(choices=opts["tasks"], value=keep(f.tasks, set(opts["tasks"]))),
        gr.update(choices=opts["languages"], value=keep(f.languages, valid_langs)),
        gr.update(choices=opts["kinds"], value=keep(f.kinds, set(opts["kinds"]))),
        gr.update(choices=opts["categories"], value=f.category if f.category in opts["categories"] else ALL),
        gr.update(choices=opts["scripts"], value=keep(f.scripts, set(opts["scripts"]))),
        gr.update(choices=opts["families"], value=keep(f.families, set(opts["families"]))),
        gr.update(value=keep(f.tiers, {"high", "mid", "low", "extremely low"})),
        gr.update(value=keep(f.sizes, set(views.SIZE_BUCKETS))),
        gr.update(value=keep(f.sources, set(SOURCES)) or list(SOURCES)),
    ]


__all__ = ["FilterBar", "build", "filters_from_values", "load_from_url", "FILTER_ORDER"]
