"""Assembling the Gradio app from its tabs and API endpoints."""

from __future__ import annotations

import gradio as gr

from . import api, tab_about, tab_explore, tab_leaderboard, tab_queue, tab_submit
from .context import AppContext

CSS = """
#leaderboard-table a { text-decoration: underline; }
"""


def build_ui(ctx: AppContext) -> gr.Blocks:
    with gr.Blocks(title="Polyglot Leaderboard") as demo:
        gr.Markdown("# Polyglot Leaderboard\nHow open LLMs behave across languages, categories of content and "
                    "the gaps between languages.")
        with gr.Tabs():
            lb = tab_leaderboard.build(ctx)
            ex = tab_explore.build(ctx)
            tab_submit.build(ctx)
            qu = tab_queue.build(ctx)
            tab_about.build(ctx)
        api.register(ctx)

        def on_load():
            ctx.store.refresh()

        demo.load(on_load, None, None, api_visibility="private")
        for fn, outputs in (lb["choices"], ex["choices"]):
            demo.load(fn, None, outputs, api_visibility="private")
        refresh, inputs, outputs = lb["refresh"]
        demo.load(refresh, inputs, outputs, api_visibility="private")
        q_refresh, _, q_outputs = qu["refresh"]
        demo.load(q_refresh, None, q_outputs, api_visibility="private")
    return demo
