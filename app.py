"""Polyglot Leaderboard: the web app.

    python app.py [--data-dir ./data/store] [--store URL] [--port 7860] [--no-worker] [--allow-local-models]
"""

from __future__ import annotations

import argparse
import os
import signal

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Polyglot Leaderboard web app")
    from evaluator.settings import SETTINGS

    # Flags of the settings table (evaluator.settings): unset flags leave the environment or default.
    for s in SETTINGS:
        if s.flag:
            p.add_argument(s.flag, dest=s.name, type=s.parse, default=None,
                           help=f"{s.help} (default: ${s.env} or {s.default!r})")
    p.add_argument("--no-worker", action="store_true", help="do not evaluate in this process (use evaluator.worker)")
    p.add_argument("--allow-local-models", action="store_true", help="accept absolute local folder paths as models")
    p.add_argument("--device", default="auto", help="device of the in-app worker")
    return p.parse_args(argv)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> None:
    args = parse_args(argv)
    from evaluator.settings import setting
    from evaluator.store import resolve_data_dir
    from submissions.settings import Settings

    settings = Settings(data_dir=resolve_data_dir(args.data_dir), allow_local_models=args.allow_local_models,
                        run_worker=not args.no_worker, worker_device=args.device)
    for name in ("max_params_b", "suite", "tick_s", "lease_s", "queue_url", "dispatch", "store_url"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))

    from explorer.context import AppContext
    from explorer.ui import build_ui
    from submissions.scheduler import EvaluationScheduler

    ctx = AppContext.create(settings)
    demo = build_ui(ctx)
    scheduler = EvaluationScheduler(settings.data_dir, ctx.queue, ctx.store, tick_s=settings.tick_s,
                                    lease_s=settings.lease_s, run_worker=settings.run_worker,
                                    device=settings.worker_device, dispatch=settings.dispatch, store_url=settings.store_url)
    scheduler.start()
    where = ("no in-app worker" if not settings.run_worker else "evaluating in this process"
             if scheduler.dispatcher is None else f"dispatching evaluations to Ray at {scheduler.ray_address}")
    print(f"Polyglot Leaderboard: data in {settings.data_dir}; queue {ctx.queue.where}; "
          f"results in {ctx.store.runs.url}; {where}", flush=True)
    # SIGTERM (how services and containers are stopped) ends the app like Ctrl-C: the server closes
    # and the clean-up below runs, removing the store's private database file when it has one.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        demo.queue(default_concurrency_limit=8).launch(
            server_name=args.host or setting("host"), server_port=args.port or setting("port"), share=False, show_error=False, quiet=False,
            allowed_paths=[str(ctx.exports)], css=None,
        )
    finally:
        scheduler.shutdown()
        ctx.store.close()


if __name__ == "__main__":
    main()
