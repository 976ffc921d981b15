"""Named API endpoints (``/submit``, ``/queue_status``, ``/leaderboard_table``, ``/model_results``)."""

from __future__ import annotations

import json

import gradio as gr
import pandas as pd

from . import views


def _records(df: pd.DataFrame) -> list[dict]:
    """JSON-safe records: NaN becomes null, timestamps ISO strings, arrays lists."""
    return json.loads(df.to_json(orient="records", date_format="iso", force_ascii=False)) if len(df) else []


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def register(ctx) -> None:
    def submit(model_id: str, revision: str = "main", precision: str = "auto", profile: gr.OAuthProfile | None = None,
               request: gr.Request = None) -> dict:
        """Validate and queue a model. Returns {status: queued|rejected, message, request_id}."""
        client = getattr(getattr(request, "client", None), "host", None) if request else None
        user = getattr(profile, "username", None) if profile is not None else None
        return ctx.submissions.submit(model_id, revision, precision, submitter=user, client=client).as_dict()

    def queue_status() -> list[dict]:
        """Every request, newest first: status, progress (done/total), ETA in seconds, error."""
        out = []
        for r in ctx.queue.list():
            d = r.as_dict()
            d.pop("client", None)
            out.append(d)
        return out

    def leaderboard_table(task: str = "", language: str = "", source: str = "") -> list[dict]:
        """Leaderboard rows (scores in [0, 1]); filters are comma-separated task ids, language codes, sources."""
        df = views.leaderboard(ctx.store, views.Filters(tasks=_split(task), languages=_split(language),
                                                        sources=_split(source)))
        return _records(df)

    def model_results(model_id: str) -> dict:
        """Per-language and per-category scores of one model (scores in [0, 1])."""
        res = views.model_results(ctx.store, model_id)
        return {"model": model_id, "per_language": _records(res["per_language"]),
                "per_category": _records(res["per_category"])}

    gr.api(submit, api_name="submit")
    gr.api(queue_status, api_name="queue_status")
    gr.api(leaderboard_table, api_name="leaderboard_table")
    gr.api(model_results, api_name="model_results")

