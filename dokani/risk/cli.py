"""``python -m dokani risk --business ID``: rescore every customer of a business, with a progress bar.

An operator's command: the business's owner (else an admin, else a reviewer) is found with the owner connection,
and the recompute itself runs as that member through row-level security, with its audit row.
"""
from __future__ import annotations

import argparse
import sys
from uuid import UUID


def _risk(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from db.engine import owner_url
    from db.migrate import upgrade
    from db.uow import Actor, unit_of_work
    from dokani.cli import acting_members, fail
    from dokani.errors import DokaniError
    from dokani.risk.scoring import CAN_RECOMPUTE, recompute_business

    try:
        business = UUID(args.business)
    except ValueError:
        return fail(f"--business takes a business id (a UUID), not {args.business!r}")
    if args.chunk < 1:
        return fail("--chunk must be at least 1")
    upgrade(owner_url())
    targets = acting_members(business, CAN_RECOMPUTE)
    if not targets:
        return fail(f"no business with id {business}")
    business_id, name, user_id, email, role = targets[0]
    if user_id is None:
        return fail(f"{name}: no owner, admin or reviewer to act for it")
    actor = Actor(user_id=user_id, business_id=business_id, role=role, email=email)
    bar = tqdm(total=0, desc=f"risk {name[:24]}", unit="customer", disable=args.quiet)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        with unit_of_work(actor) as uow:
            summary = recompute_business(uow, progress=progress, chunk=args.chunk)
    except DokaniError as err:
        bar.close()
        print(f"{name}: {err}", file=sys.stderr)
        return 2
    bar.close()
    print(f"{name}: {summary.describe()}")
    return 0


def register_risk(sub) -> None:
    p = sub.add_parser("risk", help="recompute the risk score of every customer of a business (set-based, in SQL)")
    p.add_argument("--business", required=True, metavar="ID", help="business id (UUID)")
    p.add_argument("--chunk", type=int, default=25_000, help="customers scored per statement (progress steps)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_risk)
