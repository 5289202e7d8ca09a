"""The demo data generator: deterministic, complete in every area, sized by its flags, safe to re-run."""
from __future__ import annotations

import uuid
from datetime import datetime

import psycopg
import pytest

from db import seed as seed_module
from db.demo import BUSINESSES, users_of
from db.seed import STATUSES, SeedError, SeedSize, database_is_empty, seed_database
from dokani.__main__ import main
from dokani.triage.history import fill_history_counters
from tests.conftest import _clone, _drop
from tests.integration.test_analytics_summaries import assert_tables_exact

ANCHOR = datetime(2026, 11, 20, 12, 0)
RULE_KEYS = {
    "return_window_days", "auto_approve_threshold", "auto_escalation_threshold", "required_evidence",
    "acceptable_reasons", "high_risk_categories", "fraud_flags", "risk_thresholds", "allow_voice_calls",
    "allow_video_calls", "record_calls", "max_call_duration", "category_overrides",
}
# Content fingerprints of a few tables, in a stable order (ids are part of the content).
FINGERPRINTS = {
    "return_requests": "SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM public.return_requests t",
    "mock_orders": "SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM public.mock_orders t",
    # the metrics are the data's; when the scorer computed them (metrics_computed_at) is its clock's
    "policies": "SELECT md5(string_agg((to_jsonb(t) - 'metrics_computed_at')::text, '|' ORDER BY t.id)) "
                "FROM public.policies t",
    "call_sessions": "SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM public.call_sessions t",
    "call_transcripts": "SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM public.call_transcripts t",
    # scored by the console's scorer after the load: its clock stamps last_updated, everything else is the data's
    "customer_risk_profiles": "SELECT md5(string_agg((t.id, t.customer_email, t.risk_score, t.return_frequency, "
                              "t.fraud_indicators, t.behavior_patterns, t.created_at)::text, '|' ORDER BY t.id)) "
                              "FROM public.customer_risk_profiles t",
    "audit_log": "SELECT md5(string_agg((t.action, t.entity_id, t.actor_email, t.before, t.after, t.note, "
                 "t.created_at)::text, '|' ORDER BY t.created_at, t.id)) FROM public.audit_log t "
                 "WHERE t.entity = 'return_requests'",
    "chat_messages": "SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM public.chat_messages t",
    "return_history": "SELECT md5(string_agg(t::text, '|' ORDER BY t.return_id)) FROM public.return_history t",
}
SUMMARY_TABLES = ["return_daily_summary", "return_rule_daily_summary", "return_decision_times", "return_decision_hours",
                  "order_daily_summary", "call_facts"]


def _fingerprints(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {table: conn.execute(sql).fetchone()[0] for table, sql in FINGERPRINTS.items()}


def _one(url: str, sql: str, params=None):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def _rows(url: str, sql: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def second_empty_db(pg_server, empty_template):
    name = f"dokani_e2_{uuid.uuid4().hex[:10]}"
    url = _clone(pg_server, empty_template, name)
    yield url
    _drop(pg_server, name)


# --- determinism --------------------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_rows_and_another_seed_does_not(empty_db, second_empty_db):
    # a later migration may add a clock-default column the seed does not know: it must not break determinism
    for url in (empty_db, second_empty_db):
        with psycopg.connect(url) as conn:
            conn.execute("ALTER TABLE public.policies ADD COLUMN touched_at timestamp NOT NULL DEFAULT now()")
            conn.execute("ALTER TABLE public.return_requests ADD COLUMN seen_on date DEFAULT CURRENT_DATE")
    size = SeedSize(businesses=2, returns=300)
    seed_database(empty_db, seed=11, size=size, progress=False, anchor=ANCHOR)
    seed_database(second_empty_db, seed=11, size=size, progress=False, anchor=ANCHOR)
    first = _fingerprints(empty_db)
    assert all(first.values()), first  # every fingerprinted table has rows
    assert _fingerprints(second_empty_db) == first

    assert _one(empty_db, "SELECT count(DISTINCT touched_at) FROM public.policies") == 1
    defaults = _rows(empty_db, "SELECT column_name, column_default FROM information_schema.columns "
                               "WHERE column_name IN ('touched_at', 'seen_on') ORDER BY 1")
    assert defaults == [("seen_on", "CURRENT_DATE"), ("touched_at", "now()")]  # the real defaults are back

    seed_database(second_empty_db, seed=12, size=size, progress=False, anchor=ANCHOR, reset=True)
    other = _fingerprints(second_empty_db)
    assert other["return_requests"] != first["return_requests"]
    assert other["call_sessions"] != first["call_sessions"]


def test_every_timestamp_is_dated_back_from_the_anchor_not_the_clock(empty_db):
    seed_database(empty_db, seed=7, size=SeedSize.small(), progress=False, anchor=ANCHOR)
    newest = _one(empty_db, "SELECT max(created_at) FROM public.return_requests")
    oldest = _one(empty_db, "SELECT min(created_at) FROM public.return_requests")
    assert oldest < newest <= ANCHOR
    assert 365 < (ANCHOR - oldest).days <= 457  # the last twelve months, and some older history
    # the draft policy takes effect after the anchor, the others before
    effective = dict(_rows(empty_db, "SELECT version, max(effective_date) FROM public.policies GROUP BY version"))
    assert effective["v1.0"] < effective["v1.1"] < ANCHOR < effective["v1.2-draft"]


# --- every area of the small data set (shared read-only database) -------------------------------------------------


def test_businesses_users_and_members_match_the_demo_identities(seeded_db):
    profiles = _rows(seeded_db, "SELECT id, business_id, business_name, website, subscription_plan, onboarded "
                                "FROM public.profiles ORDER BY business_name")
    expected = sorted(BUSINESSES[:2], key=lambda b: b.name)
    assert [(p[0], p[1], p[2], p[3], p[4]) for p in profiles] == [
        (b.owner_id, b.business_id, b.name, b.website, b.plan) for b in expected]
    assert all(p[5] for p in profiles)
    for b in BUSINESSES[:2]:
        members = _rows(seeded_db, "SELECT m.user_id, m.role, m.email, u.email FROM public.business_members m "
                                   "JOIN auth.users u ON u.id = m.user_id WHERE m.business_id = %s", (b.business_id,))
        assert sorted((m[0], m[1], m[2], m[3]) for m in members) == sorted(
            (u.user_id, u.role, u.email, u.email) for u in users_of(b.key))


def test_every_status_is_present_and_the_first_business_has_a_queue_to_work(seeded_db):
    statuses = dict(_rows(seeded_db, "SELECT status, count(*) FROM public.return_requests GROUP BY status"))
    assert set(statuses) == set(STATUSES)
    first = BUSINESSES[0].business_id
    triage = _one(seeded_db, "SELECT count(*) FROM public.return_requests WHERE business_id = %s "
                             "AND status = 'pending_triage'", (first,))
    review = _one(seeded_db, "SELECT count(*) FROM public.return_requests WHERE business_id = %s "
                             "AND status = 'pending_review'", (first,))
    stale = _one(seeded_db, "SELECT count(*) FROM public.return_requests WHERE business_id = %s "
                            "AND status IN ('pending_triage', 'pending_review') "
                            "AND created_at < now() AT TIME ZONE 'UTC' - interval '48 hours'", (first,))
    assert triage >= 3 and review >= 25  # nobody triaged for 2.5 days, the reviewer is back from two weeks off
    assert stale >= 5


def test_returns_carry_triage_and_decision_details_that_fit_their_status(seeded_db):
    bad = _rows(seeded_db, """
        SELECT id, status FROM public.return_requests WHERE
           (status = 'pending_triage' AND (ai_recommendation IS NOT NULL OR admin_decision_at IS NOT NULL))
        OR (status <> 'pending_triage' AND (ai_recommendation NOT IN ('auto_approve', 'auto_deny', 'human_review')
            OR ai_reasoning IS NULL OR risk_score NOT BETWEEN 0 AND 1 OR policy_version_used IS NULL
            OR triage_agent_id IS NULL OR processing_time_ms IS NULL))
        OR (status IN ('approved', 'completed') AND (approved_at IS NULL OR denied_at IS NOT NULL))
        OR (status = 'denied' AND (denied_at IS NULL OR approved_at IS NOT NULL))
        -- a person's denial always says why; the engine's own decisions carry no note
        OR (status = 'denied' AND admin_decision_at IS NOT NULL AND admin_notes IS NULL)
        OR (admin_decision_at IS NULL AND admin_notes IS NOT NULL)
        OR (status = 'escalated' AND (escalation_reason IS NULL OR admin_decision_at IS NULL))
        OR (status = 'pending_review' AND admin_decision_at IS NOT NULL)
        OR jsonb_typeof(fraud_flags) <> 'object' OR jsonb_typeof(policy_violations) <> 'array'
        OR jsonb_typeof(risk_factors) <> 'array' OR jsonb_typeof(conversation_log) <> 'array'
        OR days_since_purchase IS NULL OR order_value <= 0 OR product_category IS NULL
    """)
    assert bad == []
    # conversation logs are lists of {role, text, at}; evidence is https URLs
    roles = {r[0] for r in _rows(seeded_db, "SELECT DISTINCT m->>'role' FROM public.return_requests, "
                                            "jsonb_array_elements(conversation_log) m")}
    assert roles == {"customer", "agent"}
    assert _one(seeded_db, "SELECT count(*) FROM public.return_requests, jsonb_array_elements(conversation_log) m "
                           "WHERE m->>'text' IS NULL OR (m->>'at')::timestamp IS NULL") == 0
    urls = [r[0] for r in _rows(seeded_db, "SELECT unnest(evidence_urls) FROM public.return_requests")]
    assert urls and all(u.startswith("https://") for u in urls)
    flagged = _one(seeded_db, "SELECT count(*) FROM public.return_requests WHERE fraud_flags <> '{}'")
    assert flagged > 0


def test_orders_back_the_returns_with_a_few_unknown_ones(seeded_db):
    unknown = _one(seeded_db, "SELECT count(*) FROM public.return_requests r WHERE NOT EXISTS "
                              "(SELECT 1 FROM public.mock_orders m WHERE m.order_id = r.order_id)")
    total = _one(seeded_db, "SELECT count(*) FROM public.return_requests")
    assert 0 < unknown < total * 0.05
    mismatched = _one(seeded_db, """
        SELECT count(*) FROM public.return_requests r JOIN public.mock_orders m ON m.order_id = r.order_id
        WHERE m.business_id <> r.business_id OR m.customer_email <> r.customer_email
           OR m.product_category <> r.product_category OR m.order_value <> r.order_value
           OR m.purchase_date > r.created_at""")
    assert mismatched == 0
    categories = {r[0] for r in _rows(seeded_db, "SELECT DISTINCT product_category FROM public.mock_orders")}
    assert categories <= {"apparel", "footwear", "accessories", "electronics", "home", "beauty", "sports", "toys"}


def test_hostile_customer_text_is_kept_verbatim(seeded_db):
    texts = [r[0] for r in _rows(seeded_db, "SELECT reason_for_return FROM public.return_requests WHERE business_id = %s",
                                 (BUSINESSES[0].business_id,))]
    assert any("<script>alert(1)</script>" in t for t in texts)
    assert any("<img src=x onerror=alert(1)>" in t for t in texts)
    assert any("[click here for my photos](http://evil.example/phish)" in t for t in texts)


def test_each_business_has_exactly_one_active_policy_with_the_rules_shape(seeded_db):
    rows = _rows(seeded_db, "SELECT business_id, version, is_active, rules, effective_date FROM public.policies")
    by_business: dict = {}
    for business_id, version, active, rules, effective in rows:
        by_business.setdefault(business_id, []).append((version, active))
        assert set(rules) == RULE_KEYS, version
        assert set(rules["risk_thresholds"]) == {"auto_approve_max", "auto_deny_min"}
        assert rules["risk_thresholds"]["auto_approve_max"] < rules["risk_thresholds"]["auto_deny_min"]
        assert effective is not None
    assert len(by_business) == 2
    for versions in by_business.values():
        assert sorted(versions) == [("v1.0", False), ("v1.1", True), ("v1.2-draft", False)]
    windows = {r[1]: r[3]["return_window_days"] for r in rows}
    assert windows["v1.1"] != windows["v1.2-draft"]  # a diff has something to show


def test_every_business_has_voice_and_video_personas_with_calls(seeded_db):
    rows = _rows(seeded_db, """
        SELECT p.business_id, p.provider, count(DISTINCT p.id), count(c.id), bool_or(p.is_default)
        FROM public.provider_configs p LEFT JOIN public.call_sessions c ON c.persona_config_id = p.id
        GROUP BY 1, 2""")
    got = {(r[0], r[1]): r for r in rows}
    for b in BUSINESSES[:2]:
        assert got[(b.business_id, "elevenlabs")][3] > 0
        assert got[(b.business_id, "tavus")][3] > 0
        defaults = _one(seeded_db, "SELECT count(*) FROM public.provider_configs WHERE business_id = %s AND is_default",
                        (b.business_id,))
        assert defaults == 1
    configs = _rows(seeded_db, "SELECT provider, config_data FROM public.provider_configs")
    for provider, data in configs:
        assert {"persona_name", "greeting", "tone", "sign_off"} <= set(data)
        if provider == "elevenlabs":
            assert {"voice_id", "agent_id", "language"} <= set(data) and data["escalation"]["on_intents"]
        else:
            assert {"replica_id", "persona_id"} <= set(data)


def test_calls_have_consistent_ids_transcripts_and_analytics(seeded_db):
    assert _rows(seeded_db, """
        SELECT id FROM public.call_sessions WHERE
           (provider = 'elevenlabs' AND (call_type <> 'voice' OR elevenlabs_conversation_id IS NULL))
        OR (provider = 'tavus' AND (call_type <> 'video' OR tavus_conversation_id IS NULL OR tavus_replica_id IS NULL))
        OR status NOT IN ('completed', 'failed', 'abandoned', 'in_progress')
        OR (status = 'in_progress') <> (ended_at IS NULL)
        OR call_quality_score NOT BETWEEN 0 AND 5
        OR (customer_feedback <> '{}' AND (customer_feedback->>'rating')::int NOT BETWEEN 1 AND 5)""") == []
    speakers = {r[0] for r in _rows(seeded_db, "SELECT DISTINCT speaker FROM public.call_transcripts")}
    assert speakers == {"agent", "customer"}
    # lines alternate, starting with the agent, in time order
    lines = _rows(seeded_db, "SELECT call_session_id, speaker, timestamp_seconds FROM public.call_transcripts "
                             "ORDER BY call_session_id, stream_sequence")
    previous = None
    for call, speaker, ts in lines:
        if call != previous:
            assert speaker == "agent"
        else:
            assert speaker != last_speaker and ts >= last_ts
        previous, last_speaker, last_ts = call, speaker, ts
    metrics = _rows(seeded_db, "SELECT metrics FROM public.call_analytics")
    assert metrics
    for (m,) in metrics:
        assert {"latency_ms_p50", "latency_ms_p95", "interruptions", "sentiment", "resolution",
                "words_per_minute"} <= set(m)
        assert -1 <= m["sentiment"] <= 1 and m["resolution"] in ("resolved", "escalated", "unresolved")
        assert m["latency_ms_p50"] <= m["latency_ms_p95"]


def test_risk_security_chat_and_logs_are_there(seeded_db):
    # one risk profile per customer who returned something, per business
    missing = _one(seeded_db, "SELECT count(*) FROM (SELECT DISTINCT business_id, customer_email "
                              "FROM public.return_requests) r WHERE NOT EXISTS (SELECT 1 FROM "
                              "public.customer_risk_profiles p WHERE p.business_id = r.business_id "
                              "AND p.customer_email = r.customer_email)")
    assert missing == 0
    assert _one(seeded_db, "SELECT count(*) FROM public.customer_risk_profiles WHERE risk_score NOT BETWEEN 0 AND 1") == 0
    severities = {r[0] for r in _rows(seeded_db, "SELECT DISTINCT severity FROM public.security_events")}
    assert severities <= {"low", "medium", "high", "critical"} and len(severities) >= 2
    assert _one(seeded_db, "SELECT count(*) FROM public.security_events WHERE resolved") > 0
    assert _one(seeded_db, "SELECT count(*) FROM public.security_events WHERE NOT resolved") > 0
    sessions = _rows(seeded_db, "SELECT session_type, chat_mode, metadata FROM public.chat_sessions")
    assert sessions and {s[0] for s in sessions} == {"test_mode"}
    assert {s[1] for s in sessions} == {"normal", "messenger", "whatsapp", "shopify", "woocommerce"}
    assert all({"persona_id", "policy_version"} <= set(s[2]) for s in sessions)
    agent_meta = _rows(seeded_db, "SELECT metadata FROM public.chat_messages WHERE sender = 'agent'")
    assert agent_meta and all({"intent", "confidence"} <= set(m[0]) for m in agent_meta)
    for table in ("conversation_sessions", "agent_performance_logs", "persona_test_logs"):
        assert _one(seeded_db, f"SELECT count(DISTINCT business_id) FROM public.{table}") == 2, table
    assert _one(seeded_db, "SELECT count(*) FROM public.conversation_sessions WHERE return_request_id IS NULL") == 0


def test_identity_sequences_continue_after_the_seeded_ids(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        business = BUSINESSES[0].business_id
        new_return = conn.execute(
            "INSERT INTO public.return_requests (business_id, order_id, customer_email) "
            "VALUES (%s, 'ATL-NEW', 'new@example.com') RETURNING id", (business,)).fetchone()[0]
        new_order = conn.execute(
            "INSERT INTO public.mock_orders (order_id, purchase_date, customer_email, product_name, product_category) "
            "VALUES ('ATL-NEW', now(), 'new@example.com', 'Thing', 'home') RETURNING id").fetchone()[0]
        new_policy = conn.execute(
            "INSERT INTO public.policies (business_id, version, rules) VALUES (%s, 'v9', '{}') RETURNING id",
            (business,)).fetchone()[0]
        assert new_return > conn.execute("SELECT max(id) FROM public.return_requests WHERE id <> %s",
                                         (new_return,)).fetchone()[0]
        assert new_order > 1 and new_policy > 6
        conn.rollback()


# --- size, reset, bulk path, command line ------------------------------------------------------------------------


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM public.{t}").fetchone()[0] for t in
                ("return_requests", "mock_orders", "customer_risk_profiles", "call_sessions", "profiles")}


def test_counts_follow_the_size_flags(empty_db):
    summary = seed_database(empty_db, seed=7, size=SeedSize(businesses=3, returns=1200), progress=False,
                            anchor=ANCHOR)
    counts = _counts(empty_db)
    assert counts["profiles"] == 3
    assert counts["return_requests"] == 1200 == summary.counts["return_requests"]
    assert counts["customer_risk_profiles"] == 400  # returns / 3
    assert counts["call_sessions"] == 150  # returns / 8
    assert 1200 < counts["mock_orders"] <= 1440
    assert "1200 return requests" in summary.describe()
    assert all(summary.statuses[s] > 0 for s in STATUSES)

    summary = seed_database(empty_db, seed=7, size=SeedSize(businesses=5, returns=600, customers=50, calls=40),
                            progress=False, anchor=ANCHOR, reset=True)
    counts = _counts(empty_db)
    assert counts == {"return_requests": 600, "mock_orders": counts["mock_orders"], "customer_risk_profiles": 50,
                      "call_sessions": 40, "profiles": 5}
    names = [r[0] for r in _rows(empty_db, "SELECT business_name FROM public.profiles ORDER BY business_name")]
    assert "Demo Shop 5" in names  # beyond the four named demo businesses


def test_seeding_twice_needs_reset_and_reset_replaces_everything(empty_db):
    assert database_is_empty(empty_db)
    seed_database(empty_db, seed=7, size=SeedSize.small(), progress=False, anchor=ANCHOR)
    assert not database_is_empty(empty_db)
    before = _fingerprints(empty_db)
    with pytest.raises(SeedError):
        seed_database(empty_db, seed=7, size=SeedSize.small(), progress=False, anchor=ANCHOR)
    assert _fingerprints(empty_db) == before  # the refused run left nothing behind
    seed_database(empty_db, seed=7, size=SeedSize.small(), progress=False, anchor=ANCHOR, reset=True)
    assert _fingerprints(empty_db) == before
    assert _one(empty_db, "SELECT count(*) FROM auth.users") == 9  # 2 businesses x 4 roles, and the first one's viewer


def _schema_objects(url: str) -> list[tuple]:
    return _rows(url, """
        SELECT 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
        WHERE indrelid = ANY (CAST(%(t)s AS regclass[]))
        UNION ALL
        SELECT 'constraint', conname, pg_get_constraintdef(oid) || convalidated::text FROM pg_constraint
        WHERE conrelid = ANY (CAST(%(t)s AS regclass[]))
        ORDER BY 1, 2""", {"t": [f"public.{t}" for t in seed_module.BULK_TABLES]})


def test_the_bulk_path_puts_indexes_and_foreign_keys_back(empty_db, monkeypatch):
    before = _schema_objects(empty_db)
    assert any(kind == "constraint" and "FOREIGN KEY" in d for kind, _, d in before)
    monkeypatch.setattr(seed_module, "BULK_THRESHOLD", 100)
    seed_database(empty_db, seed=7, size=SeedSize(returns=400), progress=False, anchor=ANCHOR)
    assert _schema_objects(empty_db) == before
    assert _one(empty_db, "SELECT count(*) FROM public.return_requests") == 400
    # and the foreign keys hold: a return of an unknown business is refused
    with psycopg.connect(empty_db) as conn, pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("INSERT INTO public.return_requests (business_id, order_id, customer_email) "
                     "VALUES (gen_random_uuid(), 'X', 'x@example.com')")


def _summaries(url: str) -> dict[str, tuple]:
    """Every row of every maintained summary (zero rows included), in a stable order."""
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM public.{t} t"
                                ).fetchone()
                for t in SUMMARY_TABLES}


def _summary_triggers_enabled(url: str) -> list[tuple]:
    return sorted(_rows(url, "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal "
                             "AND tgname IN ('return_summaries_insert', 'order_summary_insert', 'call_facts_insert')"))


def test_the_seed_fills_the_summaries_as_the_triggers_would_and_turns_them_back_on(empty_db, second_empty_db,
                                                                                  monkeypatch):
    triggers = _summary_triggers_enabled(empty_db)
    assert len(triggers) == 5 and all(enabled == "O" for _, _, enabled in triggers)
    size = SeedSize(businesses=2, returns=600)
    seed_database(empty_db, seed=5, size=size, progress=False, anchor=ANCHOR)  # filled once, after the load
    with monkeypatch.context() as m:  # kept by the triggers, COPY by COPY
        m.setattr(seed_module, "suspend_summary_triggers", lambda conn: [])
        seed_database(second_empty_db, seed=5, size=size, progress=False, anchor=ANCHOR)
    filled = _summaries(empty_db)
    assert all(n > 0 for n, _ in filled.values()), filled
    assert filled == _summaries(second_empty_db)
    assert_tables_exact(empty_db)
    # the triggers are on again: a person's denial and a call unlinked from its return keep every summary exact
    assert _summary_triggers_enabled(empty_db) == triggers
    with psycopg.connect(empty_db) as conn:
        conn.execute("UPDATE public.return_requests SET status = 'denied', admin_decision_at = created_at + "
                     "interval '3 hours', denied_at = created_at + interval '3 hours' WHERE id = (SELECT min(id) "
                     "FROM public.return_requests WHERE status = 'pending_review')")
        conn.execute("DELETE FROM public.call_return_links WHERE call_session_id = (SELECT call_session_id FROM "
                     "public.call_return_links WHERE return_request_id IS NOT NULL ORDER BY 1 LIMIT 1)")
    assert_tables_exact(empty_db)
    assert _summaries(empty_db) != filled


def test_the_stored_history_is_the_definitions_on_both_load_paths(empty_db, monkeypatch):
    """The counters the seed writes beside each return equal what ``fill_history_counters`` computes (it changes
    nothing), for a small load and for the bulk path (plain indexes and keys suspended)."""
    for threshold in (seed_module.BULK_THRESHOLD, 100):
        monkeypatch.setattr(seed_module, "BULK_THRESHOLD", threshold)
        seed_database(empty_db, seed=9, size=SeedSize(businesses=2, returns=900), progress=False, anchor=ANCHOR,
                      reset=True)
        assert _one(empty_db, "SELECT count(*) FROM public.return_history") == 900
        assert all(_rows(empty_db, "SELECT bool_or(prior_returns > 0), bool_or(prior_30d > 0), bool_or(prior_90d > "
                                   "prior_30d), bool_or(prior_denied > 0) FROM public.return_history")[0])
        with psycopg.connect(empty_db) as conn:
            assert fill_history_counters(conn) == 0
        assert_tables_exact(empty_db)


def test_cli_if_empty_seeds_an_empty_database_and_skips_a_seeded_one(empty_db, capsys):
    assert main(["seed", "--if-empty", "--quiet", "--returns", "120", "--anchor", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    assert "120 return requests" in out
    before = _counts(empty_db)
    assert main(["seed", "--if-empty", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "skipped" in out
    assert _counts(empty_db) == before
    # without --if-empty or --reset, a second seed is refused with a message, not a traceback
    assert main(["seed", "--quiet"]) == 2
    assert "--reset" in capsys.readouterr().err
    assert _counts(empty_db) == before


def test_two_seeders_at_once_load_the_data_once(empty_db):
    """The app's first start and `seed --if-empty` may race: one loads, the other finds businesses and skips."""
    from concurrent.futures import ThreadPoolExecutor

    def run(_):
        return seed_database(empty_db, seed=7, size=SeedSize.small(), progress=False, anchor=ANCHOR, if_empty=True)

    with ThreadPoolExecutor(2) as pool:
        summaries = list(pool.map(run, range(2)))
    assert sorted(s.skipped for s in summaries) == [False, True]
    assert "skipped" in next(s for s in summaries if s.skipped).describe()
    assert _counts(empty_db)["return_requests"] == 2400
    assert _one(empty_db, "SELECT count(*) FROM public.profiles") == 2


def test_persona_usage_follows_the_seeded_calls_and_sessions(empty_db):
    import psycopg

    from db.seed import SeedSize, seed_database

    seed_database(empty_db, seed=3, size=SeedSize.small(), progress=False)
    with psycopg.connect(empty_db) as c:
        rows = c.execute(
            """
            SELECT p.usage_count,
                   (SELECT count(*) FROM call_sessions c WHERE c.persona_config_id = p.id)
                 + (SELECT count(*) FROM chat_sessions s WHERE s.metadata ->> 'persona_id' = p.id::text) AS uses,
                   p.last_used_at IS NOT NULL
            FROM provider_configs p
            """
        ).fetchall()
    assert rows and all(usage == uses for usage, uses, _ in rows)
    assert any(usage > 0 and has_last for usage, _, has_last in rows)
