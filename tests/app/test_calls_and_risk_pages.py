"""Calls and risk pages: figures from the database, filters that change them, a transcript, resolving an event."""
from __future__ import annotations

import psycopg

from db.demo import business
from tests.app.conftest import no_exceptions, open_page

ATLAS = business("atlas").business_id
CALLS_90D = """
SELECT count(*) FROM call_sessions c JOIN provider_configs p ON p.id = c.persona_config_id
WHERE p.business_id = %s AND c.created_at >= (now() AT TIME ZONE 'utc') - interval '90 days' {extra}
"""


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def test_call_metrics_match_the_database_and_follow_the_provider_filter(seeded_db):
    at = open_page("calls")
    no_exceptions(at)
    with psycopg.connect(seeded_db) as c:
        total = c.execute(CALLS_90D.format(extra=""), (ATLAS,)).fetchone()[0]
        tavus = c.execute(CALLS_90D.format(extra="AND c.provider = 'tavus'"), (ATLAS,)).fetchone()[0]
    assert total > tavus > 0
    assert _metric(at, "Calls") == f"{total:,}"
    at.selectbox(key="calls_provider").select("tavus").run()
    no_exceptions(at)
    assert _metric(at, "Calls") == f"{tavus:,}"


def test_opening_a_call_shows_its_transcript_as_plain_text(seeded_db):
    at = open_page("calls")
    box = at.selectbox(key="calls_open")
    for option in range(len(box.options)):
        at.selectbox(key="calls_open").set_value(option).run()
        no_exceptions(at)
        if at.chat_message:
            break
    assert at.chat_message, "no call on the first page has a transcript"
    assert any(t.value for t in at.text)


def test_risk_bands_match_the_database(seeded_db):
    at = open_page("risk")
    no_exceptions(at)
    with psycopg.connect(seeded_db) as c:
        high, profiles, unscored = c.execute(
            "SELECT count(*) FILTER (WHERE risk_score >= 0.7 AND behavior_patterns ->> 'model' = 'dokani-risk/1'), "
            "count(*), count(*) FILTER (WHERE behavior_patterns ->> 'model' IS DISTINCT FROM 'dokani-risk/1') "
            "FROM customer_risk_profiles WHERE business_id = %s",
            (ATLAS,),
        ).fetchone()
    assert _metric(at, "Customers with a profile") == f"{profiles:,}"
    assert _metric(at, "High risk") == f"{high:,}"
    assert _metric(at, "Not scored yet") == f"{unscored:,}"


def test_resolving_a_security_event_writes_who_and_when_with_an_audit_row(fresh_db):
    at = open_page("risk", slug="reviewer")
    no_exceptions(at)
    with psycopg.connect(fresh_db) as c:
        open_before = c.execute(
            "SELECT count(*) FROM security_events WHERE business_id = %s AND NOT coalesce(resolved, false)", (ATLAS,)
        ).fetchone()[0]
    assert open_before > 0
    at.session_state["risk_view"] = "Security events"
    at.run()
    at.selectbox(key="risk_event").set_value(0).run()
    at.text_input[-1].input("checked the addresses")
    next(b for b in at.button if b.label == "Mark resolved").click().run()
    no_exceptions(at)
    assert any("Resolved" in s.value for s in at.success)
    with psycopg.connect(fresh_db) as c:
        open_after = c.execute(
            "SELECT count(*) FROM security_events WHERE business_id = %s AND NOT coalesce(resolved, false)", (ATLAS,)
        ).fetchone()[0]
        audit = c.execute("SELECT action, actor_email, note FROM audit_log WHERE entity = 'security_event'").fetchall()
    assert open_after == open_before - 1
    assert audit == [("resolve", "reviewer@atlas.example", "checked the addresses")]
