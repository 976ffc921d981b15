"""Administration of the queue from the command line.

    python -m submissions.admin --data-dir ./data/store list [--status FAILED]
    python -m submissions.admin --data-dir ./data/store show REQUEST_ID
    python -m submissions.admin --data-dir ./data/store requeue REQUEST_ID
    python -m submissions.admin --data-dir ./data/store requeue-failed [--kind evaluator|model|any] [--since-hours 24]
    python -m submissions.admin --data-dir ./data/store cancel REQUEST_ID
    python -m submissions.admin --data-dir ./data/store set-gpus REQUEST_ID 2      # or "auto"
    python -m submissions.admin --queue postgresql://... schema

``requeue-failed`` re-queues, in one command, every request that failed because of the evaluator
(not because of the model), e.g. after an outage; ``--kind any`` takes model failures too (not
cancellations). ``cancel`` stops a pending or running request: its worker stops at its next
heartbeat, and a Ray dispatcher cancels the task that runs it. ``set-gpus`` overrides the GPUs a
request is given on a cluster. ``--queue`` (or ``$POLYGLOT_QUEUE``) names a queue that is not the
data folder's SQLite file.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone

from evaluator.store import StoreLayout, resolve_data_dir

from workqueue import SCHEMA_VERSION, STATUSES, open_queue
from workqueue.schema import version


def _when(ts) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M") if ts else "-"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m submissions.admin", description="Administer the evaluation queue")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--queue", default=None, help="queue URL (default: $POLYGLOT_QUEUE or the data folder's SQLite file)")
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="list requests, newest first")
    ls.add_argument("--status", choices=STATUSES, default=None)
    show = sub.add_parser("show", help="one request, with the end of its log")
    show.add_argument("request_id")
    rq = sub.add_parser("requeue", help="put one failed request back in the queue")
    rq.add_argument("request_id")
    rf = sub.add_parser("requeue-failed", help="put failed requests back in the queue")
    rf.add_argument("--kind", choices=["evaluator", "model", "any"], default="evaluator",
                    help="which failures: the evaluator's (default), the model's, or any but cancellations")
    rf.add_argument("--since-hours", type=float, default=None, help="only failures of the last N hours")
    cancel = sub.add_parser("cancel", help="stop a pending or running request")
    cancel.add_argument("request_id")
    gpus = sub.add_parser("set-gpus", help="GPUs a request gets on a cluster ('auto': from its size and precision)")
    gpus.add_argument("request_id")
    gpus.add_argument("gpus")
    sub.add_parser("schema", help="create or upgrade the queue's schema and print its version")
    ep = sub.add_parser("add-endpoint", help="queue a model behind an OpenAI-compatible endpoint")
    ep.add_argument("base_url", help="e.g. http://host:8000/v1")
    ep.add_argument("served_model", help="the model name the server serves")
    ep.add_argument("--api-key-env", default="", help="environment variable holding the API key on the workers")
    ep.add_argument("--suite", default=None, help="suite to evaluate (default: the deployment's)")
    args = p.parse_args(argv)

    layout = StoreLayout(resolve_data_dir(args.data_dir))
    with open_queue(layout.queue_db, url=args.queue) as queue:
        return _command(args, layout, queue)


def _command(args, layout, queue) -> int:
    if args.command == "add-endpoint":
        from .settings import Settings
        from .submit import Submissions

        settings = Settings(data_dir=layout.root)
        if args.suite:
            settings.suite = args.suite
        # The command line is the admins' own: it acts as the first admin (or as "admin" when none is named).
        admin = next(iter(sorted(settings.policy().admins)), None)
        if admin is None:
            settings.policy = lambda base=settings.policy: _with_admin(base(), "admin")
            admin = "admin"
        res = Submissions(queue, settings).submit_endpoint(args.base_url, args.served_model, args.api_key_env,
                                                           submitter=admin)
        print(f"{res.status}: {res.message}")
        return 0 if res.status == "queued" else 1
    if args.command == "list":
        for r in queue.list(status=args.status, limit=100000):
            reason = f"  [{r.error_kind}] {r.error[:100]}" if r.error else ""
            where = f"  on {r.node}" + (f" GPUs {r.gpu_ids}" if r.gpu_ids else "") if r.node else ""
            print(f"{r.id}  {r.status:8}  {_when(r.submitted_at)}  {r.model_id}@{r.sha[:12]} {r.precision}"
                  f"  {r.done}/{r.total}{where}{reason}")
        return 0
    if args.command == "show":
        r = queue.get(args.request_id)
        if r is None:
            print(f"no request {args.request_id}", file=sys.stderr)
            return 1
        for k, v in r.as_dict().items():
            print(f"{k:14} {v}")
        log = layout.log_file(r.id)
        if log.is_file():
            print("\n--- log (last 40 lines) ---")
            print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        return 0
    if args.command == "requeue":
        ok = queue.requeue(args.request_id)
        print(f"re-queued {args.request_id}" if ok else f"{args.request_id} is not a FAILED request")
        return 0 if ok else 1
    if args.command == "cancel":
        ok = queue.cancel(args.request_id)
        print(f"cancelled {args.request_id}" if ok else f"{args.request_id} is not a PENDING or RUNNING request")
        return 0 if ok else 1
    if args.command == "set-gpus":
        try:
            value = None if args.gpus == "auto" else float(args.gpus)
            ok = queue.set_gpus(args.request_id, value)
        except ValueError:
            print(f"the number of GPUs must be 'auto' or a number from 0 to 4096, not {args.gpus!r}", file=sys.stderr)
            return 2
        print(f"{args.request_id} gets {args.gpus} GPU(s)" if ok else f"no request {args.request_id}")
        return 0 if ok else 1
    if args.command == "schema":
        print(f"queue {queue.where}: schema version {version(queue.backend)} (this release: {SCHEMA_VERSION})")
        return 0
    since = time.time() - args.since_hours * 3600 if args.since_hours else None
    ids = queue.requeue_failed(error_kind=None if args.kind == "any" else args.kind, since=since)
    print(f"re-queued {len(ids)} request(s)" + (": " + " ".join(ids) if ids else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _with_admin(policy, name: str):
    policy.admins = set(policy.admins) | {name}
    return policy
