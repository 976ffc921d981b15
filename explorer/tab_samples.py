"""Explorer → Samples: the per-sample rows behind every score, a page at a time, and their download."""

from __future__ import annotations

import json

import duckdb
import gradio as gr
import numpy as np
import pandas as pd

from evaluator.scope import ALL

from . import views
from .api_args import endpoint
from .downloads import FORMATS, Query
from .downloads_ui import download_file

# What a reader compares first (the answer expected, the answer given, its score) comes right after the item,
# on the first screen of a phone too, and well before the long prompt.
SHOWN_COLUMNS = ["item_id", "gold", "prediction", "score", "language", "category", "turn", "metric", "generation",
                 "choices", "prompt", "choice_loglik", "truncated", "details"]
# Pixels per column: short codes narrow, answers and texts wide enough to read without one letter a line.
SHOWN_WIDTHS = [90, 140, 140, 60, 90, 90, 50, 70, 200, 200, 380, 150, 80, 140]
NO_RUNS = "No evaluated run with per-sample rows here yet (reported figures have none)."


def _as_list(value) -> list | None:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


def readable_list(value, digits: int | None = None) -> str:
    """A list cell as people read it: "A: first · B: second" (choices), "-1.23 · -4.56" (numbers)."""
    items = _as_list(value)
    if items is None:
        return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    if digits is not None:
        return " · ".join(f"{float(x):.{digits}f}" for x in items)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return " · ".join(f"{letters[i]}: {x}" if i < len(letters) else str(x) for i, x in enumerate(items))


def readable_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """A page of views.samples as shown: answer columns first, lists as text, empty details dropped."""
    out = rows.reindex(columns=SHOWN_COLUMNS).copy()
    if "choices" in out:
        out["choices"] = out["choices"].map(readable_list)
    if "choice_loglik" in out:
        out["choice_loglik"] = out["choice_loglik"].map(lambda v: readable_list(v, digits=2))
    if "details" in out:
        out["details"] = out["details"].map(lambda v: "" if v in (None, "{}", "") else
                                            v if isinstance(v, str) else json.dumps(v))
    return out


def run_choices(runs: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, run id) for the run list: model, revision and when it finished, newest first."""
    out = []
    for r in runs.itertuples():
        at = r.finished_at
        at = pd.to_datetime(at, unit="s", utc=True) if isinstance(at, (int, float)) else pd.to_datetime(
            at, utc=True, errors="coerce")
        when = at.strftime("%Y-%m-%d %H:%M") if pd.notna(at) else ""
        rev = f"@{str(r.revision)[:10]}" if isinstance(r.revision, str) and r.revision else ""
        out.append((" · ".join(x for x in (f"{r.model}{rev}", when, r.run_id) if x), r.run_id))
    return out


def build(ctx, models) -> dict:
    """The Samples sub-tab. Its run list holds every run with per-sample rows (the Explorer's model box,
    when set, narrows it); returns the handler that fills its lists when the page loads."""
    store = ctx.store
    with gr.Tab("Samples") as tab:
        with gr.Row():
            run = gr.Dropdown(label="Run", choices=[], scale=2, elem_id="samples-run")
            s_task = gr.Dropdown(label="Task", choices=[], scale=1, elem_id="samples-task")
            s_lang = gr.Dropdown(label="Language", choices=[("All languages", ALL)], value=ALL, scale=1,
                                 elem_id="samples-language")
            s_cat = gr.Dropdown(label="Category", choices=[("All categories", ALL)], value=ALL, scale=1,
                                elem_id="samples-category")
            wrong = gr.Checkbox(label="Only wrong answers", value=False)
        with gr.Row():
            # No bounds on the box itself (Gradio would refuse a value past them): the page shown is clamped.
            page = gr.Number(label="Page", value=1, precision=0, scale=0, min_width=100, elem_id="samples-page")
            page_info = gr.Markdown(elem_id="samples-page-info")
        sample_table = gr.Dataframe(value=pd.DataFrame(columns=SHOWN_COLUMNS), label="Items", interactive=False,
                                    wrap=True, max_height=600, column_widths=SHOWN_WIDTHS, elem_id="samples-table")
        with gr.Accordion("Download every sample row of a model", open=False, elem_id="samples-download"):
            with gr.Row():
                # Custom values stay allowed so that the API endpoint takes any model name (checked below).
                dl_model = gr.Dropdown(label="Model (those with per-sample rows)", choices=[], scale=3,
                                       allow_custom_value=True, elem_id="samples-download-model")
                dl_format = gr.Radio(label="Format", choices=list(FORMATS), value="csv", scale=1)
                dl_button = gr.Button("Download", size="sm", scale=1, elem_id="samples-download-button")
            dl_file = gr.File(label="Per-sample rows", interactive=False, visible=False, height=80,
                              elem_id="samples-download-file")

    def fill_runs(models_v=None, current=None):
        choices = run_choices(views.sample_runs(store, models_v or ()))
        values = [v for _, v in choices]
        value = current if current in values else (values[0] if values else None)
        return gr.update(choices=choices, value=value)

    def fill_lists(models_v=None, current=None):
        names = views.sample_models(store)
        runs = fill_runs(models_v, current)
        # Without any run the run list stays empty and on_run never fires: say why here.
        return runs, gr.update(choices=names), (gr.skip() if runs["choices"] else NO_RUNS)

    def show(run_id, task_v, lang_v, cat_v, wrong_v, page_v):
        if not run_id or not task_v:
            return pd.DataFrame(columns=SHOWN_COLUMNS), 1, "" if run_id else NO_RUNS
        language = None if lang_v in (None, "", ALL) else lang_v
        category = None if cat_v in (None, "", ALL) else cat_v
        # The requested page as a whole number ≥ 1, then clamped once the total is known (a page past the
        # end shows the last one).
        k, _ = views.page_bounds(10**9, page_v)
        try:
            rows, total = views.samples(store, run_id, task_v, language, category, bool(wrong_v), k,
                                        views.SAMPLE_PAGE_SIZE)
            shown, pages = views.page_bounds(total, k)
            if shown != k:
                rows, total = views.samples(store, run_id, task_v, language, category, bool(wrong_v), shown,
                                            views.SAMPLE_PAGE_SIZE)
        except views.SamplesUnavailable as exc:
            raise gr.Error(str(exc)) from None
        return readable_rows(rows), shown, f"{total} items · page {shown} of {pages}"

    def on_run(run_id):
        opts = views.sample_options(store, run_id)
        task_v = opts.tasks[0] if opts.tasks else None
        return (gr.update(choices=opts.tasks, value=task_v),
                gr.update(choices=[("All languages", ALL), *opts.languages], value=ALL),
                gr.update(choices=[("All categories", ALL), *[(c, c) for c in opts.categories]], value=ALL),
                False, *show(run_id, task_v, ALL, ALL, False, 1))

    shown_outputs = [sample_table, page, page_info]
    tab.select(fill_lists, [models, run], [run, dl_model, page_info], api_visibility="private")
    models.change(fill_runs, [models, run], run, api_visibility="private")
    run.change(on_run, run, [s_task, s_lang, s_cat, wrong, *shown_outputs], api_visibility="private")
    filters = [run, s_task, s_lang, s_cat, wrong]
    # User changes only (.input): values set by on_run must not query the page again.
    for comp in (s_task, s_lang, s_cat, wrong):
        comp.input(lambda *v: show(*v, 1), filters, shown_outputs, api_visibility="private")
    # The page once typed (Enter or leaving the box), not at each keystroke: "12" is not first page 1.
    gr.on([page.submit, page.blur], show, [*filters, page], shown_outputs, api_visibility="private")

    def download_samples(model_id: str, fmt: str = "csv", request: gr.Request = None):
        """Every per-sample row of a model's runs as one CSV, Parquet or JSON file."""
        files, unreadable = store.sample_files(model_id)
        left_out = [reason for _, reason in unreadable]
        if not files:
            raise gr.Error("No readable per-sample rows for this model"
                           + (f": {'; '.join(left_out)}" if left_out else " (reported figures have none)."))
        if left_out:
            gr.Warning("Left out, cannot be read: " + "; ".join(left_out))

        # The rows of views.model_samples, written by DuckDB straight from the sample files.
        rows = Query(store.export_cursor, views.MODEL_SAMPLES_SQL, (files,))
        try:
            return download_file(ctx, "samples", (model_id,), fmt, lambda: rows, request)
        except duckdb.Error:
            raise gr.Error(f"The per-sample rows of {model_id} cannot be read (a file is damaged).") from None

    # The file box appears once a file exists (the endpoint itself answers with the file's path).
    dl_button.click(endpoint(download_samples), [dl_model, dl_format], dl_file, api_name="download_samples").success(
        lambda: gr.update(visible=True), None, dl_file, api_visibility="private")
    return {"choices": (lambda: fill_lists(), [run, dl_model, page_info])}
