"""The Submit tab: a Hugging Face model id, a revision and a precision; for admins, endpoint models and
imports of lm-eval / lighteval results."""

from __future__ import annotations

import gradio as gr

from evaluator.model_files import PRECISIONS

from .formatting import escape_markdown
from .admin_import import import_files


def build(ctx) -> dict:
    """The tab; returns its submit event, so that the Queue can refresh as soon as a request is added."""
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

        submitted = button.click(on_submit, [model_id, revision, precision], result, api_visibility="private")

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

        _import_section(ctx)
    return {"submitted": submitted}


def _import_section(ctx) -> None:
    with gr.Accordion("Import results from lm-evaluation-harness or lighteval (admins)", open=False):
        gr.Markdown("Upload a `results_*.json` file with its `samples_*.jsonl` (lm-eval) or `details_*.parquet` "
                    "(lighteval) files. The rows appear with source *imported*, ranked apart from evaluated ones.")
        harness = gr.Radio(["lm-eval", "lighteval"], value="lm-eval", label="Harness")
        files = gr.File(label="Files", file_count="multiple", file_types=[".json", ".jsonl", ".parquet"])
        button = gr.Button("Import", elem_id="import-button")
        result = gr.Markdown(elem_id="import-result")

        def on_import(h, fs, profile: gr.OAuthProfile | None = None):
            return import_files(ctx, h, fs, getattr(profile, "username", None) if profile is not None else None)

        button.click(on_import, [harness, files], result, api_visibility="private")
