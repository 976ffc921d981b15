"""The Leaderboard tab: the table of one benchmark set (see leaderboard_table), its controls, downloads,
and each model's provenance. The table itself is computed and rendered elsewhere; this only wires it."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from . import leaderboard_html, views
from . import leaderboard_table as LT
from .downloads_ui import download_row
from .filter_bar import filters_from_values
from .formatting import escape_markdown
from .url_state import TABLE_URL_JS, columns_url_js, page_from_query, table_spec_from_query

AUTO = ("Automatic: the set most models can be compared on", "")
SORT_CHOICES = [("rank", "rank"), ("average", "average"), ("coverage", "coverage"), ("model", "model"),
                ("languages", "languages"), ("parity gap", "parity gap"), ("params", "params"), ("date", "date")]

HELP = (
    "Scores in %, on one **benchmark set** (a suite, or one task). **average**: mean over the set's tasks of each "
    "task's mean over the selected languages, with a 95% interval — only for rows that cover every task of the set "
    "(and, under a language filter, every selected language). **rank**: 1 + the number of rows whose interval lies "
    "entirely above this one, so rows that cannot be told apart share a rank; rows missing part of the set show "
    "their coverage and get no rank. *evaluated* (here), *reported* (published figures, sources in About) and "
    "*imported* rows are ranked apart unless merged. *reference* lines (human performance, translate-test "
    "baselines) are shown at their score, never ranked. ⚠ marks a run that skipped tasks. Hover a header for the "
    "task's metric, chance level, languages and source."
)


def table_for(store, filter_values, benchmark, merge, sort, include_empty) -> LT.LeaderboardTable:
    f = filters_from_values(*filter_values)
    spec = LT.TableSpec(benchmark=benchmark or "", merge_sources=bool(merge), include_empty=bool(include_empty),
                        sort=sort if sort and sort != "rank" else "")
    try:
        return LT.leaderboard_table(store, f, spec)
    except LT.TableError:
        # A set or sort key from an old link that this store does not offer: the default instead.
        return LT.leaderboard_table(store, f, LT.TableSpec(merge_sources=spec.merge_sources,
                                                           include_empty=spec.include_empty))


def build(ctx, bar) -> dict:
    store = ctx.store
    with gr.Tab("Leaderboard", id="leaderboard") as tab:
        # The table comes right after the set choice: on a phone its first scores are on the first screen.
        benchmark = gr.Dropdown(label="Benchmark set", choices=[AUTO], value="", elem_id="leaderboard-set")
        summary = gr.Markdown(elem_id="leaderboard-summary")
        table = gr.HTML(elem_id="leaderboard-table")
        with gr.Row():
            sort = gr.Dropdown(label="Sort by", choices=SORT_CHOICES, value="rank", scale=1, elem_id="leaderboard-sort")
            merge = gr.Checkbox(label="Rank all sources together", value=False, scale=1, elem_id="leaderboard-merge")
            include_empty = gr.Checkbox(label="Include models without results (never ranked)", value=False, scale=1)
        columns = gr.CheckboxGroup(label="Columns", choices=leaderboard_html.OPTIONAL,
                                   value=leaderboard_html.DEFAULT_SHOWN)
        with gr.Accordion("How the table is computed", open=False):
            gr.Markdown(HELP)

        controls = [benchmark, merge, sort, include_empty]

        def rows_for(*values):
            *filter_values, b, m, s, e = values
            return table_for(store, filter_values, b, m, s, e).rows.drop(columns=["hub_url"])

        download_row(ctx, "leaderboard", rows_for, bar.inputs + controls, elem_id="download-leaderboard")
        with gr.Accordion("Model details and provenance", open=False):
            model_pick = gr.Dropdown(label="Model", choices=[], allow_custom_value=False)
            provenance = gr.Dataframe(label="Runs behind the scores: revision, task versions, items, truncations",
                                      interactive=False, wrap=True)

        def refresh(*values):
            *filter_values, b, m, s, e, cols = values
            lb = table_for(store, filter_values, b, m, s, e)
            # The summary may quote the search text: shown as text, never as Markdown.
            said = escape_markdown(lb.summary())
            chosen = not b and lb.benchmark.id
            text = f"Benchmark set chosen automatically: **{escape_markdown(lb.benchmark.title)}**. {said}" if chosen \
                else said
            if store.loading:
                text = f"{store.status()} {text}"
            sorts = SORT_CHOICES + [(f"score: {h.name}", h.task) for h in lb.headers]
            if s and s not in {v for _, v in sorts}:
                sorts.append((s, s))
            sets = [AUTO] + [(x.label, x.id) for x in lb.sets]
            if b and b not in {x.id for x in lb.sets}:
                sets.append((lb.benchmark.label, b))
            return (leaderboard_html.render(lb, cols, merged=bool(m)), text,
                    gr.update(choices=sets), gr.update(choices=sorts))

        model_pick.change(lambda m: views.model_provenance(store, m) if m else pd.DataFrame(), model_pick, provenance,
                          api_visibility="private")
        inputs = bar.inputs + controls + [columns]
        outputs = [table, summary, benchmark, sort]
        for comp in controls + [columns]:
            comp.change(refresh, inputs, outputs, api_visibility="private")
        for comp in (benchmark, sort, merge):
            comp.change(None, [benchmark, sort, merge], None, js=TABLE_URL_JS, api_visibility="private")
        columns.change(None, [columns], None, js=columns_url_js(leaderboard_html.DEFAULT_SHOWN),
                       api_visibility="private")

    def load(extra: dict[str, str]):
        """The set, sort, merge choice and columns of a shared link (the parameters url_state.from_query
        left over)."""
        spec = table_spec_from_query(extra)
        choices = [AUTO] + ([(spec.benchmark, spec.benchmark)] if spec.benchmark else [])
        sorts = SORT_CHOICES + ([(spec.sort, spec.sort)] if spec.sort and spec.sort not in dict(SORT_CHOICES).values()
                                else [])
        shown = page_from_query(extra).columns
        shown = leaderboard_html.DEFAULT_SHOWN if shown is None else [c for c in shown if c in leaderboard_html.OPTIONAL]
        return [gr.update(choices=choices, value=spec.benchmark), gr.update(value=spec.merge_sources),
                gr.update(choices=sorts, value=spec.sort or "rank"), gr.update(value=shown)]

    return {"tab": tab, "refresh": (refresh, inputs, outputs), "load": (load, [benchmark, merge, sort, columns]),
            "choices": (lambda: gr.update(choices=views.model_names(store)), [model_pick])}
