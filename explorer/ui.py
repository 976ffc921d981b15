"""Assembling the Gradio app: the shared filters, the tabs, and the API endpoints."""

from __future__ import annotations

import gradio as gr

from . import api, filter_bar, tab_about, tab_explore, tab_leaderboard, tab_queue, tab_submit
from .context import AppContext
from .errors import guard_blocks


def build_ui(ctx: AppContext) -> gr.Blocks:
    # Gradio copies every file it serves into its own cache: drop copies a day old, hourly (the
    # exports folder behind them is capped separately, see explorer.downloads).
    with gr.Blocks(title="Polyglot Leaderboard", delete_cache=(3600, 86400)) as demo:
        gr.Markdown("# Polyglot Leaderboard\nHow open LLMs behave across languages, categories of content and "
                    "the gaps between languages.")
        bar = filter_bar.build()
        with gr.Tabs():
            lb = tab_leaderboard.build(ctx, bar)
            ex = tab_explore.build(ctx, bar)
            sub = tab_submit.build(ctx)
            qu = tab_queue.build(ctx)
            tab_about.build(ctx)
        api.register(ctx)

        lb_refresh, lb_inputs, lb_outputs = lb["refresh"]
        ex_update, ex_inputs, ex_outputs = ex["refresh"]
        for comp in bar.inputs:
            event = comp.submit if isinstance(comp, gr.Textbox) else comp.change
            event(lb_refresh, lb_inputs, lb_outputs, api_visibility="private")
            event(ex_update, ex_inputs, ex_outputs, api_visibility="private")
        lb["tab"].select(lb_refresh, lb_inputs, lb_outputs, api_visibility="private")
        ex["tab"].select(ex_update, ex_inputs, ex_outputs, api_visibility="private")

        lb_load, lb_load_outputs = lb["load"]

        def on_load(request: gr.Request):
            if not ctx.store.loading:
                ctx.store.refresh()
            return filter_bar.load_from_url(ctx.store, request) + lb_load(request)

        loaded = demo.load(on_load, None, bar.inputs + lb_load_outputs, api_visibility="private")
        loaded.then(lb_refresh, lb_inputs, lb_outputs, api_visibility="private")
        for fn, outputs in (lb["choices"], ex["choices"], ex["sample_choices"]):
            demo.load(fn, None, outputs, api_visibility="private")
        q_refresh, _, q_outputs = qu["refresh"]
        demo.load(q_refresh, None, q_outputs, api_visibility="private")
        # A new request is listed at once, not at the next tick of the Queue's timer.
        sub["submitted"].then(q_refresh, None, q_outputs, api_visibility="private")
    guard_blocks(demo)  # every handler: unexpected failures reach the caller as an error id only
    return demo
