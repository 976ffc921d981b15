"""The Submit tab: a Hugging Face model id, a revision and a precision; for admins, endpoint models."""

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

        # Admins only (their Hub user name in admins.txt or $POLYGLOT_ADMINS, signed in): the check is made
        # on every click, server-side; the public form above stays Hub-only.
        with gr.Accordion("Admins: a model behind an OpenAI-compatible endpoint", open=False):
            gr.Markdown(
                "vLLM, TGI, Ollama, `transformers serve` or a hosted API. Generation tasks use `/v1/chat/completions` "
                "(or `/v1/completions` for completion prompts); multiple choice needs prompt logprobs "
                "(`echo` + `logprobs`, as vLLM returns them) and is skipped otherwise; alignment is skipped. "
                "The API key is read on the workers from the environment variable named here; it is never stored."
            )
            with gr.Row():
                base_url = gr.Textbox(label="Base URL", placeholder="http://host:8000/v1", scale=3,
                                      elem_id="endpoint-url")
                served = gr.Textbox(label="Served model name", scale=2, elem_id="endpoint-model")
                key_env = gr.Textbox(label="API key variable (optional)", placeholder="OPENAI_API_KEY", scale=2)
            add = gr.Button("Add endpoint model", elem_id="endpoint-button")
            added = gr.Markdown(elem_id="endpoint-result")

            def on_add(u, m, k, profile: gr.OAuthProfile | None = None):
                user = getattr(profile, "username", None) if profile is not None else None
                res = ctx.submissions.submit_endpoint(u, m, k, submitter=user)
                icon = "✅" if res.status == "queued" else "❌"
                return f"{icon} **{res.status}**: {escape_markdown(res.message)}"

            add.click(on_add, [base_url, served, key_env], added, api_visibility="private")
