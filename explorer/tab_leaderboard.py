"""The Leaderboard tab: ranked table (ties where intervals overlap), column chooser, downloads,
and each model's provenance."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from . import views
from .downloads_ui import download_row
from .filter_bar import filters_from_values
from .formatting import model_cell, percent_columns

BASE_COLUMNS = ["rank", "model", "source", "average", "95% CI", "tasks", "languages", "parity gap", "params (B)",
                "size", "revision", "precision", "date"]
DEFAULT_HIDDEN = {"revision", "precision", "date", "size"}


def display_table(table: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """The leaderboard as shown: scores in %, intervals, links to the Hub, missing cells empty."""
    if table.empty:
        return pd.DataFrame(columns=[c for c in BASE_COLUMNS if not columns or c in columns])
    fixed = set(views.LEADERBOARD_FIXED + views.LEADERBOARD_TRAILING)
    task_cols = [c for c in table.columns if c not in fixed]
    out = percent_columns(table, ["average", "ci_low", "ci_high", "parity_gap", *task_cols])
    out["95% CI"] = [f"{lo:.1f}–{hi:.1f}" if pd.notna(lo) and pd.notna(hi) else "" for lo, hi in zip(out["ci_low"], out["ci_high"])]
    out["model"] = [model_cell(m, u) for m, u in zip(table["model"], table["hub_url"])]
    out["revision"] = out["revision"].fillna("").map(lambda r: r[:12])
    out["params_b"] = pd.to_numeric(out["params_b"], errors="coerce").round(2)
    out["date"] = pd.to_datetime(out["date"], utc=True, errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    out = out.rename(columns={"parity_gap": "parity gap", "n_tasks": "tasks", "n_languages": "languages",
                              "params_b": "params (B)"})
    order = [c for c in BASE_COLUMNS if c in out.columns] + task_cols
    if columns:
        order = [c for c in order if c in columns or c in ("rank", "model")]
    return out[order]


def build(ctx, bar) -> dict:
    store = ctx.store
    with gr.Tab("Leaderboard", id="leaderboard") as tab:
        gr.Markdown(
            "Scores in %. **average**: mean over the model's tasks of each task's mean over the selected languages, "
            "with a 95% interval; **rank**: 1 + the number of models whose interval lies entirely above this one, "
            "so models that cannot be told apart share a rank. **parity gap**: best minus worst language, averaged "
            "over tasks. *reported* rows are published figures (sources in About), never mixed with rows *evaluated* "
            "here; *imported* rows come from lm-evaluation-harness or lighteval output imported by an admin (their harness, "
            "command and n-shot in the model's details). Empty cells mean no result."
        )
        with gr.Row():
            columns = gr.CheckboxGroup(label="Columns", choices=[c for c in BASE_COLUMNS if c not in ("rank", "model")],
                                       value=[c for c in BASE_COLUMNS if c not in DEFAULT_HIDDEN and c not in ("rank", "model")],
                                       scale=4)
            include_empty = gr.Checkbox(label="Include models without results for these filters", value=False, scale=1)
        summary = gr.Markdown(elem_id="leaderboard-summary")
        table = gr.Dataframe(label="Leaderboard", interactive=False, wrap=True, datatype="markdown",
                             max_height=640, elem_id="leaderboard-table", pinned_columns=2)

        def leaderboard_for(*values):
            *filter_values, empty = values
            return views.leaderboard(store, filters_from_values(*filter_values), include_empty=bool(empty))

        download_row(ctx, "leaderboard", lambda *v: leaderboard_for(*v).drop(columns=["hub_url"]),
                     bar.inputs + [include_empty], elem_id="download-leaderboard")
        with gr.Accordion("Model details and provenance", open=False):
            model_pick = gr.Dropdown(label="Model", choices=[], allow_custom_value=False)
            provenance = gr.Dataframe(label="Runs behind the scores: revision, task versions, items, truncations",
                                      interactive=False, wrap=True)

        def refresh(*values):
            *filter_values, empty, cols = values
            lb = leaderboard_for(*filter_values, empty)
            shown = display_table(lb, cols)
            types = ["markdown" if c == "model" else "number" if pd.api.types.is_numeric_dtype(shown[c]) else "str"
                     for c in shown.columns]
            missing = int(lb["average"].isna().sum()) if len(lb) else 0
            text = f"{len(lb)} model entries" + (f" ({missing} without results for these filters)" if missing else "")
            if store.loading:
                text = f"{store.status()} {text}"
            return gr.Dataframe(value=shown, datatype=types), text

        model_pick.change(lambda m: views.model_provenance(store, m) if m else pd.DataFrame(), model_pick, provenance,
                          api_visibility="private")
        inputs = bar.inputs + [include_empty, columns]
        for comp in (include_empty, columns):
            comp.change(refresh, inputs, [table, summary], api_visibility="private")

    return {"tab": tab, "refresh": (refresh, inputs, [table, summary]),
            "choices": (lambda: gr.update(choices=views.model_names(store)), [model_pick])}
