"""``python -m dokani test-persona``: run a scenario suite from the command line.

The acting user is looked up once (business owner by default, or ``--as EMAIL``); everything after that runs
through the ordinary unit of work as that member, under row-level security, exactly like the page.
"""
from __future__ import annotations

import argparse
import sys
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from db.uow import Actor, unit_of_work
from dokani.errors import DokaniError


def _actor(business: str, as_email: str | None) -> Actor:
    """Resolve the business (id or name) and who acts for it; read with the operator's (owner) connection."""
    from db.engine import owner_engine

    with owner_engine().connect() as conn:
        try:
            UUID(business)
            rows = conn.execute(text("SELECT business_id, id, business_name FROM public.profiles WHERE business_id = :b"),
                                {"b": business}).all()
        except ValueError:
            rows = conn.execute(text("SELECT business_id, id, business_name FROM public.profiles "
                                     "WHERE lower(business_name) = lower(:b)"), {"b": business}).all()
        if not rows:
            raise LookupError(f"no business {business!r}")
        if len(rows) > 1:
            raise LookupError(f"several businesses are named {business!r}; pass the business id")
        business_id, owner_id, _ = rows[0]
        query = ("SELECT m.user_id, m.role, coalesce(m.email, u.email) FROM public.business_members m "
                 "LEFT JOIN auth.users u ON u.id = m.user_id WHERE m.business_id = :b AND ")
        if as_email:
            member = conn.execute(text(query + "lower(coalesce(m.email, u.email)) = lower(:e)"),
                                  {"b": business_id, "e": as_email}).first()
        else:
            member = conn.execute(text(query + "m.user_id = :u"), {"b": business_id, "u": owner_id}).first()
        if member is None:
            raise LookupError(f"{as_email or 'the owner'} is not a member of {business!r}")
    return Actor(user_id=member[0], business_id=business_id, role=member[1], email=member[2])


def run_test_persona(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from dokani.lab import suite_files
    from dokani.lab import suites as scenarios

    try:
        suite = suite_files.load_suite_file(args.suite_file)
    except suite_files.SuiteFileError as err:
        for line in err.lines:
            print(line, file=sys.stderr)
        return 2
    except DokaniError as err:
        print(str(err), file=sys.stderr)
        return 2
    try:
        actor = _actor(args.business, args.as_email)
    except LookupError as err:
        print(f"test-persona: {err}", file=sys.stderr)
        return 2

    bar = tqdm(total=len(suite.scenarios), unit="scenario", disable=args.quiet, file=sys.stderr)

    def progress(done: int, total: int, name: str) -> None:
        bar.n = done
        bar.set_description(name[:40])
        bar.refresh()

    try:
        with unit_of_work(actor) as uow:
            summary = scenarios.run_suite(uow, suite, args.persona, args.policy, progress=progress)
    except DokaniError as err:
        bar.close()
        print(f"test-persona: {err}", file=sys.stderr)
        return 2
    except SQLAlchemyError as err:  # the run is one transaction: nothing of it was kept
        bar.close()
        print(f"test-persona: the database refused the run ({type(getattr(err, 'orig', err)).__name__}); "
              "nothing of it was saved", file=sys.stderr)
        return 2
    bar.close()
    print(f"Suite {summary.suite!r} · persona {summary.persona_name} · policy {summary.policy_version} · run {summary.run_id}")
    for r in summary.results:
        print(f"  {'PASS' if r.passed else 'FAIL'}  {r.name}")
        if not r.passed:
            for failure in ([r.error] if r.error else r.failures):
                print(f"        {failure}")
    print(f"{summary.passed} of {summary.scenarios} scenarios passed")
    return 0 if summary.passed_all else 1
