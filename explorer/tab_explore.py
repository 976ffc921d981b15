"""The Explorer tab: per language, per category, parity, comparing two models, task details (samples: tab_samples)."""

from __future__ import annotations

from dataclasses import replace

import gradio as gr

from . import figures, tab_samples, views
from .downloads_ui import download_row
from .filter_bar import filters_from_values
from .formatting import percent_columns

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
            return replace(f, models=tuple(models_v or ()))

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
        tab_samples.build(ctx, models)

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
                diff = views.language_difficulty(store, replace(f, models=()))
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

        def load_choices():
            names = views.model_names(store)
            return (gr.update(choices=names), gr.update(choices=names), gr.update(choices=names))

    return {"tab": tab, "refresh": (update, update_inputs, all_outputs),
            "choices": (load_choices, [models, model_a, model_b])}
