"""Assembling the Gradio app: the shared filters, the tabs, the page URL, and the API endpoints."""

from __future__ import annotations

import gradio as gr

from . import api, filter_bar, tab_about, tab_explore, tab_leaderboard, tab_queue, tab_submit
from .context import AppContext
from .errors import guard_blocks
from .url_state import TAB_URL_JS, from_query, page_from_query

# The tabs whose views the filter bar restricts; it is hidden on the others.
FILTERED_TABS = ("leaderboard", "explorer")


def build_ui(ctx: AppContext) -> gr.Blocks:
    # Gradio copies every file it serves into its own cache: drop copies a day old, hourly (the
    # exports folder behind them is capped separately, see explorer.downloads).
    with gr.Blocks(title="Polyglot Leaderboard", delete_cache=(3600, 86400)) as demo:
        gr.Markdown("# Polyglot Leaderboard\nHow open LLMs behave across languages, categories of content and "
                    "the gaps between languages.")
        bar = filter_bar.build()
        with gr.Tabs() as tabs:
            lb = tab_leaderboard.build(ctx, bar)
            ex = tab_explore.build(ctx, bar)
            sub = tab_submit.build(ctx)
            qu = tab_queue.build(ctx)
            tab_about.build(ctx)
        # The tab shown, where the page's script can read it (a State's value stays on the server).
        shown_tab = gr.Textbox(lb["tab"].id, visible=False)
        api.register(ctx)
        tab_ids = {t.label: t.id for t in tabs.children}

        lb_refresh, lb_inputs, lb_outputs = lb["refresh"]
        ex_update, ex_inputs, ex_outputs = ex["refresh"]
        # Only what the user changes recomputes the views: values a shared link sets, or a widget first
        # drawn when "More filters" opens, do not.
        # Only the tab on screen recomputes (the other one does when it is opened): at a thousand models the
        # Explorer's charts, computed behind the leaderboard, doubled the wait for the table.
        def leaderboard_if_shown(tab_id, *values):
            return lb_refresh(*values) if tab_id == lb["tab"].id else [gr.skip()] * len(lb_outputs)

        def explorer_if_shown(tab_id, *values):
            return ex_update(*values) if tab_id == ex["tab"].id else [gr.skip()] * len(ex_outputs)

        for comp in bar.inputs:
            event = comp.submit if isinstance(comp, gr.Textbox) else comp.input
            event(leaderboard_if_shown, [shown_tab, *lb_inputs], lb_outputs, api_visibility="private")
            event(explorer_if_shown, [shown_tab, *ex_inputs], ex_outputs, api_visibility="private")
        lb["tab"].select(lb_refresh, lb_inputs, lb_outputs, api_visibility="private")
        ex["tab"].select(ex_update, ex_inputs, ex_outputs, api_visibility="private")

        def on_tab(evt: gr.SelectData):
            tab_id = tab_ids.get(evt.value)
            if tab_id is None:
                return gr.skip(), gr.skip()
            return gr.update(visible=tab_id in FILTERED_TABS), tab_id

        tabs.select(on_tab, None, [bar.column, shown_tab], api_visibility="private").then(
            None, [shown_tab], None, js=TAB_URL_JS, api_visibility="private")

        lb_load, lb_load_outputs = lb["load"]
        ex_load, ex_load_outputs = ex["load"]

        def on_load(request: gr.Request):
            """Everything a shared link holds: filters, tab, the leaderboard's choices, the Explorer's models."""
            if not ctx.store.loading:
                ctx.store.refresh()
            f, extra = from_query(dict(request.query_params) if request is not None else {})
            page = page_from_query(extra)
            # Without a tab in the link the page stays where it is (a tab clicked while loading stays chosen).
            tab = [gr.Tabs(selected=page.tab), gr.update(visible=page.tab in FILTERED_TABS), page.tab] \
                if page.tab in tab_ids.values() else [gr.skip()] * 3
            return filter_bar.updates_for(ctx.store, f) + lb_load(extra) + list(ex_load(f, page)) + tab

        loaded = demo.load(on_load, None, bar.inputs + lb_load_outputs + ex_load_outputs + [tabs, bar.column, shown_tab],
                           api_visibility="private")
        loaded.then(lb_refresh, lb_inputs, lb_outputs, api_visibility="private").then(
            explorer_if_shown, [shown_tab, *ex_inputs], ex_outputs, api_visibility="private")
        for fn, outputs in (lb["choices"], ex["sample_choices"]):
            demo.load(fn, None, outputs, api_visibility="private")
        q_refresh, _, q_outputs = qu["refresh"]
        demo.load(q_refresh, None, q_outputs, api_visibility="private")
        # A new request is listed at once, not at the next tick of the Queue's timer.
        sub["submitted"].then(q_refresh, None, q_outputs, api_visibility="private")
    guard_blocks(demo)  # every handler: unexpected failures reach the caller as an error id only
    return demo
