"""Sub-commands of ``python -m dokani``; each ``register_*`` adds one to the parser."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime

from db.engine import owner_url
from db.url import redact


def _migrate(args: argparse.Namespace) -> int:
    from db.migrate import upgrade

    url = owner_url()
    revision = upgrade(url)
    print(f"database {redact(url)} is at revision {revision}")
    return 0


def register_migrate(sub) -> None:
    p = sub.add_parser("migrate", help="apply migrations (idempotent; adopts an existing Dokani database)")
    p.set_defaults(handler=_migrate)


def _seed(args: argparse.Namespace) -> int:
    from db.migrate import upgrade
    from db.seed import SeedError, SeedSize, database_is_empty, seed_database

    if args.reset and args.if_empty:
        return fail("--reset and --if-empty contradict each other: pick one")
    url = owner_url()
    upgrade(url)
    if args.if_empty and not database_is_empty(url):
        print(f"database {redact(url)} already has businesses: seeding skipped (use --reset to replace them)")
        return 0
    anchor = None
    if args.anchor:
        try:
            anchor = datetime.fromisoformat(args.anchor)
        except ValueError:
            return fail(f"--anchor {args.anchor!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)")
    size = SeedSize(businesses=args.businesses, returns=args.returns, customers=args.customers, calls=args.calls)
    try:
        summary = seed_database(url, seed=args.seed, size=size, progress=not args.quiet, reset=args.reset,
                                anchor=anchor, if_empty=args.if_empty)
    except SeedError as exc:
        return fail(str(exc))
    print(summary.describe())
    return 0


def register_seed(sub) -> None:
    p = sub.add_parser("seed", help="load deterministic demo data (COPY; sized by flags)")
    p.add_argument("--seed", type=int, default=7, help="random seed: the same seed gives the same data")
    p.add_argument("--businesses", type=int, default=2)
    p.add_argument("--returns", type=int, default=240, help="return requests in all (spread over businesses)")
    p.add_argument("--customers", type=int, default=0, help="distinct customers (default: returns / 3)")
    p.add_argument("--calls", type=int, default=0, help="AI voice/video calls (default: returns / 8)")
    p.add_argument("--reset", action="store_true", help="delete existing demo data first")
    p.add_argument("--if-empty", action="store_true", help="seed only when the database has no business yet")
    p.add_argument("--anchor", help="date the data is dated back from (default: start of today, UTC)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_seed)


COMMANDS = [register_migrate, register_seed]


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2
