"""Sign-in against real Postgres: passwords, sessions that expire and revoke, the lockout, set-password links."""
from __future__ import annotations

import subprocess
import sys

import bcrypt
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.demo import DEMO_PASSWORD, business, user
from db.uow import unit_of_work
from dokani.accounts import password_links, sessions
from dokani.accounts.sign_in import MAX_FAILURES, WRONG, SignInRefused, sign_in
from dokani.errors import Invalid
from tests.conftest import ROOT, actor_for

REVIEWER = user("atlas", "reviewer")


def test_the_right_password_opens_a_session_of_that_person(fresh_db):
    signed = sign_in(REVIEWER.email.upper(), DEMO_PASSWORD)  # emails match whatever their case
    assert signed.user_id == REVIEWER.user_id
    assert sessions.verify_session(signed.token).user_id == REVIEWER.user_id
    with psycopg.connect(fresh_db) as c:  # only the token's hash is stored
        stored = c.execute("SELECT token_hash FROM dokani.sign_in_sessions").fetchall()
    assert stored == [(sessions.token_hash(signed.token),)]
    assert signed.token.encode() not in stored[0][0]


@pytest.mark.parametrize("email,password", [(REVIEWER.email, "not-the-password"), ("nobody@atlas.example", DEMO_PASSWORD)])
def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(fresh_db, email, password):
    with pytest.raises(SignInRefused) as refused:
        sign_in(email, password)
    assert str(refused.value) == WRONG


def test_a_member_of_no_business_cannot_sign_in(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("DELETE FROM business_members WHERE user_id = %s", (REVIEWER.user_id,))
    with pytest.raises(SignInRefused):
        sign_in(REVIEWER.email, DEMO_PASSWORD)


def test_the_sixth_attempt_after_five_failures_is_locked_and_recorded(fresh_db):
    for _ in range(MAX_FAILURES):
        with pytest.raises(SignInRefused, match="do not match"):
            sign_in(REVIEWER.email, "wrong-password")
    with pytest.raises(SignInRefused, match="locked until"):
        sign_in(REVIEWER.email, DEMO_PASSWORD)  # even the right password, for fifteen minutes
    with psycopg.connect(fresh_db) as c:
        events = c.execute("SELECT business_id, severity, event_data->>'email' FROM security_events "
                           "WHERE event_type = 'sign_in_locked'").fetchall()
        assert events == [(business("atlas").business_id, "high", REVIEWER.email)]
        c.execute("UPDATE dokani.sign_in_failures SET failed_at = failed_at - interval '16 minutes'")
        c.commit()
    assert sign_in(REVIEWER.email, DEMO_PASSWORD).user_id == REVIEWER.user_id  # the window has passed


def test_sessions_end_when_revoked_idle_or_expired(fresh_db):
    revoked, idle, old = (sign_in(REVIEWER.email, DEMO_PASSWORD).token for _ in range(3))
    assert sessions.revoke_session(revoked)
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("UPDATE dokani.sign_in_sessions SET last_seen_at = now() - interval '13 hours' WHERE token_hash = %s",
                  (sessions.token_hash(idle),))
        c.execute("UPDATE dokani.sign_in_sessions SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
                  (sessions.token_hash(old),))
    assert [sessions.verify_session(t) for t in (revoked, idle, old)] == [None, None, None]
    assert sessions.verify_session("made-up-token") is None
    assert sessions.verify_session(None) is None


def test_a_supabase_gotrue_hash_signs_in_with_its_password(fresh_db):
    gotrue = bcrypt.hashpw(b"supabase-password", bcrypt.gensalt(10, prefix=b"2a")).decode()
    assert gotrue.startswith("$2a$10$")
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("UPDATE auth.users SET encrypted_password = %s WHERE id = %s", (gotrue, REVIEWER.user_id))
    assert sign_in(REVIEWER.email, "supabase-password").user_id == REVIEWER.user_id


def test_signed_in_people_never_read_password_hashes(fresh_db):
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        assert uow.session.execute(text("SELECT count(email) FROM auth.users")).scalar() > 0  # colleagues: yes
    with pytest.raises(DBAPIError, match="permission denied"):
        with unit_of_work(actor_for("atlas", "owner")) as uow:
            uow.session.execute(text("SELECT encrypted_password FROM auth.users"))


def test_an_invitation_link_sets_a_password_once_and_ends_other_sessions(fresh_db):
    other = sign_in(REVIEWER.email, DEMO_PASSWORD).token
    link = password_links.create_link(REVIEWER.user_id, "reset")
    token = link.split("token=", 1)[1]
    assert password_links.link_email(token) == REVIEWER.email
    with pytest.raises(Invalid, match="at least"):
        password_links.use_link(token, "short", "short")
    with pytest.raises(Invalid, match="differ"):
        password_links.use_link(token, "a-long-new-password", "a-long-new-passwort")
    assert password_links.use_link(token, "a-long-new-password", "a-long-new-password") == REVIEWER.email
    assert sessions.verify_session(other) is None
    with pytest.raises(Invalid, match="expired or was already used"):
        password_links.use_link(token, "another-long-password", "another-long-password")
    with pytest.raises(SignInRefused):
        sign_in(REVIEWER.email, DEMO_PASSWORD)
    assert sign_in(REVIEWER.email, "a-long-new-password").user_id == REVIEWER.user_id


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dokani", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_users_add_opens_an_adopted_database_and_keeps_existing_passwords(fresh_db):
    atlas = str(business("atlas").business_id)
    new = _cli("users", "add", "--business", atlas, "--email", "New.Owner@Atlas.example", "--role", "owner",
               "--password-stdin", stdin="brand-new-password\n")
    assert new.returncode == 0, new.stderr
    assert sign_in("new.owner@atlas.example", "brand-new-password").user_id
    # An account that exists already (a Supabase user) becomes a member of another business, password untouched.
    bloom = str(business("bloom").business_id)
    kept = _cli("users", "add", "--business", bloom, "--email", REVIEWER.email, "--role", "viewer")
    assert kept.returncode == 0, kept.stderr
    assert "password is unchanged" in kept.stdout
    assert sign_in(REVIEWER.email, DEMO_PASSWORD).user_id == REVIEWER.user_id
    twice = _cli("users", "add", "--business", bloom, "--email", REVIEWER.email, "--role", "viewer")
    assert twice.returncode == 2 and "already a member" in twice.stderr and "Traceback" not in twice.stderr
    short = _cli("users", "add", "--business", atlas, "--email", "x@atlas.example", "--role", "viewer",
                 "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least" in short.stderr
    bad = _cli("users", "add", "--business", "not-a-uuid", "--email", "x@atlas.example", "--role", "viewer")
    assert bad.returncode == 2 and "UUID" in bad.stderr
    listing = _cli("users", "list", "--business", bloom)
    assert f"Bloom & Gather Home\tviewer\t{REVIEWER.email}" in listing.stdout
    with psycopg.connect(fresh_db) as c:
        audit = c.execute("SELECT action, actor_email FROM audit_log WHERE entity = 'business_member'").fetchall()
    assert audit == [("member.added", "command line")] * 2


def test_users_add_without_a_password_prints_a_one_time_link(fresh_db):
    atlas = str(business("atlas").business_id)
    out = _cli("users", "add", "--business", atlas, "--email", "invitee@atlas.example", "--role", "tester")
    assert out.returncode == 0, out.stderr
    link = out.stdout.strip().rsplit(" ", 1)[-1]
    assert "/set-password?token=" in link
    token = link.split("token=", 1)[1]
    assert password_links.use_link(token, "invitee-password", "invitee-password") == "invitee@atlas.example"
    assert sign_in("invitee@atlas.example", "invitee-password")
