"""The Explorer tab: per language, per category, parity, comparing two models, task details, samples."""

from __future__ import annotations

from dataclasses import fields

import duckdb
import gradio as gr
import pandas as pd

from . import figures, views
from .api_args import endpoint
from .downloads import Query
from .downloads_ui import download_file, download_row
from .filter_bar import filters_from_values
from .formatting import percent_columns

SAMPLE_EXPORT_COLUMNS = ("run_id, model, revision, precision, task, task_version, language, category, item_id, turn, "
                         "prompt, choices, choice_loglik, choice_n_tokens, generation, gold, prediction, score, metric, "
                         "truncated, details, created_at")
SUBTABS = ["languages", "categories", "parity", "compare", "details"]


def build(ctx, bar) -> dict:
    store = ctx.store
    with gr.Tab("Explorer", id="explorer") as tab:
        active = gr.State("languages")
        with gr.Row():
            models = gr.Dropdown(label="Models (default: the ten best for these filters)", multiselect=True, choices=[],
                                 scale=4, elem_id="explorer-models")
            group_by = gr.Radio(label="Group languages by", choices=["family", "tier", "script"], value="family", scale=1)

        def filters_with_models(*values):
            *filter_values, models_v = values
            f = filters_from_values(*filter_values)
            return views.Filters(**{**{k.name: getattr(f, k.name) for k in fields(f)}, "models": tuple(models_v or ())})

        inputs = bar.inputs + [models]
        with gr.Tab("Per language") as t_lang:
            heatmap = gr.Plot(label="Heatmap", elem_id="language-heatmap")
            bars = gr.Plot(label="Bars with 95% intervals")
            difficulty = gr.Plot(label="Languages ranked by difficulty")
            lang_table = gr.Dataframe(label="Per-language scores (%)", interactive=False, max_height=400)
            download_row(ctx, "per_language", lambda *v: views.per_language(store, filters_with_models(*v)), inputs,
                         elem_id="download-per-language")
            download_row(ctx, "language_difficulty", lambda *v: views.language_difficulty(store, filters_with_models(*v)),
                         inputs)
        with gr.Tab("Per category") as t_cat:
            cat_plot = gr.Plot()
            cat_table = gr.Dataframe(label="Per-category scores (%), mean over languages", interactive=False, max_height=400)
            download_row(ctx, "per_category", lambda *v: views.per_category(store, filters_with_models(*v)), inputs)
        with gr.Tab("Parity") as t_par:
            parity_plot = gr.Plot()
            parity_scatter = gr.Plot()
            parity_table = gr.Dataframe(label="Parity (%)", interactive=False, max_height=400)
            download_row(ctx, "parity", lambda *v: views.parity(store, filters_with_models(*v)), inputs)
        with gr.Tab("Compare two models") as t_cmp:
            with gr.Row():
                model_a = gr.Dropdown(label="Model A", choices=[], scale=2, elem_id="compare-a")
                model_b = gr.Dropdown(label="Model B", choices=[], scale=2, elem_id="compare-b")
            cmp_plot = gr.Plot()
            cmp_table = gr.Dataframe(label="A − B per task and language (%); paired tests, Holm-corrected",
                                     interactive=False, max_height=400)
            download_row(ctx, "comparison",
                         lambda *v: views.compare(store, v[-2] or "", v[-1] or "", filters_with_models(*v[:-2])),
                         inputs + [model_a, model_b])
        with gr.Tab("Task details") as t_det:
            gr.Markdown("Every metric of the selected tasks: translation directions and untranslated rate, "
                        "instruction following strict/loose, alignment mean and best layer, normalised accuracies.")
            metrics_table = gr.Dataframe(label="Metrics per language (%)", interactive=False, max_height=400)
            layer_plot = gr.Plot()
            download_row(ctx, "task_metrics", lambda *v: views.task_metrics(store, filters_with_models(*v)), inputs)
            reference_table = gr.Dataframe(label="Reference implementation of each task: version, headline metric, "
                                                 "deliberate differences", interactive=False, wrap=True,
                                           elem_id="task-references")
            counts_table = gr.Dataframe(label="Items under a fallback rule per run: truncated prompts, choices "
                                              "encoded alone (degenerate joint split), unchecked instructions",
                                        interactive=False, max_height=300, elem_id="task-run-counts")
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

        outputs = {
            "languages": [heatmap, bars, difficulty, lang_table],
            "categories": [cat_plot, cat_table],
            "parity": [parity_plot, parity_scatter, parity_table],
            "compare": [cmp_plot, cmp_table],
            "details": [metrics_table, layer_plot, reference_table, counts_table],
        }
        all_outputs = [o for name in SUBTABS for o in outputs[name]]

        def compute(name, f, group_v, a, b):
            if name == "languages":
                langs = views.per_language(store, f)
                diff = views.language_difficulty(store, views.Filters(**{**{k.name: getattr(f, k.name) for k in fields(f)},
                                                                         "models": ()}))
                return [figures.language_heatmap(langs, group_v), figures.language_bars(langs),
                        figures.difficulty_chart(diff), percent_columns(langs, ["score", "ci_low", "ci_high"])]
            if name == "categories":
                cats = views.category_summary(store, f)
                return [figures.category_bars(cats), percent_columns(cats, ["score"])]
            if name == "parity":
                par = views.parity(store, f)
                return [figures.parity_chart(par.head(40)), figures.parity_scatter(par),
                        percent_columns(par, ["mean", "best", "worst", "gap", "spread", "mother_tongue_effect"])]
            if name == "compare":
                if not a or not b:
                    empty = views.compare(store, "", "", f)
                    return [figures.compare_chart(empty, a or "A", b or "B"), empty]
                cmp = views.compare(store, a, b, f)
                return [figures.compare_chart(cmp, a, b), percent_columns(cmp, ["score_a", "score_b", "difference"])]
            metrics = views.task_metrics(store, f)
            cols = [c for c in metrics.columns if c not in ("model", "source", "task", "language", "language_name",
                                                            "n_items", "byte_perplexity")]
            # the selected tasks, else those with metrics shown, else every card
            shown = tuple(f.tasks) or (tuple(metrics["task"].unique()) if not metrics.empty else ())
            return [percent_columns(metrics, cols), figures.layer_chart(views.alignment_layers(store, f)),
                    views.task_references(shown), views.task_run_counts(store, f)]

        def update(active_v, *values):
            *rest, group_v, a, b = values
            f = filters_with_models(*rest)
            out = []
            for name in SUBTABS:
                out += compute(name, f, group_v, a, b) if name == active_v else [gr.skip()] * len(outputs[name])
            return out

        update_inputs = [active, *inputs, group_by, model_a, model_b]
        for comp in (models, group_by, model_a, model_b):
            comp.change(update, update_inputs, all_outputs, api_visibility="private")
        for subtab, name in ((t_lang, "languages"), (t_cat, "categories"), (t_par, "parity"), (t_cmp, "compare"),
                             (t_det, "details")):
            subtab.select(lambda n=name: n, None, active, api_visibility="private").then(
                update, update_inputs, all_outputs, api_visibility="private")

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

        def load_choices():
            names = views.model_names(store)
            return (gr.update(choices=names), gr.update(choices=names), gr.update(choices=names))

    return {"tab": tab, "refresh": (update, update_inputs, all_outputs),
            "choices": (load_choices, [models, model_a, model_b])}
