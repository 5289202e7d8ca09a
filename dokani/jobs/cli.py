"""``python -m dokani worker``: a background-job worker (as many as wanted, on any machine with the database)."""
from __future__ import annotations

import argparse
import logging


def _worker(args: argparse.Namespace) -> int:
    from db.engine import owner_url
    from db.migrate import upgrade
    from dokani.jobs.worker import run_worker

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    upgrade(owner_url())
    print(f"dokani worker {args.name or ''} started (concurrency {args.concurrency}); Ctrl+C stops it", flush=True)
    run_worker(concurrency=args.concurrency, name=args.name)
    return 0


def register_worker(sub) -> None:
    p = sub.add_parser("worker", help="run background jobs (backtests, suite runs, risk recomputes, imports, exports, webhook events, "
                                         "scheduled activations); start as many as needed")
    p.add_argument("--concurrency", type=int, default=1, help="jobs run at the same time by this worker")
    p.add_argument("--name", help="a name for the worker's log lines")
    p.add_argument("--verbose", action="store_true", help="log every job")
    p.set_defaults(handler=_worker)
