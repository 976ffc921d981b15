"""The Leaderboard tab: the ranked table, its filters, downloads and each model's provenance."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from . import views
from .downloads import export_table
from .formatting import model_cell, percent_columns

FIXED = ["rank", "model", "source", "average", "n_tasks", "n_languages", "parity_gap"]
TRAILING = ["revision", "precision", "params_b", "date"]


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard as shown: scores in %, model names linked to the Hub, short revisions."""
    if table.empty:
        return pd.DataFrame(columns=FIXED + TRAILING)
    task_cols = [c for c in table.columns if c not in FIXED + TRAILING + ["hub_url"]]
    out = percent_columns(table, ["average", "parity_gap", *task_cols])
    out["model"] = [model_cell(m, u) for m, u in zip(table["model"], table["hub_url"])]
    out["revision"] = out["revision"].fillna("").map(lambda r: r[:12])
    out["params_b"] = pd.to_numeric(out["params_b"], errors="coerce").round(2)
    out["date"] = pd.to_datetime(out["date"], utc=True, errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    out = out.rename(columns={"parity_gap": "parity gap", "n_tasks": "tasks", "n_languages": "languages",
                              "params_b": "params (B)"})
    return out.drop(columns=["hub_url"])


def filters_from(search, tasks, languages, sources) -> views.Filters:
    return views.Filters(tasks=list(tasks or []), languages=list(languages or []), sources=list(sources or []),
                         search=search or "")


def build(ctx) -> dict:
    store = ctx.store
    with gr.Tab("Leaderboard", id="leaderboard"):
        gr.Markdown(
            "Scores are percentages. **average** is the mean over the model's tasks of each task's mean over "
            "languages; **parity gap** is the mean, over tasks, of the best minus the worst language. "
            "*reported* rows are published figures (see About for sources), never mixed with rows *evaluated* here. "
            "Missing cells mean no result."
        )
        with gr.Row():
            search = gr.Textbox(label="Search models", placeholder="name; another name", scale=2)
            tasks = gr.Dropdown(label="Tasks", multiselect=True, choices=[], scale=2)
            languages = gr.Dropdown(label="Languages", multiselect=True, choices=[], scale=2)
            sources = gr.CheckboxGroup(label="Source", choices=["evaluated", "reported"], value=["evaluated", "reported"])
        table = gr.Dataframe(label="Leaderboard", interactive=False, wrap=True, datatype="markdown", show_search="none",
                             max_height=640, elem_id="leaderboard-table")
        with gr.Row():
            csv_btn = gr.DownloadButton("Download CSV", size="sm")
            parquet_btn = gr.DownloadButton("Download Parquet", size="sm")
            json_btn = gr.DownloadButton("Download JSON", size="sm")
        with gr.Accordion("Model details and provenance", open=False):
            model_pick = gr.Dropdown(label="Model", choices=[], allow_custom_value=False)
            provenance = gr.Dataframe(label="Runs behind the scores", interactive=False, wrap=True)

        def refresh(search_v, tasks_v, langs_v, sources_v):
            lb = views.leaderboard(store, filters_from(search_v, tasks_v, langs_v, sources_v))
            files = export_table(lb.drop(columns=["hub_url"], errors="ignore"), ctx.exports, "leaderboard")
            shown = display_table(lb)
            types = ["markdown" if c == "model" else "str" if shown[c].dtype == object or
                     pd.api.types.is_string_dtype(shown[c]) else "number" for c in shown.columns]
            return gr.Dataframe(value=shown, datatype=types), files["csv"], files["parquet"], files["json"]

        def load_choices():
            return (gr.update(choices=views.task_names(store)),
                    gr.update(choices=views.language_options(store)),
                    gr.update(choices=views.model_names(store)))

        inputs = [search, tasks, languages, sources]
        outputs = [table, csv_btn, parquet_btn, json_btn]
        for comp in (tasks, languages, sources):
            comp.change(refresh, inputs, outputs, api_visibility="private")
        search.submit(refresh, inputs, outputs, api_visibility="private")
        model_pick.change(lambda m: views.model_provenance(store, m) if m else pd.DataFrame(), model_pick, provenance,
                          api_visibility="private")
    return {"refresh": (refresh, inputs, outputs), "choices": (load_choices, [tasks, languages, model_pick])}
