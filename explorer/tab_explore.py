"""The Explorer tab: one sub-tab per panel of ``PANELS`` (per language, per category, parity, comparing
two models, task details), then Samples (tab_samples).

A panel is data: its plots and tables, each a view (explorer.views) with a figure or the columns shown
in %, and its downloads. Adding a view to the Explorer is one view function and one ``Panel`` here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import gradio as gr
import pandas as pd

from . import figures, tab_samples, views
from .downloads_ui import download_row
from .filter_bar import filters_from_values
from .filters import Filters
from .formatting import percent_columns
from .leaderboard_table import CHANCE, chance_of
from .url_state import COMPARE_URL_JS, MODELS_URL_JS, PageState


@dataclass(frozen=True)
class Selection:
    """What the panels are asked for: the filters (with the Explorer's models), how languages are
    grouped, and Compare's models A and B."""

    filters: Filters
    group_by: str = "family"
    model_a: str = ""
    model_b: str = ""


View = Callable[..., pd.DataFrame]  # (store, Selection) -> the rows shown and downloaded


@dataclass(frozen=True)
class Output:
    """One plot or table of a panel: the rows of ``view``, drawn by ``figure`` or shown as a table."""

    view: View
    figure: Callable | None = None  # (rows, Selection) -> a plot; None: a table
    percent: tuple | Callable = ()  # table columns shown in %, or rows -> those columns
    label: str | None = None
    elem_id: str | None = None
    max_height: int = 400
    wrap: bool = False


@dataclass(frozen=True)
class Download:
    """A download control: the file ``name`` holds the rows of ``view``."""

    name: str
    view: View
    elem_id: str | None = None


@dataclass(frozen=True)
class Panel:
    id: str
    title: str
    items: tuple  # Output and Download records, in the order shown
    note: str = ""  # Markdown above the items
    two_models: bool = False  # shows the model A and model B pickers

    @property
    def outputs(self) -> tuple[Output, ...]:
        return tuple(i for i in self.items if isinstance(i, Output))


def of_filters(view) -> View:
    """A view of the filters alone (most are)."""
    return lambda store, s: view(store, s.filters)


def _compare(store, s: Selection) -> pd.DataFrame:
    return views.compare(store, s.model_a or "", s.model_b or "", s.filters)


def _metric_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows.columns if c not in ("model", "source", "task", "language", "language_name", "n_items",
                                                 "byte_perplexity")]


def _chances(rows: pd.DataFrame) -> dict:
    """Each task's own chance level, drawn over its bars (a mean over tasks has none)."""
    return {t: CHANCE.get(t) for t in rows["task"].unique()} if not rows.empty else {}


def _parity_percent(rows: pd.DataFrame) -> list[str]:
    return ["mean", "best", "worst", "gap", "spread", *views.category_difference_columns()]


PANELS: tuple[Panel, ...] = (
    Panel("languages", "Per language", (
        Output(of_filters(views.per_language), lambda rows, s: figures.language_heatmap(rows, s.group_by),
               label="Heatmap", elem_id="language-heatmap"),
        Output(of_filters(views.per_language), lambda rows, s: figures.language_bars(rows, chance_of(s.filters.tasks)),
               label="Bars with 95% intervals"),
        Output(of_filters(views.language_difficulty), lambda rows, s: figures.difficulty_chart(rows),
               label="Languages ranked by difficulty"),
        Output(of_filters(views.per_language), percent=("score", "ci_low", "ci_high"), label="Per-language scores (%)"),
        Download("per_language", of_filters(views.per_language), elem_id="download-per-language"),
        Download("language_difficulty", of_filters(views.language_difficulty)),
    )),
    Panel("categories", "Per category", (
        Output(of_filters(views.category_summary), lambda rows, s: figures.category_bars(rows, _chances(rows))),
        Output(of_filters(views.category_summary), percent=("score",),
               label="Per-category scores (%), mean over languages"),
        Download("per_category", of_filters(views.per_category)),
    )),
    Panel("parity", "Parity", (
        Output(of_filters(views.parity), lambda rows, s: figures.parity_chart(rows.head(40), chance_of(s.filters.tasks))),
        Output(of_filters(views.parity), lambda rows, s: figures.parity_scatter(rows, chance_of(s.filters.tasks))),
        Output(of_filters(views.parity), percent=_parity_percent, label="Parity (%)"),
        Download("parity", of_filters(views.parity)),
    )),
    Panel("compare", "Compare two models", (
        Output(_compare, lambda rows, s: figures.compare_chart(rows, s.model_a or "A", s.model_b or "B")),
        Output(_compare, percent=("score_a", "score_b", "difference"),
               label="A − B per task and language (%); paired tests, Holm-corrected"),
        Download("comparison", _compare),
    ), two_models=True),
    Panel("details", "Task details", (
        Output(of_filters(views.task_metrics), percent=_metric_columns, label="Metrics per language (%)"),
        Output(of_filters(views.alignment_layers), lambda rows, s: figures.layer_chart(rows)),
        Download("task_metrics", of_filters(views.task_metrics)),
        Output(of_filters(views.shown_task_references),
               label="Reference implementation of each task: version, headline metric, deliberate differences",
               elem_id="task-references", max_height=500, wrap=True),
        Output(of_filters(views.task_run_counts),
               label="Items under a fallback rule per run: truncated prompts, choices encoded alone (degenerate "
                     "joint split), unchecked instructions", elem_id="task-run-counts", max_height=300),
    ), note="Every metric of the selected tasks: translation directions and untranslated rate, instruction "
            "following strict/loose, alignment mean and best layer, normalised accuracies."),
)


def show(store, out: Output, s: Selection):
    """What one output shows for a selection: a figure, or the table with its % columns."""
    rows = out.view(store, s)
    if out.figure is not None:
        return out.figure(rows, s)
    return percent_columns(rows, list(out.percent(rows) if callable(out.percent) else out.percent))


def _component(out: Output):
    if out.figure is not None:
        return gr.Plot(label=out.label, elem_id=out.elem_id)
    return gr.Dataframe(label=out.label, interactive=False, max_height=out.max_height, wrap=out.wrap,
                        elem_id=out.elem_id)


def build(ctx, bar) -> dict:
    store = ctx.store
    with gr.Tab("Explorer", id="explorer") as tab:
        active = gr.State(PANELS[0].id)
        with gr.Row():
            models = gr.Dropdown(label="Models (default: the ten best for these filters)", multiselect=True, choices=[],
                                 scale=4, elem_id="explorer-models")
            group_by = gr.Radio(label="Group languages by", choices=["family", "tier", "script"], value="family", scale=1)
        # Shown in the panel that compares two models; every panel's downloads read them.
        model_a = gr.Dropdown(label="Model A", choices=[], scale=2, elem_id="compare-a", render=False)
        model_b = gr.Dropdown(label="Model B", choices=[], scale=2, elem_id="compare-b", render=False)
        inputs = [*bar.inputs, models, group_by, model_a, model_b]

        def selection(*values) -> Selection:
            *filter_values, models_v, group_v, a, b = values
            f = replace(filters_from_values(*filter_values), models=tuple(models_v or ()))
            return Selection(f, group_v or "family", a or "", b or "")

        components, subtabs = {}, {}
        for panel in PANELS:
            with gr.Tab(panel.title) as subtabs[panel.id]:
                if panel.note:
                    gr.Markdown(panel.note)
                if panel.two_models:
                    with gr.Row():
                        model_a.render()
                        model_b.render()
                for item in panel.items:
                    if isinstance(item, Download):
                        download_row(ctx, item.name, lambda *v, view=item.view: view(store, selection(*v)), inputs,
                                     elem_id=item.elem_id)
                    else:
                        components[id(item)] = _component(item)
        samples = tab_samples.build(ctx, models)
        all_outputs = [components[id(o)] for panel in PANELS for o in panel.outputs]

        def update(active_v, *values):
            s = selection(*values)
            out = []
            for panel in PANELS:
                if panel.id == active_v:
                    out += [show(store, o, s) for o in panel.outputs]
                else:
                    out += [gr.skip()] * len(panel.outputs)
            return out

        update_inputs = [active, *inputs]
        # Only what the user changes recomputes here: values a shared link sets are shown once, after loading.
        for comp in (models, group_by, model_a, model_b):
            comp.input(update, update_inputs, all_outputs, api_visibility="private")
        models.change(None, [models], None, js=MODELS_URL_JS, api_visibility="private")
        for comp in (model_a, model_b):
            comp.change(None, [model_a, model_b], None, js=COMPARE_URL_JS, api_visibility="private")
        # One round trip per sub-tab: it becomes the active one and its outputs are computed together.
        for panel in PANELS:
            subtabs[panel.id].select(lambda *v, n=panel.id: [n, *update(n, *v[1:])], update_inputs,
                                     [active, *all_outputs], api_visibility="private")

    def load(f: Filters, page: PageState):
        """Model choices from the store; the models, and Compare's A and B, of a shared link."""
        names = views.model_names(store)
        known = set(names)
        return (gr.update(choices=names, value=[m for m in f.models if m in known]),
                gr.update(choices=names, value=page.model_a if page.model_a in known else None),
                gr.update(choices=names, value=page.model_b if page.model_b in known else None))

    return {"tab": tab, "refresh": (update, update_inputs, all_outputs), "load": (load, [models, model_a, model_b]),
            "sample_choices": samples["choices"]}
