"""Run task cards against a model and write the run folder (samples, scores, provenance)."""

from __future__ import annotations

import json
import math
import platform
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import pyarrow.parquet as pq

from . import ENGINE_VERSION
from .aggregate import aggregate_task
from .cache import ResponseCache
from .cards import TaskCard, get_card, get_suite
from .datasets import DataUnavailable, benchmark_roots, data_folder, load_items
from .endpoint import EndpointOptions, EndpointUnsupported, is_endpoint, parse_endpoint
from .engine import Engine, EngineOptions
from .errors import PolyglotError
from .hub import HubError
from .kinds import kind_module
from .model import LoadedModel, load_model
from .results import (SAMPLE_SCHEMA, SCORE_SCHEMA, Score, read_json, run_json_path, samples_path, scores_path,
                      utc_now, write_json, write_table)


class ModelOutputError(PolyglotError, RuntimeError):
    """The model produced unusable output (NaN or infinite scores)."""


@dataclass
class RunRequest:
    model: str
    tasks: list[str]
    output: Path
    revision: str | None = None
    precision: str = "auto"
    device: str = "auto"
    suite: str | None = None
    limit: int | None = None
    languages: list[str] | None = None
    data_roots: list[Path] = field(default_factory=list)
    cache_path: Path | None = None
    engine: EngineOptions = field(default_factory=EngineOptions)
    run_id: str | None = None
    model_label: str | None = None
    skip_unavailable: bool = False
    allow_hub: bool = True
    endpoint: EndpointOptions | None = None  # for an ``openai-compatible:URL`` model


class Progress:
    """Items done out of the total, with an ETA from the rate so far."""

    def __init__(self, total: int, listener: Callable[["Progress"], None] | None = None):
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.listener = listener

    def advance(self, n: int) -> None:
        self.done = min(self.total, self.done + n)
        if self.listener:
            self.listener(self)

    @property
    def eta_seconds(self) -> float | None:
        elapsed = time.monotonic() - self.started
        if self.done == 0 or elapsed <= 0:
            return None
        return (self.total - self.done) * elapsed / self.done


def _task_signature(card: TaskCard, lm: LoadedModel, req: RunRequest) -> dict:
    return {"task_version": card.version, "revision": lm.revision, "dtype": lm.dtype_name,
            "limit": req.limit, "languages": req.languages, "engine_version": ENGINE_VERSION}


def _check_finite(task: str, rows: list[dict]) -> None:
    bad = [r["item_id"] for r in rows if any(not math.isfinite(x) for x in (r.get("choice_loglik") or []))]
    if bad:
        raise ModelOutputError(f"the model produced NaN or infinite loglikelihoods on {len(bad)} items of {task} "
                               f"(first: {bad[0]})")


def prepare_items(req: RunRequest) -> tuple[list[TaskCard], dict[str, list], dict[str, str], dict[str, str]]:
    roots = benchmark_roots(req.data_roots)
    cards, items, skipped, origins = [], {}, {}, {}
    for task in req.tasks:
        card = get_card(task)
        try:
            folder, origins[task] = data_folder(card, roots, allow_hub=req.allow_hub)
            got = load_items(card, folder, req.languages, req.limit)
        except (DataUnavailable, HubError, FileNotFoundError) as exc:
            if not req.skip_unavailable:
                raise
            # The reason a person reads in the Queue and on the leaderboard row: the task's data could not be had.
            skipped[task] = f"data unavailable: {exc}"
            continue
        cards.append(card)
        items[task] = got
    return cards, items, skipped, origins


def _unchecked_instructions(rows: list[dict]) -> int:
    """Instructions the checker could not check (unsupported ids, bad kwargs): failed, and counted."""
    total = 0
    for r in rows:
        details = r.get("details")
        if isinstance(details, str):
            details = json.loads(details or "{}")
        total += len((details or {}).get("unsupported") or [])
    return total


def _separate_continuations(rows: list[dict]) -> int:
    """Multiple-choice items where a choice could not take the tail of the joint encoding."""
    total = 0
    for r in rows:
        details = r.get("details")
        if isinstance(details, str):
            details = json.loads(details or "{}")
        total += int(bool((details or {}).get("separate_continuations")))
    return total


def run_evaluation(req: RunRequest, listener: Callable[[Progress], None] | None = None,
                   lm: LoadedModel | None = None, log: Callable[[str], None] = lambda s: None) -> dict:
    """Evaluate ``req.model`` on ``req.tasks``; returns the run's provenance (also in run.json)."""
    out = Path(req.output)
    out.mkdir(parents=True, exist_ok=True)
    suite = get_suite(req.suite) if req.suite else None
    cards, items, skipped, origins = prepare_items(req)
    if not cards:
        raise DataUnavailable("no task of the request has data available: " + "; ".join(skipped.values()))
    for task, why in skipped.items():
        log(f"skipping {task}: {why}")
    endpoint = None
    if is_endpoint(req.model):
        from .endpoint_engine import NO_HIDDEN_STATES, EndpointModel

        endpoint = parse_endpoint(req.model, req.endpoint or EndpointOptions())
        lm = EndpointModel(endpoint)
        for card in [c for c in cards if c.kind == "alignment"]:
            cards.remove(card)
            skipped[card.id] = NO_HIDDEN_STATES
        if not cards:
            raise DataUnavailable("no task of the request can be evaluated behind an endpoint: "
                                  + "; ".join(f"{t}: {why}" for t, why in skipped.items()))
    total = sum(kind_module(c.kind).units(items[c.id]) for c in cards)
    progress = Progress(total, listener)
    if lm is None:
        log(f"loading {req.model}")
        lm = load_model(req.model, req.revision, req.precision, req.device, allow_hub=req.allow_hub)
    run_id = req.run_id or f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    model_name = req.model_label or (lm.name if endpoint else req.model)
    previous = read_json(run_json_path(out)) if run_json_path(out).exists() else {}
    info = {
        "run_id": run_id,
        "model": model_name,
        "revision": lm.revision,
        "precision": lm.dtype_name,
        "requested_precision": req.precision,
        "dtype": lm.dtype_name,
        "device": str(lm.device),
        "suite": suite.id if suite else "",
        "suite_version": suite.version if suite else "",
        "engine_version": ENGINE_VERSION,
        "chat_template_hash": lm.chat_template_hash,
        "started_at": utc_now().isoformat(),
        "finished_at": None,
        "status": "running",
        "limit": req.limit,
        "tasks": {},
        "skipped_tasks": skipped,
        "host": platform.node(),
        "model_source": "endpoint" if endpoint else "weights",
    }
    cache = ResponseCache(req.cache_path)
    if endpoint:
        from .endpoint_engine import EndpointEngine

        engine = EndpointEngine(lm, cache, req.engine, on_progress=progress.advance)
        info["endpoint"] = endpoint.describe()
        # A resumed run keeps what the interrupted attempts spent (this attempt's count is ``usage``).
        before = previous.get("endpoint") or {}
        if previous.get("status") == "running" and before.get("usage"):
            info["endpoint"]["earlier_attempts"] = [*before.get("earlier_attempts", []), before["usage"]]
    else:
        engine = Engine(lm, cache, req.engine, on_progress=progress.advance)

    def endpoint_usage() -> None:
        if endpoint:
            info["endpoint"]["usage"] = engine.client.usage.as_dict()
    all_scores: list[Score] = []
    reused = 0  # items whose rows an earlier, interrupted run of this request had already written
    common = {"run_id": run_id, "model": model_name, "revision": lm.revision, "precision": lm.dtype_name,
              "suite": info["suite"], "suite_version": info["suite_version"]}
    try:
        for card in cards:
            t0 = time.monotonic()
            signature = _task_signature(card, lm, req)
            task_items = items[card.id]
            path = samples_path(out, card.id)
            done_before = previous.get("tasks", {}).get(card.id, {})
            if path.exists() and done_before.get("signature") == signature:
                rows = pq.read_table(path).to_pylist()
                for r in rows:
                    r["details"] = json.loads(r["details"] or "{}")
                progress.advance(kind_module(card.kind).units(task_items))
                reused += kind_module(card.kind).units(task_items)
                log(f"{card.id}: reusing {len(rows)} rows written earlier")
            else:
                log(f"{card.id}: {len(task_items)} items")
                try:
                    rows = kind_module(card.kind).run(card, task_items, engine)
                except EndpointUnsupported as exc:
                    # Never a silent zero: the task is left out of this run, with the server's reason.
                    skipped[card.id] = str(exc)
                    log(f"skipping {card.id}: {exc}")
                    endpoint_usage()
                    write_json(run_json_path(out), info)
                    continue
                _check_finite(card.id, rows)
                now = utc_now()
                for r in rows:
                    r.update(common, task=card.id, task_version=card.version, kind=card.kind, created_at=now)
                    r.setdefault("turn", 0)
                write_table(path, rows, SAMPLE_SCHEMA)
            now = utc_now()
            all_scores += [replace(s, **common, source="evaluated", task=card.id, task_version=card.version,
                                   kind=card.kind, engine_version=ENGINE_VERSION, created_at=now,
                                   citation=card.source.citation) for s in aggregate_task(card, rows)]
            info["tasks"][card.id] = {
                "version": card.version,
                "kind": card.kind,
                "n_items": len(task_items),
                "n_rows": len(rows),
                "n_truncated": sum(bool(r.get("truncated")) for r in rows),
                "n_unchecked_instructions": _unchecked_instructions(rows),
                "n_separate_continuations": _separate_continuations(rows),
                "generation": card.generation,
                "languages": sorted({r["language"] for r in rows}),
                "prompt": card.prompt,
                "metric": card.metric,
                "dataset": {"loader": card.source.loader, "hub_repo": card.source.hub_repo,
                            "hub_revision": card.source.hub_revision, "origin": origins[card.id]},
                "seconds": round(time.monotonic() - t0, 3),
                "signature": signature,
            }
            endpoint_usage()
            write_json(run_json_path(out), {**info, "numerics_guard": engine.guard.as_dict() if engine.guard else None})
        if not info["tasks"]:
            raise EndpointUnsupported("no task of the request could be evaluated behind this endpoint: "
                                      + "; ".join(f"{t}: {why}" for t, why in skipped.items()))
        info.update(
            status="finished",
            finished_at=utc_now().isoformat(),
            numerics_guard=engine.guard.as_dict() if engine.guard else None,
            engine_stats={"path": engine.stats.path, "rows": engine.stats.rows, "batches": engine.stats.batches,
                          "tokens_computed": engine.stats.tokens_computed, "padded_tokens": engine.stats.padded_tokens,
                          "oom_backoffs": engine.budget.backoffs, "token_budget": engine.budget.tokens,
                          "cache_hits": cache.hits, "cache_misses": cache.misses, "reused_items": reused},
            seconds=round(time.monotonic() - progress.started, 3),
        )
        endpoint_usage()
        write_json(run_json_path(out), info)
        # Written last: its presence marks the run as complete for every reader.
        write_table(scores_path(out), all_scores, SCORE_SCHEMA)
    finally:
        if endpoint:
            endpoint_usage()
            engine.close()
            if info["status"] == "running":  # stopped: what this attempt spent is kept for the resumed run
                write_json(run_json_path(out), info)
        cache.close()
    return info
