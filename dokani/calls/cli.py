"""``python -m dokani import-calls`` and ``python -m dokani webhook-secret``.

Both act as the business's owner (else an admin) through row-level security, like ``import-returns``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from uuid import UUID


def _actor(raw: str):
    from db.migrate import upgrade
    from db.engine import owner_url
    from db.uow import Actor
    from dokani.cli import acting_members

    try:
        business = UUID(raw)
    except ValueError:
        return None, f"--business takes a business id (a UUID), not {raw!r}"
    upgrade(owner_url())
    targets = acting_members(business, ("owner", "admin"))
    if not targets or targets[0][2] is None:
        return None, f"no business {business} with an owner or admin to act for it"
    business_id, name, user_id, email, role = targets[0]
    return (Actor(user_id=user_id, business_id=business_id, role=role, email=email), name), None


def _import_calls(args: argparse.Namespace) -> int:
    from db.uow import unit_of_work
    from dokani.calls.importer import read_events
    from dokani.calls.service import import_call_files
    from dokani.cli import fail
    from dokani.errors import DokaniError, Invalid

    files = []
    for raw in args.files:
        path = Path(raw)
        if not path.is_file():
            return fail(f"{raw}: no such file (nothing was imported)")
        files.append((path.name if len(set(Path(f).name for f in args.files)) == len(args.files) else raw,
                      path.read_bytes()))
    try:
        read_events(files)  # every file checked before the database is touched
    except Invalid as err:
        print(f"cannot import: {err}", file=sys.stderr)
        for name, problem in list(err.problems.items())[1:]:
            print(f"  {name}: {problem}", file=sys.stderr)
        return 2
    who, problem = _actor(args.business)
    if problem:
        return fail(problem)
    actor, name = who
    from tqdm import tqdm

    bar = tqdm(total=0, desc=f"import into {name[:24]}", unit="event", disable=args.quiet)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        with unit_of_work(actor) as uow:
            summary = import_call_files(uow, files, source="file", progress=progress)
            uow.commit()
    except DokaniError as err:
        bar.close()
        print(f"cannot import: {err}", file=sys.stderr)
        for key, detail in list(getattr(err, "problems", {}).items())[1:]:
            print(f"  {key}: {detail}", file=sys.stderr)
        return 2
    bar.close()
    print(f"{name}: {summary.describe()}")
    return 0


def _webhook_secret(args: argparse.Namespace) -> int:
    from db.uow import unit_of_work
    from dokani.calls.webhook_secrets import set_secret
    from dokani.cli import fail
    from dokani.errors import DokaniError

    who, problem = _actor(args.business)
    if problem:
        return fail(problem)
    actor, name = who
    try:
        with unit_of_work(actor) as uow:
            result = set_secret(uow, args.provider, args.secret)
            uow.commit()
    except DokaniError as err:
        return fail(f"error: {err}")
    if args.secret:
        print(f"{name}: {args.provider} webhook secret set")
        if args.provider == "tavus":
            print(result.describe(args.base_url))
    else:
        print(result.describe(args.base_url))
    return 0


def register_calls(sub) -> None:
    p = sub.add_parser("import-calls", help="import ElevenLabs / Tavus event files (all checked before any write)")
    p.add_argument("files", nargs="+", metavar="FILE", help="JSON file: one event, or an array of events")
    p.add_argument("--business", required=True, metavar="ID", help="business id (UUID)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_import_calls)
    s = sub.add_parser("webhook-secret", help="set or rotate a business's ElevenLabs secret / Tavus URL token")
    s.add_argument("--business", required=True, metavar="ID", help="business id (UUID)")
    s.add_argument("--provider", required=True, choices=("elevenlabs", "tavus"))
    s.add_argument("--secret", help="the secret to use (default: a new random one, printed)")
    s.add_argument("--base-url", default="", help="the console's public URL, to print the full webhook URL")
    s.set_defaults(handler=_webhook_secret)
