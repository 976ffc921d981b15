"""A download control under a view: pick a format, get the file of the view exactly as filtered."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr
import pandas as pd

from .downloads import FORMATS, DownloadBusy


def client_of(request) -> str | None:
    return getattr(getattr(request, "client", None), "host", None) if request is not None else None


def download_file(ctx, name: str, key: tuple, fmt: str, make: Callable[[], pd.DataFrame], request=None) -> str:
    """The cached file of a table (keyed by ``key`` and the store version), or a clear refusal."""
    try:
        return ctx.downloads.file((name, ctx.store.version, *key), name, fmt, make, client=client_of(request))
    except DownloadBusy as exc:
        raise gr.Error(str(exc), title="Busy") from None


def download_row(ctx, name: str, table_fn: Callable[..., pd.DataFrame], inputs: list, elem_id: str | None = None):
    """A format choice and a button; the file box stays hidden until a file exists (an empty one took
    ~190 px under every table)."""
    with gr.Row():
        fmt = gr.Radio(list(FORMATS), value="csv", label="Format", show_label=False, scale=0, min_width=300,
                       container=False)
        button = gr.Button(f"Download {name.replace('_', ' ')}", size="sm", scale=0, min_width=200,
                           elem_id=elem_id)
        file = gr.File(label="File", interactive=False, scale=1, height=60, visible=False,
                       elem_id=f"{elem_id}-file" if elem_id else None)

    def prepare(fmt_value, *values):
        # View tables are small: bounded overall only (the per-sample download is bounded per client too).
        fmt_value = fmt_value if fmt_value in FORMATS else "csv"
        path = download_file(ctx, name, tuple(repr(v) for v in values), fmt_value, lambda: table_fn(*values))
        return gr.update(value=path, visible=True)

    button.click(prepare, [fmt, *inputs], file, api_visibility="private")
    return file
