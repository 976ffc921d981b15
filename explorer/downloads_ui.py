"""A download control under a view: pick a format, get the file of the view exactly as filtered."""

from __future__ import annotations

from typing import Callable

import gradio as gr
import pandas as pd

from .downloads import export_table


def download_row(ctx, name: str, table_fn: Callable[..., pd.DataFrame], inputs: list, elem_id: str | None = None):
    with gr.Row():
        fmt = gr.Radio(["csv", "parquet", "json"], value="csv", label="Format", scale=1, min_width=120)
        button = gr.Button(f"Download {name.replace('_', ' ')}", size="sm", scale=1, elem_id=elem_id)
        file = gr.File(label="File", interactive=False, scale=2, height=80,
                       elem_id=f"{elem_id}-file" if elem_id else None)

    def prepare(fmt_value, *values):
        return export_table(table_fn(*values), ctx.exports, name)[fmt_value]

    button.click(prepare, [fmt, *inputs], file, api_visibility="private")
    return file
