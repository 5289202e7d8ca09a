"""``python -m dokani snapshot [--business ID] [--period week|month] [--of YYYY-MM-DD]``.

Writes the period's KPIs to ``business_analytics`` and each triage agent's decision quality to
``agent_performance_logs`` (``dokani.analytics.snapshots``), for one business or every one. Each business is
snapshotted *as* its owner (else an admin) through row-level security, never on the owner connection. The
default period is the last complete one; running it again for a period replaces that snapshot.
``snapshot_businesses`` is the same run as a function, for a scheduled job.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from uuid import UUID


def snapshot_businesses(kind: str, period=None, business: UUID | None = None) -> list[tuple[str, object]]:
    """Take the snapshot for one business or every one (for the CLI and the scheduled job).

    Returns (business name, ``SnapshotOutcome`` or the reason it was not taken) per business.
    """
    from db.uow import Actor, unit_of_work
    from dokani.analytics.snapshots import EDITORS, take_snapshot
    from dokani.cli import acting_members
    from dokani.errors import DokaniError

    results: list[tuple[str, object]] = []
    for business_id, name, user_id, email, role in acting_members(business, EDITORS):
        if user_id is None:
            results.append((name, "skipped, no owner or admin to act for it"))
            continue
        actor = Actor(user_id=user_id, business_id=business_id, role=role, email=email)
        try:
            with unit_of_work(actor) as uow:
                results.append((name, take_snapshot(uow, kind, period)))
        except DokaniError as err:
            results.append((name, str(err)))
    return results


def _snapshot(args: argparse.Namespace) -> int:
    from db.engine import owner_url
    from db.migrate import upgrade
    from dokani.analytics.snapshots import SnapshotOutcome, last_complete, period_of
    from dokani.cli import fail

    business = None
    if args.business:
        try:
            business = UUID(args.business)
        except ValueError:
            return fail(f"--business takes a business id (a UUID), not {args.business!r}")
    if args.of:
        try:
            period = period_of(args.period, date.fromisoformat(args.of))
        except ValueError:
            return fail(f"--of {args.of!r} is not a date (YYYY-MM-DD)")
    else:
        period = last_complete(args.period)
    upgrade(owner_url())
    results = snapshot_businesses(args.period, period, business)
    if not results:
        return fail(f"no business with id {business}" if business else "the database has no businesses")
    status = 0
    for name, outcome in results:
        if isinstance(outcome, SnapshotOutcome):
            print(f"{name}: {outcome.describe()}")
        else:
            print(f"{name}: {outcome}", file=sys.stderr)
            status = 1
    return status


def register_snapshot(sub) -> None:
    p = sub.add_parser("snapshot", help="keep a week's or month's KPIs and agent quality (replaces a re-run)")
    p.add_argument("--business", help="business id (UUID); default: every business")
    p.add_argument("--period", choices=["week", "month"], default="week")
    p.add_argument("--of", help="a day in the period to snapshot (YYYY-MM-DD); default: the last complete period")
    p.set_defaults(handler=_snapshot)
