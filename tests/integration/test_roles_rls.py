"""Roles in Postgres (revision 0006): what each role may read and write, table by table and command by command.

Every cell runs hand-written SQL through the app's own login role, as the demo user of that role (a unit of work:
``SET LOCAL ROLE authenticated`` with the user's claims and the business), and is rolled back. An allowed cell
must affect the row; a refused cell must affect no row or be refused by Postgres (insufficient privilege /
row-level security violation, SQLSTATE 42501). The expected matrix is written out here by hand and must match
the table in README.md ("Roles in Postgres").
"""
from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.demo import business, user
from db.engine import owner_engine
from db.uow import Actor, unit_of_work
from tests.conftest import actor_for

ROOT = Path(__file__).resolve().parents[2]
ATLAS, BLOOM = business("atlas").business_id, business("bloom").business_id
ROLES = ["owner", "admin", "reviewer", "tester", "viewer"]
COMMANDS = ["SELECT", "INSERT", "UPDATE", "DELETE"]
VIEWER_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://dokani.example/test/atlas/viewer")
EXTRA_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://dokani.example/test/atlas/extra")  # a reviewer to edit / remove
NEWCOMER_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://dokani.example/test/newcomer")  # in no business yet
BOTH_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://dokani.example/test/both")  # admin of atlas and of bloom

E, D, L, W, ALL = "OA", "OAR", "OAT", "OART", "OARTV"  # owner admin reviewer tester viewer
# table -> who may INSERT, UPDATE, DELETE (every member of the business may SELECT). "" = nobody.
EXPECTED = {
    "profiles": ("", E, ""),
    "business_members": (E, E, E),
    "policies": (E, E, E),  # UPDATE: editing a version; the bookkeeping every role may do is tested below
    "policy_backtests": (W, "", E),
    "return_requests": (E, D, E),  # live returns
    "return_requests (is_test)": ("OAT", "OART", "OAT"),
    "customer_risk_profiles": (D, D, E),
    "security_events": (D, D, E),
    "chat_sessions": (L, L, L),
    "chat_messages": (L, L, L),
    "persona_test_logs": (L, L, L),
    "provider_configs": (L, L, E),
    "audit_log": (W, "", ""),
    "mock_orders": (E, E, E),
    "file_uploads": (E, E, E),
    "business_analytics": (E, E, E),
    "agent_performance_logs": (E, E, E),
    "conversation_sessions": (E, E, E),
    "conversation_messages": (E, E, E),
    "conversation_chunks": (E, E, E),
    "ai_conversation_state": (E, E, E),
    "call_sessions": (E, E, E),
    "call_transcripts": (E, E, E),
    "call_analytics": (E, E, E),
    "audio_chunks": (E, E, E),
    "video_frames": (E, E, E),
    "video_analysis": (E, E, E),
    "streaming_sessions": (E, E, E),
    "video_stream_analysis": (E, E, E),
}
LETTER = {"owner": "O", "admin": "A", "reviewer": "R", "tester": "T", "viewer": "V"}

# One INSERT per table, in atlas: used as the owner connection to make the row each cell reads, updates and
# deletes (a leaf: nothing refers to it), and as each role for the INSERT cell. Parents are made once (below).
INSERTS = {
    "profiles": "INSERT INTO profiles (id, business_name, business_id) VALUES (:newcomer, 'RLS shop', :b)",
    "business_members": "INSERT INTO business_members (business_id, user_id, role) VALUES (:b, :newcomer, 'reviewer')",
    "policies": "INSERT INTO policies (business_id, version, rules) VALUES (:b, 'rls-' || :tag, '{}')",
    "policy_backtests": "INSERT INTO policy_backtests (business_id, policy_id, policy_version, returns_evaluated, "
                        "outcomes_changed) VALUES (:b, :policy, 'rls-parent', 0, 0)",
    "return_requests": "INSERT INTO return_requests (business_id, order_id, customer_email) "
                       "VALUES (:b, 'RLS-' || :tag, 'rls@example.com')",
    "return_requests (is_test)": "INSERT INTO return_requests (business_id, order_id, customer_email, is_test, "
                                 "test_session_id) VALUES (:b, 'RLS-T-' || :tag, 'rls@example.com', true, :chat)",
    "customer_risk_profiles": "INSERT INTO customer_risk_profiles (customer_email, business_id) "
                              "VALUES ('rls-' || :tag || '@example.com', :b)",
    "security_events": "INSERT INTO security_events (event_type, business_id, return_request_id) "
                       "VALUES ('rls_' || :tag, :b, :return)",
    "chat_sessions": "INSERT INTO chat_sessions (business_id, user_id, session_name) VALUES (:b, :uid, 'rls')",
    "chat_messages": "INSERT INTO chat_messages (session_id, sender, message) VALUES (:chat, 'customer', 'hi')",
    "persona_test_logs": "INSERT INTO persona_test_logs (business_id, config_id, test_type, test_content) "
                         "VALUES (:b, :persona, 'rls', 'scenario')",
    "provider_configs": "INSERT INTO provider_configs (business_id, provider, config_name) "
                        "VALUES (:b, 'elevenlabs', 'RLS ' || :tag)",
    "audit_log": "INSERT INTO audit_log (business_id, actor_id, action, entity, entity_id) "
                 "VALUES (:b, :uid, 'rls.check', 'rls', :tag)",
    "mock_orders": "INSERT INTO mock_orders (order_id, purchase_date, customer_email, product_name, product_category, "
                   "business_id) VALUES ('RLS-' || :tag, localtimestamp, 'rls@example.com', 'Lamp', 'home', :b)",
    "file_uploads": "INSERT INTO file_uploads (business_id, file_type, file_name, file_path, file_url, file_size) "
                    "VALUES (:b, 'csv', 'r.csv', '/r.csv', 'https://files.example/r.csv', 1)",
    "business_analytics": "INSERT INTO business_analytics (business_id, metric_type) VALUES (:b, 'rls')",
    "agent_performance_logs": "INSERT INTO agent_performance_logs (agent_type, business_id, session_id) "
                              "VALUES ('rls', :b, :chat)",
    "conversation_sessions": "INSERT INTO conversation_sessions (business_id, customer_email, channel, return_request_id) "
                             "VALUES (:b, 'rls@example.com', 'chat', :return)",
    "conversation_messages": "INSERT INTO conversation_messages (session_id, message_type, timestamp) "
                             "VALUES (:conversation, 'text', localtimestamp)",
    "conversation_chunks": "INSERT INTO conversation_chunks (session_id, chunk_type, sequence_number, timestamp) "
                           "VALUES (:conversation, 'text', 1, localtimestamp)",
    "ai_conversation_state": "INSERT INTO ai_conversation_state (session_id, agent_type) VALUES (:conversation, 'triage')",
    "call_sessions": "INSERT INTO call_sessions (call_type, provider, persona_config_id, chat_session_id, "
                     "ai_conversation_state_id) VALUES ('voice', 'elevenlabs', :persona, :chat, :state)",
    "call_transcripts": "INSERT INTO call_transcripts (call_session_id, speaker, message) VALUES (:call, 'agent', 'hello')",
    "call_analytics": "INSERT INTO call_analytics (call_session_id, provider) VALUES (:call, 'elevenlabs')",
    "audio_chunks": "INSERT INTO audio_chunks (audio_data, session_id, sequence, timestamp) "
                    "VALUES ('AAAA', :call, 1, localtimestamp)",
    "video_frames": "INSERT INTO video_frames (session_id, frame_data, sequence, timestamp) "
                    "VALUES (:call, 'AAAA', 1, localtimestamp)",
    "video_analysis": "INSERT INTO video_analysis (session_id, analysis_data, timestamp) VALUES (:call, '{}', localtimestamp)",
    "streaming_sessions": "INSERT INTO streaming_sessions (call_session_id, session_type) VALUES (:call, 'voice')",
    "video_stream_analysis": "INSERT INTO video_stream_analysis (session_id, analysis_data, timestamp) "
                             "VALUES (:stream, '{}', localtimestamp)",
}


def _table(name: str) -> str:
    return name.split(" ")[0]


def _where(name: str) -> str:
    return {"profiles": "business_id = :b", "business_members": "business_id = :b AND user_id = :target"}.get(
        name, "id = :target")


def _update(name: str) -> str:
    if name == "policies":  # an edit of a draft (a no-op would count as bookkeeping)
        return "UPDATE policies SET effective_date = localtimestamp + interval '3 days' WHERE id = :target"
    column = "display_name" if name == "business_members" else "id"
    return f"UPDATE {_table(name)} SET {column} = {column} WHERE {_where(name)}"


def _sql(name: str, command: str) -> str:
    return {
        "SELECT": f"SELECT 1 FROM {_table(name)} WHERE {_where(name)}",
        "INSERT": INSERTS[name] + " RETURNING 1",
        "UPDATE": _update(name) + " RETURNING 1",
        "DELETE": f"DELETE FROM {_table(name)} WHERE {_where(name)} RETURNING 1",
    }[command]


def _owner_run(sql: str, params: dict):
    with owner_engine().begin() as conn:
        result = conn.execute(text(sql), params)
        return result.scalar() if result.returns_rows else None


@pytest.fixture(scope="module")
def world(seeded_db):
    """Atlas's rows of every table, their parents, a viewer, a spare member; one bloom chat, persona, return, call."""
    def returning_id(sql: str, params: dict):
        return _owner_run(sql + " RETURNING id", params)

    with owner_engine().begin() as conn:
        for uid, email in ((VIEWER_ID, "viewer@atlas.example"), (EXTRA_ID, "extra@atlas.example"),
                           (NEWCOMER_ID, "newcomer@example.com"), (BOTH_ID, "both@example.com")):
            conn.execute(text("INSERT INTO auth.users (id, email) VALUES (:u, :e)"), {"u": uid, "e": email})
        for b, uid, role in ((ATLAS, VIEWER_ID, "viewer"), (ATLAS, EXTRA_ID, "reviewer"), (ATLAS, BOTH_ID, "admin"),
                             (BLOOM, BOTH_ID, "admin")):
            conn.execute(text("INSERT INTO business_members (business_id, user_id, role, email) "
                              "VALUES (:b, :u, :r, :e)"), {"b": b, "u": uid, "r": role, "e": f"{role}-{uid}@example"})
    owner = user("atlas", "owner").user_id
    p: dict = {"b": ATLAS, "uid": owner, "newcomer": NEWCOMER_ID, "tag": "parent"}
    p["chat"] = returning_id(INSERTS["chat_sessions"], p)
    p["persona"] = returning_id(INSERTS["provider_configs"], p)
    p["return"] = returning_id(INSERTS["return_requests"], p)
    p["policy"] = returning_id(INSERTS["policies"], p)
    p["conversation"] = returning_id(INSERTS["conversation_sessions"], p)
    p["state"] = returning_id(INSERTS["ai_conversation_state"], p)
    p["call"] = returning_id(INSERTS["call_sessions"], p)
    p["stream"] = returning_id(INSERTS["streaming_sessions"], p)
    targets = {"profiles": None, "business_members": EXTRA_ID}
    for name, sql in INSERTS.items():
        if name not in targets:
            targets[name] = returning_id(sql, {**p, "tag": f"target-{len(targets)}"})
    bp = {"b": BLOOM, "uid": user("bloom", "owner").user_id, "tag": "bloom", "newcomer": NEWCOMER_ID}
    bloom = {"chat": returning_id(INSERTS["chat_sessions"], bp), "persona": returning_id(INSERTS["provider_configs"], bp),
             "return": returning_id(INSERTS["return_requests"], bp)}
    bloom["call"] = returning_id(INSERTS["call_sessions"], {**bp, **bloom, "state": None})
    return {"params": p, "targets": targets, "bloom": bloom, "url": seeded_db}


def as_role(role: str, business_key: str = "atlas") -> Actor:
    if role == "viewer":
        return Actor(user_id=VIEWER_ID, business_id=business(business_key).business_id, role="viewer",
                     email="viewer@atlas.example")
    return actor_for(business_key, role)


def _outcome(actor: Actor, sql: str, params: dict) -> str:
    """'row' (the statement affected the row), 'none' (it affected nothing) or 'refused' (Postgres said no)."""
    with unit_of_work(actor) as uow:
        try:
            rows = uow.session.execute(text(sql), params).all()
        except DBAPIError as err:
            state = getattr(err.orig, "sqlstate", None)
            assert state == "42501", f"refused for another reason ({state}): {err.orig}"
            return "refused"
    assert len(rows) <= 1, sql
    return "row" if rows else "none"


CELLS = [(table, command, role) for table in EXPECTED for command in COMMANDS for role in ROLES]


@pytest.mark.parametrize(("table", "command", "role"), CELLS, ids=[f"{t}-{c}-{r}" for t, c, r in CELLS])
def test_each_role_may_do_exactly_its_cells(world, table, command, role):
    actor = as_role(role)
    params = {**world["params"], "uid": actor.user_id, "tag": f"{role}-{command}", "target": world["targets"][table]}
    allowed = command == "SELECT" or LETTER[role] in EXPECTED[table][COMMANDS.index(command) - 1]
    got = _outcome(actor, _sql(table, command), params)
    if allowed:
        assert got == "row", f"{role} should be able to {command} {table}"
    else:
        assert got in ("none", "refused"), f"{role} must not {command} {table}"
        if command == "INSERT":
            assert got == "refused"  # a refused INSERT is an error the user sees, never a silent no-op


def test_a_tester_cannot_approve_a_live_return_nor_turn_a_test_return_into_a_live_one(world):
    tester, targets = as_role("tester"), world["targets"]
    live, test = targets["return_requests"], targets["return_requests (is_test)"]
    assert _outcome(tester, "UPDATE return_requests SET status = 'approved' WHERE id = :id RETURNING 1", {"id": live}) == "none"
    assert _outcome(tester, "UPDATE return_requests SET status = 'approved' WHERE id = :id RETURNING 1", {"id": test}) == "row"
    assert _outcome(tester, "UPDATE return_requests SET is_test = false WHERE id = :id RETURNING 1", {"id": test}) == "refused"
    assert _outcome(as_role("reviewer"), "UPDATE return_requests SET status = 'approved' WHERE id = :id RETURNING 1",
                    {"id": live}) == "row"


# ------------------------------------------------------------------ parents in one business

def test_a_call_cannot_name_a_chat_session_or_persona_of_another_business(world):
    p, bloom = world["params"], world["bloom"]
    owner = as_role("owner")
    insert = INSERTS["call_sessions"] + " RETURNING 1"
    # The hole of 0005: a call of atlas's persona on bloom's chat session (bloom would have seen it).
    assert _outcome(owner, insert, {"persona": p["persona"], "chat": bloom["chat"], "state": None}) == "refused"
    assert _outcome(owner, insert, {"persona": None, "chat": bloom["chat"], "state": None}) == "refused"
    assert _outcome(owner, insert, {"persona": bloom["persona"], "chat": p["chat"], "state": None}) == "refused"
    assert _outcome(owner, insert, {"persona": None, "chat": None, "state": None}) == "refused"  # no business at all
    assert _outcome(owner, insert, {"persona": p["persona"], "chat": p["chat"], "state": p["state"]}) == "row"
    # Nor move one there afterwards.
    move = "UPDATE call_sessions SET chat_session_id = :chat WHERE id = :id RETURNING 1"
    assert _outcome(owner, move, {"chat": bloom["chat"], "id": world["targets"]["call_sessions"]}) == "refused"


def test_a_member_of_both_businesses_still_cannot_mix_them_in_one_row(world):
    p, bloom = world["params"], world["bloom"]
    both = Actor(user_id=BOTH_ID, business_id=None, role="admin")  # no business chosen: both are visible
    insert = INSERTS["call_sessions"] + " RETURNING 1"
    assert _outcome(both, insert, {"persona": p["persona"], "chat": bloom["chat"], "state": None}) == "refused"
    assert _outcome(both, insert, {"persona": bloom["persona"], "chat": bloom["chat"], "state": None}) == "row"
    event = "INSERT INTO security_events (event_type, business_id, return_request_id) VALUES ('x', :b, :r) RETURNING 1"
    assert _outcome(both, event, {"b": ATLAS, "r": bloom["return"]}) == "refused"
    assert _outcome(both, event, {"b": BLOOM, "r": bloom["return"]}) == "row"


def test_a_call_made_of_two_businesses_is_seen_by_neither(world):
    """Rows adopted from before 0006 that mix businesses stay invisible to each business's users."""
    p, bloom = world["params"], world["bloom"]
    mixed = _owner_run(INSERTS["call_sessions"] + " RETURNING id", {"persona": p["persona"], "chat": bloom["chat"],
                                                                    "state": None})
    try:
        for actor in (as_role("owner"), actor_for("bloom", "owner")):
            assert _outcome(actor, "SELECT 1 FROM call_sessions WHERE id = :id", {"id": mixed}) == "none"
    finally:
        _owner_run("DELETE FROM call_sessions WHERE id = :id", {"id": mixed})


@pytest.mark.parametrize(("table", "params"), [
    ("chat_messages", lambda b: {"chat": b["chat"]}),
    ("call_transcripts", lambda b: {"call": b["call"]}),
    ("persona_test_logs", lambda b: {"b": ATLAS, "persona": b["persona"]}),
    ("security_events", lambda b: {"b": ATLAS, "return": b["return"], "tag": "cross"}),
    ("conversation_sessions", lambda b: {"b": ATLAS, "return": b["return"]}),
    ("return_requests (is_test)", lambda b: {"b": ATLAS, "chat": b["chat"], "tag": "cross"}),
    ("agent_performance_logs", lambda b: {"b": ATLAS, "chat": b["chat"]}),
])
def test_rows_cannot_hang_from_another_business_parent(world, table, params):
    """The owner of atlas (who may write all of these in atlas) cannot attach one to bloom's chat, call,
    persona or return: with bloom's ids (guessable: returns are numbered) the insert is refused."""
    values = {**world["params"], **params(world["bloom"])}
    assert _outcome(as_role("owner"), INSERTS[table] + " RETURNING 1", values) == "refused"
    assert _outcome(as_role("owner"), INSERTS[table] + " RETURNING 1", {**world["params"], "tag": "own"}) == "row"


# ------------------------------------------------------------------ policies: bookkeeping every member does

@pytest.mark.parametrize("role", ["reviewer", "tester", "viewer"])
def test_every_member_may_store_recomputed_metrics_but_not_edit_a_version(world, role):
    actor, draft = as_role(role), world["targets"]["policies"]
    metrics = "UPDATE policies SET policy_impact_score = 12.5, usage_statistics = '{\"returns\": 1}' WHERE id = :id RETURNING 1"
    assert _outcome(actor, metrics, {"id": draft}) == "row"
    for edit in ("rules = '{\"return_window_days\": 1}'", "version = 'renamed'", "state = 'retired'",
                 "effective_date = localtimestamp"):
        assert _outcome(actor, f"UPDATE policies SET {edit} WHERE id = :id RETURNING 1", {"id": draft}) == "refused", edit


def test_a_viewer_may_apply_a_due_schedule_and_refresh_metrics_through_the_services(fresh_db):
    """The Policies page does both for whoever opens it (dokani.policies.versions); a viewer must not get an error."""
    from datetime import datetime, timedelta

    from dokani.policies import lifecycle, metrics, versions

    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("INSERT INTO auth.users (id, email) VALUES (%s, 'viewer@atlas.example')", (VIEWER_ID,))
        c.execute("INSERT INTO business_members (business_id, user_id, role) VALUES (%s, %s, 'viewer')", (ATLAS, VIEWER_ID))
        active = c.execute("SELECT id, version FROM policies WHERE business_id = %s AND is_active", (ATLAS,)).fetchone()
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        draft = lifecycle.new_draft(uow, active[0], name="rls-scheduled")
    when = datetime.now() + timedelta(days=1)
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        lifecycle.schedule(uow, draft.id, when)
    with unit_of_work(as_role("viewer")) as uow:
        applied = lifecycle.apply_due_schedules(uow, now=when + timedelta(minutes=1))
    assert [v.version for v in applied] == ["rls-scheduled"]
    with unit_of_work(as_role("viewer")) as uow:
        metrics.refresh_metrics(uow)
    with unit_of_work(as_role("viewer")) as uow:
        states = {v.version: v.state for v in versions.list_versions(uow)}
        assert states["rls-scheduled"] == "active" and states[active[1]] == "retired"
        assert metrics.refresh_metrics(uow) == 0  # stored: nothing left to refresh


def test_the_audit_log_is_written_only_in_your_own_name_and_never_rewritten(world):
    p = world["params"]
    insert = ("INSERT INTO audit_log (business_id, actor_id, action, entity, entity_id) "
              "VALUES (:b, :uid, :action, 'policy_metrics', '1') RETURNING 1")
    for role in ROLES:
        actor = as_role(role)
        someone_else = user("atlas", "owner" if role != "owner" else "admin").user_id
        assert _outcome(actor, insert, {**p, "uid": someone_else, "action": "approve"}) == "refused", role
    viewer = as_role("viewer")
    assert _outcome(viewer, insert, {**p, "uid": VIEWER_ID, "action": "policy.metrics_refreshed"}) == "row"
    assert _outcome(viewer, insert, {**p, "uid": VIEWER_ID, "action": "approve"}) == "refused"
    for role in ROLES:
        assert _outcome(as_role(role), "UPDATE audit_log SET note = 'x' RETURNING 1", {}) == "refused"
        assert _outcome(as_role(role), "DELETE FROM audit_log RETURNING 1", {}) == "refused"


def test_each_user_reads_and_writes_only_their_own_preferences(world):
    owner_row = _owner_run("INSERT INTO user_preferences (user_id) VALUES (:u) RETURNING id",
                           {"u": user("atlas", "owner").user_id})
    try:
        for role in ROLES:
            actor = as_role(role)
            mine = "INSERT INTO user_preferences (user_id, preferences) VALUES (:u, '{}') RETURNING 1"
            if role == "owner":
                assert _outcome(actor, "UPDATE user_preferences SET preferences = '{}' WHERE id = :id RETURNING 1",
                                {"id": owner_row}) == "row"
            else:
                assert _outcome(actor, mine, {"u": actor.user_id}) == "row"
                assert _outcome(actor, mine, {"u": user("atlas", "owner").user_id}) == "refused"
                assert _outcome(actor, "UPDATE user_preferences SET preferences = '{}' WHERE id = :id RETURNING 1",
                                {"id": owner_row}) == "none"
    finally:
        _owner_run("DELETE FROM user_preferences WHERE id = :id", {"id": owner_row})


# ------------------------------------------------------------------ members: owners stay

MEMBER_ROLE = "UPDATE business_members SET role = :role WHERE business_id = :b AND user_id = :u RETURNING 1"
REMOVE = "DELETE FROM business_members WHERE business_id = :b AND user_id = :u RETURNING 1"


def _error(actor: Actor, statements: list[tuple[str, dict]]) -> str | None:
    """Run the statements in one transaction (rolled back); the database's message if one is refused."""
    with unit_of_work(actor) as uow:
        try:
            for sql, params in statements:
                assert uow.session.execute(text(sql), params).all(), sql
        except DBAPIError as err:
            return err.orig.diag.message_primary
    return None


def test_the_last_owner_of_a_business_cannot_be_removed_or_demoted(world):
    owner = as_role("owner")
    me = {"b": ATLAS, "u": owner.user_id}
    last = "the last owner of Atlas Outfitters cannot be removed or demoted"
    assert _error(owner, [(MEMBER_ROLE, {**me, "role": "admin"})]) == last
    assert _error(owner, [(REMOVE, me)]) == last
    # With a second owner, either may step down.
    admin = {"b": ATLAS, "u": user("atlas", "admin").user_id}
    assert _error(owner, [(MEMBER_ROLE, {**admin, "role": "owner"}), (MEMBER_ROLE, {**me, "role": "admin"})]) is None
    assert _error(owner, [(MEMBER_ROLE, {**admin, "role": "owner"}), (REMOVE, me)]) is None
    # Not even the database owner (a script, a console) leaves a business without one.
    with pytest.raises(DBAPIError, match=last):
        with owner_engine().connect() as conn:
            try:
                conn.execute(text(REMOVE), me)
            finally:
                conn.rollback()


def test_only_an_owner_makes_or_unmakes_an_owner(world):
    admin, owner = as_role("admin"), as_role("owner")
    refused = "only an owner can make someone an owner or change an owner's membership"
    assert _error(admin, [(MEMBER_ROLE, {"b": ATLAS, "u": admin.user_id, "role": "owner"})]) == refused
    assert _error(admin, [(REMOVE, {"b": ATLAS, "u": owner.user_id})]) == refused
    add = "INSERT INTO business_members (business_id, user_id, role) VALUES (:b, :u, :role) RETURNING 1"
    assert _error(admin, [(add, {"b": ATLAS, "u": NEWCOMER_ID, "role": "owner"})]) == refused
    assert _error(admin, [(add, {"b": ATLAS, "u": NEWCOMER_ID, "role": "tester"})]) is None
    assert _error(owner, [(add, {"b": ATLAS, "u": NEWCOMER_ID, "role": "owner"})]) is None
    # Members of one business are not the other's to manage.
    assert _error(owner, [(add, {"b": BLOOM, "u": NEWCOMER_ID, "role": "tester"})]) is not None


def test_two_owners_stepping_down_at_once_leave_one_owner(fresh_db):
    """Two owners each step down at the same moment: the second waits for the first and is refused."""
    admin_id, owner_id = user("atlas", "admin").user_id, user("atlas", "owner").user_id
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("UPDATE business_members SET role = 'owner' WHERE business_id = %s AND user_id = %s", (ATLAS, admin_id))
    from db.engine import app_url

    def session(uid: uuid.UUID) -> psycopg.Connection:
        conn = psycopg.connect(app_url())
        conn.execute("SET LOCAL ROLE authenticated")
        conn.execute("SELECT set_config('request.jwt.claims', %s, true), set_config('dokani.business_id', %s, true)",
                     (f'{{"sub": "{uid}", "role": "authenticated"}}', str(ATLAS)))
        return conn

    first, second = session(owner_id), session(admin_id)
    demote = "UPDATE business_members SET role = 'admin' WHERE business_id = %s AND user_id = %s"
    first.execute(demote, (ATLAS, owner_id))
    outcome: dict = {}

    def other_side():
        try:
            second.execute(demote, (ATLAS, admin_id))
            second.commit()
            outcome["ok"] = True
        except psycopg.Error as err:
            outcome["error"] = err.diag.message_primary
            second.rollback()

    t = threading.Thread(target=other_side)
    t.start()
    t.join(1.0)
    assert t.is_alive(), "the second change must wait for the first"
    first.commit()
    t.join(10)
    first.close(), second.close()
    assert outcome == {"error": "the last owner of Atlas Outfitters cannot be removed or demoted"}
    with psycopg.connect(fresh_db) as c:
        owners = c.execute("SELECT user_id FROM business_members WHERE business_id = %s AND role = 'owner'",
                           (ATLAS,)).fetchall()
    assert owners == [(admin_id,)]


# ------------------------------------------------------------------ the documented matrix is the tested one

def test_readme_documents_exactly_this_matrix():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Roles in Postgres", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            documented[re.sub(r" \((live|personas)\)", "", cells[0].replace("`", ""))] = tuple(cells[1:])

    def letters(cell: str) -> str:
        if cell.startswith("everyone"):
            return "OARTV"
        head = re.split(r"[;(]", cell, maxsplit=1)[0]  # what follows is a narrowing, tested on its own above
        return "".join(LETTER[w] for w in re.findall(r"owner|admin|reviewer|tester|viewer", head))

    assert set(documented) == set(EXPECTED) | {"user_preferences"}
    as_read = {t: tuple(letters(c) for c in cells) for t, cells in documented.items() if t in EXPECTED}
    assert as_read == {t: ("OARTV",) + cells for t, cells in EXPECTED.items()}


# ------------------------------------------------------------------ the revision itself

def _policies_of(conn, table: str) -> dict[str, str]:
    # The app's policies (for `authenticated`); 0009's `dokani_webhook` policies are tested with the webhooks.
    return dict(conn.execute(text("SELECT policyname, cmd FROM pg_policies WHERE schemaname = 'public' "
                                  "AND tablename = :t AND 'dokani_webhook' <> ALL (roles)"), {"t": table}).all())


def test_the_revision_reapplies_over_itself_and_downgrades_to_tenant_only(empty_db):
    """Adopting a database that has 0006 already (stamped back, upgraded again) changes nothing; down goes back
    to one tenant policy per table."""
    from alembic import command
    from sqlalchemy import create_engine

    from db.migrate import alembic_config
    from db.url import to_sqlalchemy

    engine = create_engine(to_sqlalchemy(empty_db))
    per_command = {"dokani_read": "SELECT", "dokani_insert": "INSERT", "dokani_update": "UPDATE", "dokani_delete": "DELETE"}
    try:
        with engine.connect() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008")  # 0009's webhook policies use 0006's functions: off first
            command.stamp(cfg, "0005")
            command.upgrade(cfg, "0006")  # the whole of 0006 again, over itself
            conn.commit()
            assert _policies_of(conn, "return_requests") == per_command
            assert _policies_of(conn, "audit_log") == {"dokani_read": "SELECT", "dokani_insert": "INSERT"}
            triggers = conn.execute(text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.business_members'::regclass "
                                         "AND NOT tgisinternal ORDER BY 1")).scalars().all()
            assert triggers == ["business_members_keep_owner", "business_members_owner_rows", "business_members_serialise"]
            command.downgrade(cfg, "0005")
            conn.commit()
            assert _policies_of(conn, "return_requests") == {"dokani_tenant": "ALL"}
            assert _policies_of(conn, "call_sessions") == {"dokani_tenant": "ALL"}
            command.upgrade(cfg, "head")
            conn.commit()
            assert _policies_of(conn, "call_sessions") == per_command
    finally:
        engine.dispose()
