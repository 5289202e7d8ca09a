"""Sub-commands of ``python -m dokani``; each ``register_*`` adds one to the parser."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime

from db.engine import owner_url
from db.url import redact
from dokani.labels import count as say_count


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
    if not args.quiet:
        for line in summary.scored:  # the seed scores every customer with the console's own scorer
            print(line)
    return 0


def register_seed(sub) -> None:
    p = sub.add_parser("seed", help="load deterministic demo data (COPY; sized by flags)")
    p.add_argument("--seed", type=int, default=7, help="random seed: the same seed gives the same data")
    p.add_argument("--businesses", type=int, default=2)
    p.add_argument("--returns", type=int, default=2400, help="return requests in all (spread over businesses)")
    p.add_argument("--customers", type=int, default=0, help="distinct customers (default: returns / 3)")
    p.add_argument("--calls", type=int, default=0, help="AI voice/video calls (default: returns / 8)")
    p.add_argument("--reset", action="store_true", help="delete existing demo data first")
    p.add_argument("--if-empty", action="store_true", help="seed only when the database has no business yet")
    p.add_argument("--anchor", help="date the data is dated back from (default: start of today, UTC)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_seed)


def acting_members(business, roles: tuple[str, ...]) -> list[tuple]:
    """(business_id, business_name, user_id, email, role) per business: the first member in `roles` order.

    The CLI acts *as* that member through row-level security, never as the owner connection.
    """
    from sqlalchemy import text

    from db.engine import owner_engine

    with owner_engine().connect() as conn:
        return conn.execute(
            text(
                """
                SELECT p.business_id, p.business_name, m.user_id, m.email, m.role
                FROM profiles p
                LEFT JOIN LATERAL (
                  SELECT user_id, email, role FROM business_members bm
                  WHERE bm.business_id = p.business_id AND bm.role = ANY(:roles)
                  ORDER BY array_position(CAST(:roles AS text[]), bm.role), bm.created_at LIMIT 1
                ) m ON true
                WHERE CAST(:b AS uuid) IS NULL OR p.business_id = CAST(:b AS uuid)
                ORDER BY p.business_name
                """
            ),
            {"b": str(business) if business else None, "roles": list(roles)},
        ).all()


def _import_returns(args: argparse.Namespace) -> int:
    from pathlib import Path
    from uuid import UUID

    from tqdm import tqdm

    from db.migrate import upgrade
    from db.uow import Actor, unit_of_work
    from dokani.returns import csv_import as importers
    from dokani.errors import DokaniError

    try:
        business = UUID(args.business)
    except ValueError:
        return fail(f"--business takes a business id (a UUID), not {args.business!r}")
    path = Path(args.file)
    if not path.is_file():
        return fail(f"no such file: {path}")
    if path.stat().st_size > importers.MAX_BYTES:
        return fail(f"{path.name} is larger than {importers.MAX_BYTES // 2**20} MiB; split it")
    preview = importers.preview_returns_csv(path.read_bytes())
    if preview.problems:
        print(f"{path.name} cannot be imported; nothing was written:", file=sys.stderr)
        for problem in preview.problems:
            print(f"  {path.name}: {problem}", file=sys.stderr)
        return 2
    upgrade(owner_url())
    targets = acting_members(business, importers.CAN_IMPORT)
    if not targets or targets[0][2] is None:
        return fail(f"no business {business} with an owner or admin to act for it")
    business_id, name, user_id, email, role = targets[0]
    actor = Actor(user_id=user_id, business_id=business_id, role=role, email=email)
    bar = tqdm(total=len(preview.rows), desc=f"import into {name[:24]}", unit="return", disable=args.quiet)
    try:
        with unit_of_work(actor) as uow:
            count = importers.import_returns(uow, preview, file_name=path.name,
                                             progress=lambda done, total: bar.update(done - bar.n))
            uow.commit()
    except DokaniError as err:
        bar.close()
        print(f"{path.name}: {err}", file=sys.stderr)
        for problem in getattr(err, "problems", {}).values():
            print(f"  {problem}", file=sys.stderr)
        return 2
    bar.close()
    print(f"imported {say_count(count, 'return')} into {name}; they wait for triage")
    return 0


def register_import_returns(sub) -> None:
    p = sub.add_parser("import-returns", help="import returns from a CSV file (all lines checked first)")
    p.add_argument("file", help="CSV with order_id, customer_email, reason_for_return (+ optional columns)")
    p.add_argument("--business", required=True, help="business id (UUID)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_import_returns)


def _triage(args: argparse.Namespace) -> int:
    from uuid import UUID

    from tqdm import tqdm

    from db.migrate import upgrade
    from db.uow import Actor, unit_of_work
    from dokani.errors import DokaniError
    from dokani.triage.service import triage_pending

    business = None
    if args.business:
        try:
            business = UUID(args.business)
        except ValueError:
            return fail(f"--business takes a business id (a UUID), not {args.business!r}")
    upgrade(owner_url())
    # Which businesses, and who acts for each: its owner (else an admin, else a reviewer). The triage itself
    # runs as that member through row-level security, and its audit rows say so.
    targets = acting_members(business, ("owner", "admin", "reviewer"))
    if not targets:
        return fail(f"no business with id {business}" if business else "the database has no businesses")
    status = 0
    for business_id, name, user_id, email, role in targets:
        if user_id is None:
            print(f"{name}: skipped, no owner, admin or reviewer to act for it", file=sys.stderr)
            status = 1
            continue
        actor = Actor(user_id=user_id, business_id=business_id, role=role, email=email)
        bar = tqdm(total=0, desc=name[:30], unit="return", disable=args.quiet)

        def progress(done: int, total: int, bar=bar) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            with unit_of_work(actor) as uow:
                summary = triage_pending(uow, policy_version=args.policy_version, progress=progress, source="cli",
                                         batch_size=args.batch_size)
        except DokaniError as err:
            bar.close()
            print(f"{name}: {err}", file=sys.stderr)
            status = 1
            continue
        bar.close()
        print(f"{name}: {summary.describe()}")
    return status


def register_triage(sub) -> None:
    p = sub.add_parser("triage", help="triage every return waiting in pending_triage (all businesses, or one)")
    p.add_argument("--business", help="business id (UUID); default: every business")
    p.add_argument("--policy-version", help="evaluate under this policy version instead of the active one")
    p.add_argument("--batch-size", type=int, default=200, help="returns written per transaction")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_triage)


def _policy_actors(business: str | None):
    """One owner/admin identity per business (read with the owner connection: this is an operator's command);
    the work itself runs through the app role under row-level security as that person."""
    from sqlalchemy import text

    from db.engine import owner_engine
    from db.uow import Actor

    sql = ("SELECT DISTINCT ON (m.business_id) m.business_id, m.user_id, m.role, m.email, p.business_name "
           "FROM business_members m JOIN profiles p ON p.business_id = m.business_id "
           "WHERE m.role IN ('owner', 'admin') AND (CAST(:b AS text) IS NULL OR p.business_name ILIKE :b "
           "OR CAST(m.business_id AS text) = :b) ORDER BY m.business_id, m.role DESC")
    with owner_engine().connect() as conn:
        rows = conn.execute(text(sql), {"b": business}).all()
    return [(r.business_name, Actor(user_id=r.user_id, business_id=r.business_id, role=r.role, email=r.email))
            for r in rows]


def _policies_apply_due(args: argparse.Namespace) -> int:
    from db.uow import unit_of_work
    from dokani.policies import lifecycle

    for name, actor in _policy_actors(args.business):
        with unit_of_work(actor) as uow:
            applied = lifecycle.apply_due_schedules(uow)
        for v in applied:
            print(f"{name}: {v.version} took effect (scheduled for {v.effective_date:%Y-%m-%d %H:%M})")
    return 0


def _policies_backtest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from db.uow import unit_of_work
    from dokani.policies import backtest, versions

    actors = _policy_actors(args.business)
    if len(actors) != 1:
        return fail("--business must name exactly one business (its name or id)")
    name, actor = actors[0]
    with unit_of_work(actor) as uow:
        wanted = next((v for v in versions.list_versions(uow) if v.version == args.version), None)
    if wanted is None:
        return fail(f"{name} has no policy version {args.version!r}")
    bar = tqdm(total=0, unit="returns", desc=f"backtest {args.version}")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    with unit_of_work(actor) as uow:
        result = backtest.backtest_policy(uow, wanted.id, progress=progress)
    bar.close()
    print(f"{result.returns_evaluated} returns replayed; {result.outcomes_changed} outcomes change vs "
          f"{result.baseline_version} ({', '.join(f'{k}: {v}' for k, v in result.transitions.items()) or 'none'}); "
          f"refund value change {result.refund_value_change:+.2f}")
    return 0


def register_policies(sub) -> None:
    p = sub.add_parser("policies", help="policy versions: apply due schedules (for a cron), backtest a version")
    actions = p.add_subparsers(dest="policies_action", required=True)
    due = actions.add_parser("apply-due", help="activate every scheduled version whose time has come")
    due.add_argument("--business", help="a business name or id (default: every business)")
    due.set_defaults(handler=_policies_apply_due)
    bt = actions.add_parser("backtest", help="replay a version over all past returns of a business")
    bt.add_argument("--business", required=True, help="a business name or id")
    bt.add_argument("--version", required=True, help="the version name")
    bt.set_defaults(handler=_policies_backtest)


def _test_persona(args: argparse.Namespace) -> int:
    from dokani.lab.cli import run_test_persona

    return run_test_persona(args)


def register_test_persona(sub) -> None:
    p = sub.add_parser(
        "test-persona",
        help="run a scenario suite against a persona and a policy version (exit 1 when a scenario fails)",
        description="Run a scenario suite (docs/scenario_suites.md) in the chat test lab; each scenario is logged "
        "in persona_test_logs. Exit status: 0 all passed, 1 a scenario failed, 2 bad input.",
    )
    p.add_argument("suite_file", metavar="SUITE_FILE", help="YAML or JSON suite file")
    p.add_argument("--business", required=True, metavar="ID", help="business id (uuid) or exact business name")
    p.add_argument("--persona", required=True, metavar="NAME_OR_ID", help="persona config name or id")
    p.add_argument("--policy", metavar="VERSION", help="policy version (default: the suite's, else the active one)")
    p.add_argument("--as", dest="as_email", metavar="EMAIL",
                   help="act as this member of the business (default: the business owner)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_test_persona)


def _serve(args: argparse.Namespace) -> int:
    from db.migrate import upgrade
    from dokani.jobs.worker import spawn_workers, stop_workers
    from dokani.server import serve

    url = owner_url()
    upgrade(url)
    workers = spawn_workers(args.workers, url)  # background jobs run beside the console; they stop with it
    try:
        serve(port=args.port, host=args.host)
    finally:
        stop_workers(workers)
    return 0


def register_serve(sub) -> None:
    p = sub.add_parser("serve", help="serve the console with its sign-in routes (uvicorn)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--workers", type=int, default=1,
                   help="background-job workers started beside the console (0: run them elsewhere)")
    p.set_defaults(handler=_serve)


def _register_risk(sub) -> None:
    from dokani.risk.cli import register_risk

    register_risk(sub)


def _register_users(sub) -> None:
    from dokani.accounts.cli import register_users

    register_users(sub)


def _register_worker(sub) -> None:
    from dokani.jobs.cli import register_worker

    register_worker(sub)


def _register_calls(sub) -> None:
    from dokani.calls.cli import register_calls

    register_calls(sub)


def _register_snapshot(sub) -> None:
    from dokani.analytics.cli import register_snapshot

    register_snapshot(sub)


COMMANDS = [register_migrate, register_seed, register_triage, register_test_persona, register_policies,
            register_import_returns, register_serve, _register_users, _register_calls, _register_worker,
            _register_snapshot, _register_risk]


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2
