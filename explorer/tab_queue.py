"""The Queue tab: every request with its status, progress, ETA and, when it failed, the reason."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import gradio as gr
import pandas as pd

from . import views
from .formatting import escape_markdown, seconds_to_text

COLUMNS = ["status", "model", "precision", "commit", "progress", "ETA", "runs on", "submitted", "started",
           "finished", "reason", "request"]
# Widths in pixels, sized to their content (a share of the screen squeezes every column to one letter a
# line on a phone); what does not fit scrolls sideways.
COLUMN_WIDTHS = [150, 180, 75, 105, 95, 60, 110, 95, 95, 95, 210, 100]
REASON_CHARS = 80  # longer reasons are cut in the table; clicking the row shows the full text below it


def _when(ts) -> str:
    if ts is None or pd.isna(ts):
        return ""
    # Short enough for its column (UTC, said in the table's label); the full time is in the row's details.
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%m-%d %H:%M")


def runs_on(r) -> str:
    """Where the request's current (or last) attempt runs: the node and its GPUs."""
    if not r.node:
        return ""
    return f"{r.node} · GPUs {r.gpu_ids}" if r.gpu_ids else f"{r.node} · CPU"


def eta_now(r, now: float) -> float | None:
    """Seconds left for a running request, from its record as of ``now``.

    The rate is the one over the run so far (items done / time from start to the last heartbeat), and the
    estimate counts down from that heartbeat to ``now``. Chosen over the latest interval's rate (or a moving
    average of it) because a burst (items served from the cache after a retry, a fast language) then moves
    the rate by its share of the whole run only: the ETA drops once and settles back a few seconds per
    heartbeat, instead of falling near zero and jumping back. Between heartbeats it keeps counting down
    instead of standing still and then jumping. Without timestamps: the worker's own estimate.
    """
    if not r.total or r.done >= r.total:
        return 0.0 if r.total else None
    if not r.done or not r.started_at or not r.heartbeat_at or r.heartbeat_at <= r.started_at:
        return r.eta_s
    per_item = (r.heartbeat_at - r.started_at) / r.done
    return max(0.0, (r.total - r.done) * per_item - max(0.0, now - r.heartbeat_at))


def short_reason(text: str) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1] + "…"


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


def queue_rows(queue, store=None, now: float | None = None) -> list[dict]:
    now = time.time() if now is None else now
    rows = []
    requests = queue.list()
    runs = views.skipped_of_runs(store, [r.run_id for r in requests if r.status == "FINISHED"])
    for r in requests:
        status, skipped = status_text(r.status, runs.get(r.run_id))
        progress = f"{r.done}/{r.total}" if r.total else ""
        if r.total:
            progress += f" ({100 * r.done / r.total:.0f}%)"
        rows.append({
            "status": status, "model": r.model_id, "precision": r.precision, "commit": r.sha[:12],
            "progress": progress, "ETA": seconds_to_text(eta_now(r, now)) if r.status == "RUNNING" else "", "runs on": runs_on(r),
            "submitted": _when(r.submitted_at), "started": _when(r.started_at), "finished": _when(r.finished_at),
            "reason": short_reason(r.error or skipped), "request": r.id,
        })
    return rows


def queue_table(queue, store=None) -> pd.DataFrame:
    return pd.DataFrame(queue_rows(queue, store), columns=COLUMNS)


def build(ctx) -> dict:
    with gr.Tab("Queue", id="queue") as tab:
        counts = gr.Markdown()
        table = gr.Dataframe(label="Requests (newest first, times in UTC; click a row for its full reason)", interactive=False,
                             wrap=True, column_widths=COLUMN_WIDTHS, elem_id="queue-table")
        detail = gr.Markdown(elem_id="queue-detail")
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

        def show_detail(df, evt: gr.SelectData):
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if df is None or not len(df) or row is None or row >= len(df):
                return ""
            r = ctx.queue.get(str(df.iloc[row]["request"]))
            if r is None:
                return ""
            status, skipped = status_text(r.status, views.skipped_of_runs(ctx.store, [r.run_id]).get(r.run_id))
            times = " · ".join(f"{name} {datetime.fromtimestamp(ts, timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
                               for name, ts in (("submitted", r.submitted_at), ("started", r.started_at),
                                                ("finished", r.finished_at)) if ts)
            return (f"**{escape_markdown(r.model_id)}** · {escape_markdown(status)} · {times}\n\n"
                    f"{escape_markdown(r.error or skipped)}")

        outputs = [counts, table, problems]
        refresh_btn.click(refresh, None, outputs, api_visibility="private")
        timer.tick(refresh, None, outputs, api_visibility="private")
        tab.select(refresh, None, outputs, api_visibility="private")
        table.select(show_detail, table, detail, api_visibility="private")
    return {"refresh": (refresh, [], outputs)}
