"""The Queue tab: every request with its status, progress, ETA and, when it failed, the reason."""

from __future__ import annotations

from datetime import datetime, timezone

import gradio as gr
import pandas as pd

from .formatting import seconds_to_text

COLUMNS = ["status", "model", "precision", "commit", "progress", "ETA", "runs on", "submitted", "started",
           "finished", "reason", "request"]


def _when(ts) -> str:
    if ts is None or pd.isna(ts):
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def runs_on(r) -> str:
    """Where the request's current (or last) attempt runs: the node and its GPUs."""
    if not r.node:
        return ""
    return f"{r.node} · GPUs {r.gpu_ids}" if r.gpu_ids else f"{r.node} · CPU"


def queue_rows(queue) -> list[dict]:
    rows = []
    for r in queue.list():
        progress = f"{r.done}/{r.total}" if r.total else ""
        if r.total:
            progress += f" ({100 * r.done / r.total:.0f}%)"
        rows.append({
            "status": r.status, "model": r.model_id, "precision": r.precision, "commit": r.sha[:12],
            "progress": progress, "ETA": seconds_to_text(r.eta_s) if r.status == "RUNNING" else "", "runs on": runs_on(r),
            "submitted": _when(r.submitted_at), "started": _when(r.started_at), "finished": _when(r.finished_at),
            "reason": r.error or "", "request": r.id,
        })
    return rows


def queue_table(queue) -> pd.DataFrame:
    return pd.DataFrame(queue_rows(queue), columns=COLUMNS)


def build(ctx) -> dict:
    with gr.Tab("Queue", id="queue"):
        counts = gr.Markdown()
        table = gr.Dataframe(label="Requests (newest first)", interactive=False, wrap=True, elem_id="queue-table")
        refresh_btn = gr.Button("Refresh", size="sm")
        # Results that could not be loaded (a damaged file): which, why, and what is not shown.
        problems = gr.Dataframe(label="Results not loaded", interactive=False, wrap=True, visible=False,
                                elem_id="store-problems")
        timer = gr.Timer(5.0)

        def refresh():
            df = queue_table(ctx.queue)
            by = df["status"].value_counts().to_dict() if len(df) else {}
            text = " · ".join(f"**{s}** {by.get(s, 0)}" for s in ("PENDING", "RUNNING", "FINISHED", "FAILED"))
            bad = ctx.store.problems()
            return text, df, gr.update(value=bad, visible=len(bad) > 0)

        outputs = [counts, table, problems]
        refresh_btn.click(refresh, None, outputs, api_visibility="private")
        timer.tick(refresh, None, outputs, api_visibility="private")
    return {"refresh": (refresh, [], outputs)}
