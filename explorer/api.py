"""Named API endpoints. Scores are fractions in [0, 1]; filters are comma-separated lists.

Every argument is checked against its spec in ``api_args.ARGS`` (see ``api_args.endpoint``) before
an endpoint runs; unexpected failures reach the caller as a short message with an error id
(``errors.guarded``)."""

from __future__ import annotations

import json

import gradio as gr
import pandas as pd

from evaluator.scope import ALL

from . import leaderboard_table as leaderboard_table_module
from . import views
from .api_args import endpoint
from .errors import guarded
from .filters import from_api


def _records(df: pd.DataFrame) -> list[dict]:
    """JSON-safe records: NaN and infinities become null, timestamps ISO strings, arrays lists."""
    return json.loads(df.to_json(orient="records", date_format="iso", force_ascii=False)) if len(df) else []


def is_admin(ctx, profile) -> bool:
    """An admin is a logged-in Hugging Face user listed in <data_dir>/admins.txt or $POLYGLOT_ADMINS."""
    user = getattr(profile, "username", None) if profile is not None else None
    return bool(user) and user.lower() in ctx.settings.policy().admins


# Arguments whose spec differs from the one of the same name elsewhere.
ALIASES = {"samples": {"task": "sample_task", "language": "sample_language", "category": "sample_category"},
           "submit": {"model_id": "submitted_model"}}


def register(ctx) -> None:
    store = ctx.store

    def submit(model_id: str, revision: str = "main", precision: str = "auto", profile: gr.OAuthProfile | None = None,
               request: gr.Request = None) -> dict:
        """Validate and queue a model. Returns {status: queued|rejected, message, request_id}."""
        client = getattr(getattr(request, "client", None), "host", None) if request else None
        user = getattr(profile, "username", None) if profile is not None else None
        return ctx.submissions.submit(model_id, revision, precision, submitter=user, client=client).as_dict()

    def queue_status(profile: gr.OAuthProfile | None = None) -> list[dict]:
        """Every request, newest first: status, progress (done/total), ETA in seconds, error.
        Which worker holds a request (claimed_by, host:pid) is shown to admins only."""
        admin = is_admin(ctx, profile)
        out = []
        for r in ctx.queue.list():
            d = r.as_dict()
            d.pop("client", None)
            if not admin:
                d.pop("claimed_by", None)
                d.pop("dispatch_ref", None)
            out.append(d)
        return out

    def leaderboard_table(task: str = "", language: str = "", source: str = "", category: str = ALL, kind: str = "",
                          tier: str = "", script: str = "", family: str = "", benchmark: str = "",
                          merge_sources: bool = False, sort: str = "", include_empty: bool = False) -> list[dict]:
        """The leaderboard's rows, as the page shows them, for one benchmark set (benchmark: suite:<id> or
        task:<id>; empty: the set the most models can be compared on). Per row: rank (null unless the row
        covers the whole set; within its source unless merge_sources), status (ranked, partial, reference,
        no results), average with 95% interval, coverage, per-task scores, languages, parity gap, flag
        (skipped tasks). The task filter narrows the sets offered."""
        f = from_api(task=task, language=language, source=source, category=category, kind=kind, tier=tier,
                     script=script, family=family)
        spec = leaderboard_table_module.TableSpec(benchmark=benchmark or "", merge_sources=bool(merge_sources),
                                                  sort=sort or "", include_empty=bool(include_empty))
        try:
            table = leaderboard_table_module.leaderboard_table(store, f, spec)
        except leaderboard_table_module.TableError as exc:
            raise gr.Error(str(exc)) from None
        return _records(table.rows.assign(benchmark=table.benchmark.id))

    def model_results(model_id: str) -> dict:
        """Per-language and per-category scores of one model."""
        res = views.model_results(store, model_id)
        return {"model": model_id, "per_language": _records(res["per_language"]),
                "per_category": _records(res["per_category"])}

    def per_language(models: str = "", task: str = "", language: str = "", tier: str = "") -> list[dict]:
        """Model x language scores with 95% intervals (default models: the ten best)."""
        return _records(views.per_language(store, from_api(task=task, language=language, models=models, tier=tier)))

    def language_difficulty(task: str = "", source: str = "") -> list[dict]:
        """Languages ranked by the mean score of all models, hardest first."""
        return _records(views.language_difficulty(store, from_api(task=task, source=source)))

    def per_category(models: str = "", task: str = "", language: str = "") -> list[dict]:
        """Scores per category (idiom, pun, holiday, concept, CS/CA, turn, ...) and language."""
        return _records(views.per_category(store, from_api(task=task, language=language, models=models)))

    def parity(task: str = "", language: str = "", source: str = "", models: str = "") -> list[dict]:
        """Per model: best and worst language, gap, spread, worst/best ratio, mean, mother-tongue effect."""
        return _records(views.parity(store, from_api(task=task, language=language, source=source, models=models)))

    def compare(model_a: str, model_b: str, task: str = "", language: str = "") -> list[dict]:
        """A - B per task and language with paired tests (McNemar / paired bootstrap), Holm-corrected."""
        return _records(views.compare(store, model_a, model_b, from_api(task=task, language=language)))

    def samples(run_id: str, task: str, language: str = "", category: str = "", wrong_only: bool = False,
                page: int = 1, page_size: int = 20) -> dict:
        """A page of per-sample rows behind one cell: {total, page, rows}."""
        try:
            rows, total = views.samples(store, run_id, task, language or None, category or None, wrong_only, page,
                                        page_size)
        except views.SamplesUnavailable as exc:
            raise gr.Error(str(exc)) from None
        return {"total": total, "page": page, "rows": _records(rows)}

    def store_problems() -> list[dict]:
        """Results that could not be loaded and why: run, file, reason, effect (empty when all loaded)."""
        return _records(store.problems())

    for fn in (submit, queue_status, leaderboard_table, model_results, per_language, language_difficulty, per_category,
               parity, compare, samples, store_problems):
        checked = endpoint(fn, aliases=ALIASES.get(fn.__name__))
        gr.api(guarded(checked), api_name=fn.__name__)
