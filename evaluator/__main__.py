"""Command line: ``python -m evaluator run ...``, ``tasks`` and ``score-instructions``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m evaluator", description="Multilingual LLM evaluation")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="evaluate a model on tasks and write results + per-sample rows")
    run.add_argument("--model", required=True,
                     help="local folder, Hugging Face model id, or openai-compatible:BASE_URL (a served model)")
    run.add_argument("--revision", default=None, help="branch, tag or commit sha (Hub models)")
    run.add_argument("--tasks", default=None, help="comma-separated task ids (default: the suite's tasks)")
    run.add_argument("--suite", default=None, help="suite id, e.g. starter or polyglot")
    run.add_argument("--limit", type=int, default=None, help="at most N items per language and task")
    run.add_argument("--languages", default=None, help="comma-separated language codes (default: all)")
    run.add_argument("--output", required=True, type=Path, help="folder for run.json, samples-*.parquet, scores.parquet")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    run.add_argument("--precision", default="auto", help="auto, bfloat16, float16, float32")
    run.add_argument("--data-root", action="append", default=[], help="folder holding benchmarks in their published layout")
    run.add_argument("--cache", type=Path, default=None, help="response cache file (default: OUTPUT/cache.sqlite)")
    run.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    run.add_argument("--path", choices=["auto", "packed", "plain"], default="auto",
                     help="multiple-choice scoring path (auto: packed context sharing where supported)")
    run.add_argument("--token-budget", type=int, default=None, help="tokens per batch (default: from free memory)")
    run.add_argument("--static-cache", action="store_true", help="static KV cache for generation")
    run.add_argument("--generation-backend", choices=["hf", "vllm"], default="hf",
                     help="vllm: generate with vLLM where it is installed (its own environment, GPU only)")
    run.add_argument("--offline", action="store_true", help="never contact the Hub")
    run.add_argument("--skip-unavailable", action="store_true", help="skip tasks whose data is unavailable")
    run.add_argument("--quiet", action="store_true")
    ep = run.add_argument_group("models behind an OpenAI-compatible endpoint (--model openai-compatible:BASE_URL)")
    ep.add_argument("--served-model", default="", help="the model name the server serves")
    ep.add_argument("--api-key-env", default="", help="name of the environment variable holding the API key")
    ep.add_argument("--endpoint-concurrency", type=int, default=4, help="requests in flight at once")
    ep.add_argument("--endpoint-timeout", type=float, default=120.0, help="seconds before a request is retried")
    ep.add_argument("--endpoint-retries", type=int, default=5, help="retries on 429, 5xx, timeouts, refusals")

    publish = sub.add_parser("publish", help="publish a run folder to a results store (write-once)")
    publish.add_argument("folder", type=Path, help="a run folder written by `run` (run.json, scores.parquet, ...)")
    publish.add_argument("--store", default=None,
                         help="folder URL or fsspec URL, e.g. s3://bucket/prefix (default: $POLYGLOT_STORE or "
                              "DATA_DIR/results)")
    publish.add_argument("--data-dir", default=None, help="data folder whose results store is the default")
    publish.add_argument("--run-id", default=None, help="default: the run id in run.json")

    tasks = sub.add_parser("tasks", help="list tasks with languages and item counts")
    tasks.add_argument("--data-root", action="append", default=[])
    tasks.add_argument("--json", action="store_true")

    score = sub.add_parser("score-instructions", help="re-score saved instruction-following responses offline")
    score.add_argument("--input", required=True, type=Path, help="JSONL: key, prompt, instruction_id_list, kwargs, response")
    score.add_argument("--output", required=True, type=Path, help="JSONL with the strict and loose verdicts added")
    score.add_argument("--checker", default="ifeval", help="rules for unprefixed ids: ifeval (default) or multi_if")
    return p.parse_args(argv)


def _cmd_score_instructions(args) -> int:
    from .score_instructions import InputError, score_file

    try:
        summary = score_file(args.input, args.output, args.checker)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name in ("prompt_strict", "inst_strict", "prompt_loose", "inst_loose"):
        print(f"{name:14} {100 * summary[name]:.2f}")
    print(json.dumps(summary))
    return 0


def _cmd_tasks(args) -> int:
    from .catalogue import task_catalogue

    rows = task_catalogue(args.data_root)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{'task':28} {'version':8} {'kind':16} {'langs':>5} {'items':>8}  data")
    for r in rows:
        items = str(r["items"]) if r["items"] is not None else "-"
        print(f"{r['id']:28} {r['version']:8} {r['kind']:16} {len(r['languages']):>5} {items:>8}  {r['availability']}")
        print(f"{'':28} languages: {', '.join(r['languages'])}")
    return 0


def _cmd_run(args) -> int:
    from tqdm import tqdm

    from .cards import get_suite
    from .endpoint import EndpointOptions
    from .engine import EngineOptions
    from .model import quiet_transformers
    from .runner import RunRequest, run_evaluation

    quiet_transformers()
    if args.tasks:
        tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    else:
        tasks = list(get_suite(args.suite or "starter").tasks)
    req = RunRequest(
        model=args.model,
        revision=args.revision,
        tasks=tasks,
        suite=args.suite,
        output=args.output,
        limit=args.limit,
        languages=[l.strip() for l in args.languages.split(",")] if args.languages else None,
        device=args.device,
        precision=args.precision,
        data_roots=[Path(p) for p in args.data_root],
        cache_path=None if args.no_cache else (args.cache or args.output / "cache.sqlite"),
        engine=EngineOptions(path=args.path, token_budget=args.token_budget, static_cache=args.static_cache,
                             generation_backend=args.generation_backend),
        skip_unavailable=args.skip_unavailable,
        allow_hub=not args.offline,
        endpoint=EndpointOptions(served_model=args.served_model, api_key_env=args.api_key_env,
                                 concurrency=args.endpoint_concurrency, timeout_s=args.endpoint_timeout,
                                 max_retries=args.endpoint_retries),
    )
    bar = None

    def listener(p):
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            bar = tqdm(total=p.total, unit="item", desc="evaluating", file=sys.stderr)
        bar.n = p.done
        bar.refresh()

    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr))
    info = run_evaluation(req, listener, log=log)
    if bar:
        bar.close()
    _print_summary(args.output)
    print(json.dumps({"output": str(args.output), "run_id": info["run_id"], "seconds": info["seconds"]}))
    return 0


def _cmd_publish(args) -> int:
    from .run_store import AlreadyPublished, RunStore, StoreError
    from .store import resolve_data_dir

    try:
        run_id = args.run_id or json.loads((args.folder / "run.json").read_text(encoding="utf-8"))["run_id"]
        store = RunStore.for_data_dir(resolve_data_dir(args.data_dir), args.store)
        folder = store.publish(args.folder, run_id)
    except (AlreadyPublished, StoreError, ValueError, KeyError, OSError) as exc:
        print(f"error: not published: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"store": store.url, "run_id": run_id, "folder": folder}))
    return 0


def _print_summary(run_dir: Path) -> None:
    import pyarrow.parquet as pq

    from .results import scores_path
    from .scope import ALL

    t = pq.read_table(scores_path(run_dir)).to_pandas()
    t = t[(t["primary"]) & (t["category"] == ALL)]
    for task, g in t.groupby("task"):
        langs = ", ".join(f"{r.language} {100 * r.value:.1f}" for r in g.itertuples())
        print(f"{task} ({g['metric'].iloc[0]}): mean {100 * g['value'].mean():.1f} | {langs}", file=sys.stderr)


def main(argv=None) -> int:
    args = _parse_args(argv if argv is not None else sys.argv[1:])
    try:
        return {"tasks": _cmd_tasks, "publish": _cmd_publish, "run": _cmd_run,
                "score-instructions": _cmd_score_instructions}[args.command](args)
    except Exception as exc:  # noqa: BLE001 - a CLI prints the reason, not a traceback
        from .failures import classify_failure

        if classify_failure(exc).explained:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
