"""The Queue tab: every request with its status, progress, ETA and, when it failed, the reason."""

from __future__ import annotations

import json
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


def skipped_of_runs(store, run_ids) -> dict[str, dict]:
    """run id -> {"tasks": n evaluated, "skipped": {task: why}} from the runs' provenance."""
    ids = [i for i in run_ids if i]
    if store is None or not ids:
        return {}
    runs = store.query("SELECT run_id, info FROM runs WHERE run_id IN (SELECT unnest(?))", [ids])
    out = {}
    for run_id, info in runs.itertuples(index=False):
        d = json.loads(info or "{}")
        out[run_id] = {"tasks": len(d.get("tasks") or {}), "skipped": d.get("skipped_tasks") or {}}
    return out


def status_text(status: str, run: dict | None) -> tuple[str, str]:
    """The status shown and the skip reasons: "FINISHED — 2 of 5 tasks; 3 skipped" when tasks were skipped."""
    if status != "FINISHED" or not run or not run["skipped"]:
        return status, ""
    done, skipped = run["tasks"], run["skipped"]
    by_reason: dict[str, list[str]] = {}
    for task, why in skipped.items():
        by_reason.setdefault(str(why), []).append(task)
    why = "; ".join(f"{', '.join(tasks)}: {reason}" for reason, tasks in by_reason.items())
    return f"FINISHED — {done} of {done + len(skipped)} tasks; {len(skipped)} skipped", f"skipped {why}"


def queue_rows(queue, store=None) -> list[dict]:
    rows = []
    requests = queue.list()
    runs = skipped_of_runs(store, [r.run_id for r in requests if r.status == "FINISHED"])
    for r in requests:
        status, skipped = status_text(r.status, runs.get(r.run_id))
        progress = f"{r.done}/{r.total}" if r.total else ""
        if r.total:
            progress += f" ({100 * r.done / r.total:.0f}%)"
        rows.append({
            "status": status, "model": r.model_id, "precision": r.precision, "commit": r.sha[:12],
            "progress": progress, "ETA": seconds_to_text(r.eta_s) if r.status == "RUNNING" else "", "runs on": runs_on(r),
            "submitted": _when(r.submitted_at), "started": _when(r.started_at), "finished": _when(r.finished_at),
            "reason": r.error or skipped, "request": r.id,
        })
    return rows


def queue_table(queue, store=None) -> pd.DataFrame:
    return pd.DataFrame(queue_rows(queue, store), columns=COLUMNS)


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
            df = queue_table(ctx.queue, ctx.store)
            by = df["status"].str.split(" ").str[0].value_counts().to_dict() if len(df) else {}
            text = " · ".join(f"**{s}** {by.get(s, 0)}" for s in ("PENDING", "RUNNING", "FINISHED", "FAILED"))
            bad = ctx.store.problems()
            return text, df, gr.update(value=bad, visible=len(bad) > 0)

        outputs = [counts, table, problems]
        refresh_btn.click(refresh, None, outputs, api_visibility="private")
        timer.tick(refresh, None, outputs, api_visibility="private")
    return {"refresh": (refresh, [], outputs)}
