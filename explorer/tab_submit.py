"""The Submit tab: a Hugging Face model id, a revision and a precision."""

from __future__ import annotations

import gradio as gr

from evaluator.model_files import PRECISIONS

from .formatting import escape_markdown


def build(ctx) -> None:
    with gr.Tab("Submit", id="submit"):
        gr.Markdown(
            "Submit a causal language model from the Hugging Face Hub. It must be public (or readable by this "
            "deployment's token), ship **safetensors** weights, use an architecture built into transformers "
            "(no custom code), include a tokenizer and state a license. The revision is pinned to its commit."
        )
        with gr.Row():
            model_id = gr.Textbox(label="Model id", placeholder="org/model", scale=3, elem_id="submit-model")
            revision = gr.Textbox(label="Revision", value="main", scale=1)
            precision = gr.Dropdown(label="Precision", choices=list(PRECISIONS), value="auto", scale=1)
        if ctx.settings.require_login:
            gr.LoginButton()
        button = gr.Button("Submit for evaluation", variant="primary", elem_id="submit-button")
        result = gr.Markdown(elem_id="submit-result")

        def on_submit(m, r, p, profile: gr.OAuthProfile | None = None, request: gr.Request | None = None):
            client = getattr(getattr(request, "client", None), "host", None) if request else None
            user = getattr(profile, "username", None) if profile is not None else None
            res = ctx.submissions.submit(m, r, p, submitter=user, client=client)
            icon = "✅" if res.status == "queued" else "❌"
            return f"{icon} **{res.status}**: {escape_markdown(res.message)}"

        button.click(on_submit, [model_id, revision, precision], result, api_visibility="private")
