"""``python -m dokani users add | passwd | list``: open a database to its people from the command line.

An adopted database has businesses but no members; ``users add`` makes the first owner. These run on the
owner connection, like ``migrate``: they are the operator's tools, not a signed-in person's. An email that
already has an ``auth.users`` account (a Supabase project's users) keeps its password as it is.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from uuid import UUID

from sqlalchemy import text

ROLES = ("owner", "admin", "reviewer", "tester", "viewer")


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if first != getpass.getpass("Repeat it: "):
            raise ValueError("the two passwords differ")
        return first
    return None


def _fail(message: str) -> int:
    from dokani.cli import fail

    return fail(f"error: {message}")


def _business_id(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


def _engine():
    from db.engine import owner_engine, owner_url
    from db.migrate import upgrade

    upgrade(owner_url())
    return owner_engine()


def _add(args: argparse.Namespace) -> int:
    from dokani.accounts.password_links import create_link
    from dokani.accounts.passwords import hash_password
    from dokani.accounts.sign_in import normalise_email
    from dokani.errors import Invalid

    business = _business_id(args.business)
    if business is None:
        return _fail(f"--business takes a business id (a UUID), not {args.business!r}")
    email = normalise_email(args.email)
    if "@" not in email or "\x00" in email or len(email) > 320:
        return _fail(f"{args.email!r} is not an email address")
    try:
        password = _read_password(args)
        encrypted = hash_password(password) if password else None
    except (Invalid, ValueError) as err:
        return _fail(str(err))
    with _engine().begin() as conn:
        name = conn.execute(text("SELECT business_name FROM profiles WHERE business_id = :b"), {"b": business}).scalar()
        if name is None:
            return _fail(f"no business with id {business}")
        user_id = conn.execute(text("SELECT id FROM auth.users WHERE lower(email) = :e ORDER BY created_at LIMIT 1"),
                               {"e": email}).scalar()
        existed = user_id is not None
        if not existed:
            user_id = conn.execute(
                text("INSERT INTO auth.users (id, email, created_at, encrypted_password) "
                     "VALUES (gen_random_uuid(), :e, now(), :p) RETURNING id"), {"e": email, "p": encrypted},
            ).scalar()
        if conn.execute(text("SELECT 1 FROM business_members WHERE business_id = :b AND user_id = :u"),
                        {"b": business, "u": user_id}).first():
            return _fail(f"{email} is already a member of {name}; change a role with the Team page")
        conn.execute(
            text("INSERT INTO business_members (business_id, user_id, role, email, display_name) "
                 "VALUES (:b, :u, :r, :e, :d)"),
            {"b": business, "u": user_id, "r": args.role, "e": email, "d": args.name},
        )
        conn.execute(
            text("INSERT INTO audit_log (business_id, actor_email, action, entity, entity_id, after, note) "
                 "VALUES (:b, 'command line', 'member.added', 'business_member', :u, "
                 "jsonb_build_object('email', CAST(:e AS text), 'role', CAST(:r AS text)), 'python -m dokani users add')"),
            {"b": business, "u": str(user_id), "e": email, "r": args.role},
        )
    print(f"{email} is now {args.role} of {name}")
    if existed:
        print("the account already existed: its password is unchanged")
    elif encrypted is None:
        link = create_link(user_id, "invite")
        print(f"no password given: pass on this one-time link (valid 7 days) to set one: {args.base_url}{link}")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from dokani.accounts.passwords import hash_password
    from dokani.accounts.sign_in import normalise_email
    from dokani.errors import Invalid

    email = normalise_email(args.email)
    try:
        password = _read_password(args)
        if not password:
            return _fail("give the new password on standard input (--password-stdin) or at the prompt")
        encrypted = hash_password(password)
    except (Invalid, ValueError) as err:
        return _fail(str(err))
    with _engine().begin() as conn:
        user_id = conn.execute(text("UPDATE auth.users SET encrypted_password = :p WHERE lower(email) = :e RETURNING id"),
                               {"p": encrypted, "e": email}).scalar()
        if user_id is None:
            return _fail(f"no account with email {email}")
        conn.execute(text("UPDATE dokani.sign_in_sessions SET revoked_at = now() "
                          "WHERE user_id = :u AND revoked_at IS NULL"), {"u": user_id})
    print(f"password of {email} changed; their open sessions are signed out")
    return 0


def _list(args: argparse.Namespace) -> int:
    if args.business and _business_id(args.business) is None:
        return _fail(f"--business takes a business id (a UUID), not {args.business!r}")
    with _engine().connect() as conn:
        rows = conn.execute(
            text("SELECT p.business_name, m.role, coalesce(m.email, u.email), m.display_name, "
                 "u.encrypted_password IS NOT NULL "
                 "FROM business_members m JOIN profiles p ON p.business_id = m.business_id "
                 "LEFT JOIN auth.users u ON u.id = m.user_id "
                 "WHERE CAST(:b AS uuid) IS NULL OR m.business_id = CAST(:b AS uuid) "
                 "ORDER BY p.business_name, array_position(CAST(:roles AS text[]), m.role), 3"),
            {"b": args.business, "roles": list(ROLES)},
        ).all()
    if not rows:
        print("no members yet: add the first owner with `python -m dokani users add --business ID --email E --role owner`")
    for business, role, email, name, has_password in rows:
        print(f"{business}\t{role}\t{email}\t{name or ''}\t{'password set' if has_password else 'no password yet'}")
    return 0


def register_users(sub) -> None:
    p = sub.add_parser("users", help="add members, change a password, list who can sign in")
    users = p.add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", help="make a person a member of a business (creates the account if needed)")
    add.add_argument("--business", required=True, help="business id (UUID)")
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", help="display name")
    add.add_argument("--password-stdin", action="store_true", help="read the new account's password from stdin")
    add.add_argument("--base-url", default="http://localhost:8501", help="the console's address, for the link")
    add.set_defaults(handler=_add)
    pw = users.add_parser("passwd", help="set a person's password (signs their sessions out)")
    pw.add_argument("--email", required=True)
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    pw.set_defaults(handler=_passwd)
    ls = users.add_parser("list", help="who belongs to which business, with which role")
    ls.add_argument("--business", help="only this business (UUID)")
    ls.set_defaults(handler=_list)
