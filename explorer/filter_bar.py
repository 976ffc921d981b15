"""The filters shared by the Leaderboard and the Explorer, shown above them and mirrored in the page URL.

Every widget is made from its spec in ``filters.FILTERS``."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr


from . import views
from .filters import BAR, SOURCES, FilterSpec, Filters
from .url_state import FILTER_ORDER, URL_JS, from_query


@dataclass
class FilterBar:
    column: gr.Column  # shown only on the tabs that use the filters
    widgets: dict  # spec name -> component

    @property
    def inputs(self) -> list:
        # The order of filters.BAR (and of url_state.FILTER_ORDER).
        return [self.widgets[s.name] for s in BAR]


def filters_from_values(*values) -> Filters:
    """Filters from the bar's values, in the order of ``FilterBar.inputs``."""
    return Filters(**{s.name: v for s, v in zip(BAR, values, strict=True)})


def _choices(spec: FilterSpec, values) -> list:
    """(label, value) pairs; the default shown by its label rather than its bare value."""
    out = []
    for v in values:
        if isinstance(v, (list, tuple)):
            out.append(tuple(v))
        else:
            out.append((spec.default_label if spec.default_label and v == spec.default else v, v))
    return out


def _widget(spec: FilterSpec):
    common = {"label": spec.label, "elem_id": f"filter-{spec.name}", **({} if spec.more else {"scale": 2})}
    initial = list(spec.shown_initial) if spec.many else spec.shown_initial
    if spec.widget == "text":
        return gr.Textbox(placeholder=spec.placeholder, **common)
    # Until the store's values arrive, only the default is offered.
    choices = _choices(spec, spec.choices or ([] if spec.many else [spec.default]))
    if spec.widget == "dropdown":
        return gr.Dropdown(multiselect=spec.many, choices=choices, value=initial, **common)
    if spec.widget == "checkboxes":
        return gr.CheckboxGroup(choices=choices, value=initial, **common)
    raise ValueError(f"filter {spec.name}: unknown widget {spec.widget!r}")


def build() -> FilterBar:
    widgets = {}
    with gr.Column() as column:
        with gr.Row():
            for spec in BAR:
                if not spec.more:
                    widgets[spec.name] = _widget(spec)
        with gr.Accordion("More filters", open=False):
            for kind in ("dropdown", "checkboxes"):
                with gr.Row():
                    for spec in BAR:
                        if spec.more and spec.widget == kind:
                            widgets[spec.name] = _widget(spec)
    bar = FilterBar(column, widgets)
    for comp in bar.inputs:
        event = comp.submit if isinstance(comp, gr.Textbox) else comp.change
        event(None, bar.inputs, None, js=URL_JS, api_visibility="private")
    return bar


def updates_for(store, f: Filters) -> list:
    """The bar's choices from the store, and its values from ``f`` (a shared link), kept to what is offered."""
    opts = views.filter_options(store)
    out = []
    for spec in BAR:
        value = getattr(f, spec.name)
        if spec.widget == "text":
            out.append(gr.update(value=value))
            continue
        choices = _choices(spec, opts[spec.options] if spec.options else spec.choices)
        allowed = {v for _, v in choices}
        if spec.many:
            value = [v for v in value if v in allowed] or list(spec.shown_initial)
        elif value not in allowed:
            value = spec.default
        out.append(gr.update(choices=choices, value=value) if spec.options else gr.update(value=value))
    return out


def load_from_url(store, request: gr.Request | None):
    """Filter choices from the store, and values from the page URL (a shared link)."""
    f, _ = from_query(dict(request.query_params) if request is not None else {})
    return updates_for(store, f)


__all__ = ["FilterBar", "build", "filters_from_values", "load_from_url", "updates_for", "FILTER_ORDER", "SOURCES"]
