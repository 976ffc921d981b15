"""The Explorer tab: per-language, per-category and parity views of chosen models, and samples."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from . import figures, views
from .downloads import export_table
from .formatting import percent_columns

ALL_TASKS = "all tasks"


def _filters(models, task) -> views.Filters:
    return views.Filters(models=list(models or []), tasks=[] if not task or task == ALL_TASKS else [task])


def build(ctx) -> dict:
    store = ctx.store
    with gr.Tab("Explorer", id="explorer"):
        with gr.Row():
            models = gr.Dropdown(label="Models", multiselect=True, choices=[], scale=3)
            task = gr.Dropdown(label="Task", choices=[ALL_TASKS], value=ALL_TASKS, scale=1)
            group_by = gr.Radio(label="Group languages by", choices=["family", "tier", "script"], value="family", scale=1)
        with gr.Tab("Per language"):
            heatmap = gr.Plot(label="Heatmap")
            bars = gr.Plot(label="Bars")
            lang_table = gr.Dataframe(label="Per-language scores (%)", interactive=False)
        with gr.Tab("Per category"):
            cat_plot = gr.Plot()
            cat_table = gr.Dataframe(label="Per-category scores (%)", interactive=False)
        with gr.Tab("Parity"):
            parity_plot = gr.Plot()
            parity_scatter = gr.Plot()
            parity_table = gr.Dataframe(label="Parity (%)", interactive=False)
        with gr.Tab("Task details"):
            gr.Markdown("Every metric of the chosen task(s): translation directions and untranslated rate, "
                        "instruction-following strict/loose, alignment mean and best layer, normalised accuracies.")
            metrics_table = gr.Dataframe(label="Metrics per language (%)", interactive=False)
            layer_plot = gr.Plot()
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
            sample_table = gr.Dataframe(label="Items", interactive=False, wrap=True)
            with gr.Accordion("Download every sample row of a model", open=False):
                with gr.Row():
                    dl_model = gr.Textbox(label="Model", placeholder="model name as in the leaderboard", scale=3)
                    dl_format = gr.Radio(label="Format", choices=["csv", "parquet", "json"], value="csv", scale=1)
                    dl_button = gr.Button("Prepare download", scale=1)
                dl_file = gr.File(label="Per-sample rows", interactive=False)

        def update(models_v, task_v, group_v):
            f = _filters(models_v, task_v)
            langs = views.per_language(store, f)
            cats = views.category_summary(store, f)
            par = views.parity(store, f)
            metrics = views.task_metrics(store, f)
            metric_cols = [c for c in metrics.columns if c not in ("model", "source", "task", "language", "language_name", "n_items")]
            return (
                figures.language_heatmap(langs, group_v), figures.language_bars(langs),
                percent_columns(langs, ["score", "ci_low", "ci_high"]),
                figures.category_bars(cats), percent_columns(cats, ["score"]),
                figures.parity_chart(par), figures.parity_scatter(par),
                percent_columns(par, ["mean", "best", "worst", "gap", "spread"]),
                percent_columns(metrics, [c for c in metric_cols if c != "byte_perplexity"]),
                figures.layer_chart(views.alignment_layers(store, f)),
            )

        view_outputs = [heatmap, bars, lang_table, cat_plot, cat_table, parity_plot, parity_scatter, parity_table,
                        metrics_table, layer_plot]
        for comp in (models, task, group_by):
            comp.change(update, [models, task, group_by], view_outputs, api_visibility="private")

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
            cats_ = [""] + sorted(c for c in cells["category"].unique() if c != "*")
            return (gr.update(choices=tasks_, value=tasks_[0] if tasks_ else None),
                    gr.update(choices=langs_, value=""), gr.update(choices=cats_, value=""))

        def show_samples(run_id, task_v, lang_v, cat_v, wrong_v, page_v):
            if not run_id or not task_v:
                return pd.DataFrame(), ""
            rows, total = views.samples(store, run_id, task_v, lang_v or None, cat_v or None, bool(wrong_v),
                                        int(page_v or 1), 20)
            pages = max(1, -(-total // 20))
            return rows, f"{total} items · page {int(page_v or 1)} of {pages}"

        models.change(runs_for, models, run, api_visibility="private")
        run.change(run_options, run, [s_task, s_lang, s_cat], api_visibility="private")
        sample_inputs = [run, s_task, s_lang, s_cat, wrong, page]
        for comp in (s_task, s_lang, s_cat, wrong, page):
            comp.change(show_samples, sample_inputs, [sample_table, page_info], api_visibility="private")

        def download_samples(model_id: str, fmt: str = "csv"):
            rows = views.model_samples(store, (model_id or "").strip())
            if rows.empty:
                raise gr.Error("No per-sample rows for this model (reported figures have none).")
            return export_table(rows, ctx.exports, "samples")[fmt if fmt in ("csv", "parquet", "json") else "csv"]

        dl_button.click(download_samples, [dl_model, dl_format], dl_file, api_name="download_samples")

        def load_choices():
            lb = views.leaderboard(store)
            top = lb.loc[lb["source"] == "evaluated", "model"].head(5).tolist() or lb["model"].head(5).tolist()
            return (gr.update(choices=views.model_names(store), value=top),
                    gr.update(choices=[ALL_TASKS] + views.task_names(store)))

    return {"choices": (load_choices, [models, task])}
