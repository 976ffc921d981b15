"""Explorer → Samples: the per-sample rows behind every score, a page at a time, and their download."""

from __future__ import annotations

import duckdb
import gradio as gr
import pandas as pd

from evaluator.scope import ALL

from . import views
from .api_args import endpoint
from .downloads import Query
from .downloads_ui import download_file

SAMPLE_EXPORT_COLUMNS = ("run_id, model, revision, precision, task, task_version, language, category, item_id, turn, "
                         "prompt, choices, choice_loglik, choice_n_tokens, generation, gold, prediction, score, metric, "
                         "truncated, details, created_at")


def build(ctx, models) -> None:
    """The Samples sub-tab; `models` is the Explorer's model box, whose runs fill the run list."""
    store = ctx.store
    with gr.Tab("Samples"):
        with gr.Row():
            run = gr.Dropdown(label="Run", choices=[], scale=2)
            s_task = gr.Dropdown(label="Task", choices=[], scale=1)
            s_lang = gr.Dropdown(label="Language", choices=[], scale=1)
            s_cat = gr.Dropdown(label="Category", choices=[], scale=1)
            wrong = gr.Checkbox(label="Only wrong answers", value=False)
        with gr.Row():
            page = gr.Number(label="Page", value=1, precision=0, minimum=1)
            page_info = gr.Markdown()
        sample_table = gr.Dataframe(label="Items", interactive=False, wrap=True, max_height=600)
        with gr.Accordion("Download every sample row of a model", open=False):
            with gr.Row():
                dl_model = gr.Textbox(label="Model", placeholder="model name as in the leaderboard", scale=3)
                dl_format = gr.Radio(label="Format", choices=["csv", "parquet", "json"], value="csv", scale=1)
                dl_button = gr.Button("Prepare download", scale=1)
            dl_file = gr.File(label="Per-sample rows", interactive=False)


    def runs_for(models_v):
        choices = []
        for m in models_v or []:
            for r in views.runs_of(store, m).itertuples():
                choices.append((f"{m} · {r.run_id}", r.run_id))
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    def run_options(run_id):
        if not run_id:
            return gr.update(choices=[]), gr.update(choices=[]), gr.update(choices=[])
        cells = store.query("SELECT DISTINCT task, language, category FROM scores WHERE run_id = ?", [run_id])
        tasks_ = sorted(cells["task"].unique())
        langs_ = [""] + sorted(cells["language"].unique())
        cats_ = [""] + sorted(c for c in cells["category"].unique() if c != ALL)
        return (gr.update(choices=tasks_, value=tasks_[0] if tasks_ else None),
                gr.update(choices=langs_, value=""), gr.update(choices=cats_, value=""))

    def show_samples(run_id, task_v, lang_v, cat_v, wrong_v, page_v):
        if not run_id or not task_v:
            return pd.DataFrame(), ""
        try:
            rows, total = views.samples(store, run_id, task_v, lang_v or None, cat_v or None, bool(wrong_v),
                                        int(page_v or 1), 20)
        except views.SamplesUnavailable as exc:
            raise gr.Error(str(exc)) from None
        pages = max(1, -(-total // 20))
        return rows, f"{total} items · page {int(page_v or 1)} of {pages}"

    models.change(runs_for, models, run, api_visibility="private")
    run.change(run_options, run, [s_task, s_lang, s_cat], api_visibility="private")
    sample_inputs = [run, s_task, s_lang, s_cat, wrong, page]
    for comp in (s_task, s_lang, s_cat, wrong, page):
        comp.change(show_samples, sample_inputs, [sample_table, page_info], api_visibility="private")

    def download_samples(model_id: str, fmt: str = "csv", request: gr.Request = None):
        """Every per-sample row of a model's runs as one CSV, Parquet or JSON file."""
        files, unreadable = store.sample_files(model_id)
        left_out = [reason for _, reason in unreadable]
        if not files:
            raise gr.Error("No readable per-sample rows for this model"
                           + (f": {'; '.join(left_out)}" if left_out else " (reported figures have none)."))
        if left_out:
            gr.Warning("Left out, cannot be read: " + "; ".join(left_out))

        # The columns of views.model_samples, written by DuckDB straight from the sample files.
        rows = Query(store.export_cursor, f"SELECT {SAMPLE_EXPORT_COLUMNS} FROM read_parquet(?, union_by_name=true) "
                                     "ORDER BY run_id, task, language, item_id, turn", (files,))
        try:
            return download_file(ctx, "samples", (model_id,), fmt, lambda: rows, request)
        except duckdb.Error:
            raise gr.Error(f"The per-sample rows of {model_id} cannot be read (a file is damaged).") from None

    dl_button.click(endpoint(download_samples), [dl_model, dl_format], dl_file, api_name="download_samples")
