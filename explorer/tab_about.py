"""The About tab: how scores are computed, where reported figures come from, how to use the API."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from evaluator.cards import all_cards, all_suites

from . import views
from .reported import cultural_study


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def methodology_markdown() -> str:
    lines = ["## Tasks", "", "| task | version | kind | languages | metric | data | license |", "|---|---|---|---|---|---|---|"]
    for c in all_cards().values():
        data = c.source.hub_repo or c.source.local or ""
        lines.append(f"| {c.id} | {c.version} | {c.kind} | {len(c.languages)} | {c.metric} | {data} | {c.source.license} |")
    lines += ["", "## References", "",
              "Each task reproduces a reference implementation; any deliberate difference is stated.", "",
              "| task | reference | version | headline metric | deliberate differences |", "|---|---|---|---|---|"]
    for c in all_cards().values():
        r = c.reference
        if r is None:
            lines.append(f"| {c.id} | (not named) | | | |")
            continue
        name = f"[{r.implementation}]({r.url})" if r.url else r.implementation
        task = f" `{r.task}`" if r.task else ""
        lines.append(f"| {c.id} | {_cell(name + task)} | {_cell(r.version)} | {_cell(r.headline_metric)} | "
                     f"{_cell(r.differences) or 'none'} |")
    lines += ["", "## Suites", ""]
    for s in all_suites().values():
        lines.append(f"- **{s.id}** (v{s.version}): {', '.join(s.tasks)}")
    lines += [
        "",
        "## How scores are computed",
        "- Every score is computed from per-sample rows, which are kept and browsable (Explorer → Samples) and "
        "downloadable. Multiple choice stores each choice's loglikelihood and its length in characters, bytes and "
        "tokens, so every normalisation can be recomputed.",
        "- A choice's tokens are the tail of the joint encoding of prompt and choice, as lm-evaluation-harness "
        "splits them; where a token spans the join (some CJK and Thai joins) the choice is encoded alone, and each "
        "run counts those items (Explorer → Task details).",
        "- Accuracy-type scores carry 95% Wilson intervals; other means a bootstrap interval over items.",
        "- A task's score is the mean over its languages; the average is the mean over tasks. The parity gap is "
        "the best minus the worst language within a task, averaged over tasks.",
        "- Each score records the model revision (commit), precision, task version, suite version, engine version, "
        "number of items and date (Leaderboard → Model details).",
    ]
    return "\n".join(lines)


API_MARKDOWN = """
## API
Every table is available through named endpoints (`/submit`, `/queue_status`, `/leaderboard_table`,
`/model_results`, `/per_language`, `/language_difficulty`, `/per_category`, `/parity`, `/compare`,
`/samples`, `/download_samples`); "Use via API" at the bottom of the page lists their parameters.
With `gradio_client`:

```python
from gradio_client import Client
client = Client("http://127.0.0.1:7860/")
client.predict("org/model", "main", "auto", api_name="/submit")      # {status, message, request_id}
client.predict("polyglot_mc", "", "", api_name="/leaderboard_table") # rows; task, language, source filters
client.predict("org/a", "org/b", "", "", api_name="/compare")        # paired tests, Holm-corrected
```
"""


def build(ctx) -> None:
    with gr.Tab("About", id="about"):
        gr.Markdown(methodology_markdown())
        gr.Markdown("## Reported figures and their sources")
        gr.Dataframe(value=views.reported_sources(ctx.store), interactive=False, wrap=True)
        citation, rows = cultural_study()
        gr.Markdown("### Cultural nuance in translation (human ratings, 0–3)\n" + citation)
        gr.Dataframe(value=pd.DataFrame(rows), interactive=False)
        gr.Markdown(API_MARKDOWN)
