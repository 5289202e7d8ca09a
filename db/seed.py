"""Deterministic demo and scale data: ``python -m dokani seed``.

The same seed, size and anchor give byte-identical rows: every random draw comes from a
``random.Random`` derived from (seed, stage, business), ids are numbered or drawn from those
generators, and every timestamp is an offset before ``anchor`` (default: the start of today, UTC),
never ``now()``. Rows are bulk-loaded with COPY in dependency order, in one transaction, as the
owner role (row-level security does not apply to it). Into emptied tables the maintained summaries (revision 0019)
are filled once after the load by the revision's own backfill instead of by each COPY's triggers, the history counters
(``return_history``) are written from the returns pass itself, and above ``BULK_THRESHOLD`` returns the plain indexes
and foreign keys are built after the load.

Sizes: ``SeedSize.small()`` (2 businesses, 2,400 returns: fifteen months of two small shops) is what the tests
and the app's first start load; ``--returns 1000000`` is the scale run (customers default to returns / 3, calls to
returns / 8). Every customer is then scored by the console's risk scorer (``score_customers``).

Here: the public API and the order of the load. ``db.seed_rows`` makes the rows, ``db.seed_history`` the returns'
history (triage by the engine under the policy in force, reviewers' decisions, audit rows), ``db.seed_calls`` the
calls and their links to returns, ``db.seed_content`` holds their words (catalogues, customer texts, personas,
policy rules), ``db.seed_load`` does the COPY.
"""
from __future__ import annotations

import gc
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg

from db.seed_load import (
    BULK_TABLES, SEEDED_TABLES, SEQUENCED, Loader, analyze, drop_foreign_keys, drop_plain_indexes, fill_summaries,
    lz4_toast, nothing_to_lose, pin_clock_defaults, suspend_summary_triggers, truncate_seeded,
)
from db.seed_calls import analytics_rows, call_rows, link_rows, transcript_rows
from db.seed_history import AuditWriter, PolicyTimeline
from db.seed_rows import (
    HISTORY_COLUMNS, RETURN_COLUMNS, STATUSES, TRANSCRIBED_CALLS, Business, Skeleton, agent_log_rows, chat_rows,
    conversation_rows, customer_emails, history_lines, member_rows, order_lines, persona_rows, persona_test_rows,
    plan_businesses, policy_rows, profile_rows, return_lines, risk_profile_lines, security_event_rows, user_rows,
)

__all__ = ["BULK_TABLES", "STATUSES", "SeedError", "SeedSize", "SeedSummary", "database_is_empty", "default_anchor",
           "seed_database"]

MAX_CALLS = 200_000
BULK_THRESHOLD = 20_000  # returns; above it, plain secondary indexes are rebuilt after the load instead of during


class SeedError(RuntimeError):
    """The database cannot be seeded as asked (it already has businesses and neither reset nor if_empty)."""


@dataclass
class SeedSize:
    """How much to load: returns are spread over the businesses (each gets at least 6 customers and calls)."""

    businesses: int = 2
    returns: int = 2400
    customers: int = 0  # 0 = returns / 3
    calls: int = 0  # 0 = returns / 8 (at most MAX_CALLS)

    @classmethod
    def small(cls) -> "SeedSize":
        return cls(businesses=2, returns=2400)

    def customer_count(self) -> int:
        return self.customers or max(self.returns // 3, 12 * max(self.businesses, 1))

    def call_count(self) -> int:
        return self.calls or min(max(self.returns // 8, 12 * max(self.businesses, 1)), MAX_CALLS)


@dataclass
class SeedSummary:
    """What one seeding wrote: rows per table (``counts``), returns per status, seconds."""

    seed: int
    anchor: datetime
    businesses: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per table (generation and COPY overlap)
    statuses: dict[str, int] = field(default_factory=dict)  # return requests per status
    skipped: bool = False  # if_empty and the database had businesses already: nothing was written
    evaluations: int = 0  # triage engine evaluations run (returns with the same facts share one)
    scored: list[str] = field(default_factory=list)  # the risk scorer's summary, per business

    def describe(self) -> str:
        if self.skipped:
            return "The database already has businesses: seeding skipped (nothing was written)."
        c = self.counts
        status = ", ".join(f"{self.statuses.get(s, 0)} {s.replace('_', ' ')}" for s in STATUSES)
        rows = sum(c.values())
        return (
            f"Seeded {len(self.businesses)} business(es) ({', '.join(self.businesses)}) with seed {self.seed}, "
            f"dated back from {self.anchor:%Y-%m-%d %H:%M} UTC: {c.get('return_requests', 0)} return requests "
            f"({status}), {c.get('mock_orders', 0)} orders, {c.get('customer_risk_profiles', 0)} customer risk "
            f"profiles, {c.get('security_events', 0)} security events, {c.get('policies', 0)} policy versions, "
            f"{c.get('provider_configs', 0)} personas, {c.get('call_sessions', 0)} calls "
            f"({c.get('call_transcripts', 0)} transcript lines), {c.get('chat_sessions', 0)} chat sessions "
            f"({c.get('chat_messages', 0)} messages), {c.get('auth.users', 0)} users, {c.get('audit_log', 0)} audit "
            f"rows; {rows} rows in {self.seconds:.1f} s. Triage: {self.evaluations} engine evaluations for "
            f"{c.get('return_requests', 0) - self.statuses.get('pending_triage', 0)} triaged returns."
        )


# ---------------------------------------------------------------------------------------------------------------
# entry points


def default_anchor() -> datetime:
    """The start of today, UTC (naive, as the schema's timestamps are)."""
    now = datetime.now(timezone.utc)
    return datetime(now.year, now.month, now.day)


def _naive(anchor: datetime) -> datetime:
    return anchor.astimezone(timezone.utc).replace(tzinfo=None) if anchor.tzinfo else anchor


def database_is_empty(url: str) -> bool:
    """True when no business exists yet (no row in ``profiles``)."""
    with psycopg.connect(url) as conn:
        return not conn.execute("SELECT EXISTS (SELECT 1 FROM public.profiles)").fetchone()[0]


def _estimate(bizs: list[Business]) -> int:
    total = 0
    for b in bizs:
        total += 4 + 1 + 4 + 3 + 3 + 30
        total += b.n_returns * 2 + b.n_returns // 5 + b.n_customers + b.n_returns // 6
        chats = max(8, min(600, b.n_returns // 40))
        total += chats * 5 + chats + max(10, min(500, b.n_returns // 20)) + 12
        total += b.n_calls * 2 + min(b.n_calls, max(1, TRANSCRIBED_CALLS // len(bizs))) * 6
    return total


def score_customers(url: str, bizs: list[Business], parallel: bool = False) -> list[str]:
    """Every customer of every seeded business scored by the console's own scorer, acting as the business's admin
    (row-level security applies); one summary line per business. ``parallel``: two businesses at a time."""
    from sqlalchemy import create_engine

    from db.url import to_sqlalchemy
    from db.uow import Actor, UnitOfWork
    from dokani.policies.metrics import refresh_metrics
    from dokani.risk.scoring import recompute_business

    engine = create_engine(to_sqlalchemy(url), pool_size=2, max_overflow=0,
                           connect_args={"prepare_threshold": None, "application_name": "dokani-seed"})

    def one(b: Business) -> str:
        admin = b.user("admin")
        uow = UnitOfWork(Actor(user_id=admin.user_id, business_id=b.id, role=admin.role, email=admin.email), engine)
        try:
            scored = recompute_business(uow).describe()
            refresh_metrics(uow)  # the Policies page's figures, as the worker keeps them
            return f"{b.demo.name}: {scored}"
        finally:
            uow.close()

    try:
        if parallel and len(bizs) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(2) as pool:
                return list(pool.map(one, bizs))
        return [one(b) for b in bizs]
    finally:
        engine.dispose()


SEED_LOCK = 7_310_455_002  # two seeders of one database take turns (the second then finds businesses)


def seed_database(url: str, *, seed: int = 7, size: SeedSize | None = None, progress: bool = True,
                  reset: bool = False, anchor: datetime | None = None, if_empty: bool = False,
                  score: bool = True) -> SeedSummary:
    """Load the demo data set into the (migrated, owner-role) database at ``url``; see the module docstring.

    A database that already has businesses is refused (``SeedError``) unless ``reset`` (replace them) or
    ``if_empty`` (leave it alone: the summary says ``skipped``); both are decided under a lock. With ``score``,
    every customer is then scored by the console's risk scorer (``dokani.risk.scoring.recompute_business``);
    without it the profiles stay "not scored yet".
    """
    if reset and if_empty:
        raise ValueError("reset and if_empty contradict each other")
    size = size or SeedSize()
    started = time.perf_counter()
    anchor = _naive(anchor) if anchor else default_anchor()
    bizs = plan_businesses(size.businesses, size.returns, size.customer_count(), size.call_count())
    summary = SeedSummary(seed=seed, anchor=anchor, businesses=[b.demo.name for b in bizs])
    counts = summary.counts
    bar = None
    # The load allocates millions of short-lived objects next to a large live heap (the triage memo, the audit rows):
    # the cyclic collector's passes over that heap cost more than the load itself. Nothing it builds is a cycle to free.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with psycopg.connect(url) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SEED_LOCK,))
            if not reset and conn.execute("SELECT EXISTS (SELECT 1 FROM public.profiles)").fetchone()[0]:
                if if_empty:
                    summary.skipped = True
                    return summary
                raise SeedError("the database already has businesses; seed with reset=True (--reset) to replace them")
            # Tables emptied in this transaction take COPY ... FREEZE: rows are written frozen, so nothing
            # (ANALYZE, the first queries, autovacuum) has to rewrite every page of a big load afterwards.
            freeze = reset or nothing_to_lose(conn)
            if freeze:
                truncate_seeded(conn)
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=_estimate(bizs), unit="rows", unit_scale=True, desc="seeding", dynamic_ncols=True)
            conn.execute("SET LOCAL synchronous_commit = off")
            # The load's set-based statements (summaries, keys, indexes) are estimated costly enough for JIT, whose
            # compilation then takes longer than running them.
            conn.execute("SET LOCAL jit = off")
            lz4_toast(conn)
            restore = pin_clock_defaults(conn, anchor)
            # Into emptied tables, the maintained summaries are filled once at the end instead of by every COPY.
            summaries = suspend_summary_triggers(conn) if freeze else []
            if size.returns >= BULK_THRESHOLD:
                restore += drop_plain_indexes(conn) + drop_foreign_keys(conn)
            load = Loader(conn, bar, counts, summary.timings, freeze).copy
            for b in bizs:
                b.customers = customer_emails(seed, b)
            load("auth.users", "id, email, created_at, encrypted_password", user_rows(bizs, anchor))
            load("profiles", "id, created_at, business_name, website, subscription_plan, onboarded, business_id",
                 profile_rows(bizs, anchor))
            load("business_members", "business_id, user_id, role, display_name, email, created_at",
                 member_rows(bizs, anchor))
            load("policies", "id, created_at, business_id, version, is_active, effective_date, rules, "
                 "usage_statistics, compliance_metrics, state, retired_at", policy_rows(bizs, anchor))
            for b in bizs:  # the periods each version was in force, as Postgres recorded them (migration 0008)
                b.timeline = PolicyTimeline(conn, b.id)
            load("provider_configs", "id, business_id, provider, config_name, config_data, is_active, created_at, "
                 "updated_at, is_default", persona_rows(bizs, anchor))
            for b in bizs:
                # returns first: the engines decide their statuses, which the orders they cite then show
                sk = b.sk = Skeleton(seed, b, anchor)
                load("return_requests", RETURN_COLUMNS, return_lines(seed, b, sk, anchor), lines=True)
                # the history the engine read beside each return (dokani.triage.history), as the returns pass saw it
                load("return_history", HISTORY_COLUMNS, history_lines(b), lines=True)
                b.asked_of, b.prior_denied = {}, array("i")
                load("mock_orders", "id, order_id, purchase_date, customer_email, product_name, product_category, "
                     "purchase_price, order_status, quantity, order_value, business_id", order_lines(seed, b, sk, anchor),
                     lines=True)
                load("audit_log", AuditWriter.COLUMNS, b.audit.lines(), lines=True)
                b.audit = None
                summary.evaluations += b.triage_calls
                for s in range(6):
                    summary.statuses[STATUSES[s]] = summary.statuses.get(STATUSES[s], 0) + sk.status.count(s)
                del sk
            for b in bizs:
                load("customer_risk_profiles", "id, customer_email, business_id, risk_score, return_frequency, "
                     "fraud_indicators, behavior_patterns, last_updated, created_at", risk_profile_lines(seed, b, anchor),
                     lines=True)
                load("security_events", "id, event_type, business_id, customer_email, return_request_id, severity, "
                     "event_data, resolved, resolved_by, resolved_at, created_at", security_event_rows(seed, b, anchor))
                b.cust_returns = array("i")
                b.flagged = []
                b.first_return = {}
            for b in bizs:
                load("chat_sessions", "id, user_id, business_id, session_name, chat_mode, session_type, is_active, "
                     "metadata, created_at, updated_at, customer_email", chat_rows(seed, b, anchor, False))
                load("chat_messages", "id, session_id, sender, message, message_type, metadata, created_at",
                     chat_rows(seed, b, anchor, True))
                load("agent_performance_logs", "id, agent_type, business_id, interaction_id, session_id, "
                     "performance_metrics, decision_quality_score, response_time_ms, customer_satisfaction_score, "
                     "created_at", agent_log_rows(seed, b, anchor))
                load("conversation_sessions", "id, business_id, customer_email, channel, return_request_id, status, "
                     "participants, conversation_history, current_intent, escalation_level, ai_agent_type, duration, "
                     "created_at, updated_at", conversation_rows(seed, b, anchor))
            cap = max(1, TRANSCRIBED_CALLS // len(bizs))
            for b in bizs:
                calls: list = []
                load("call_sessions", "id, chat_session_id, call_type, provider, external_session_id, status, "
                     "duration_seconds, provider_data, created_at, ended_at, elevenlabs_agent_id, "
                     "elevenlabs_conversation_id, tavus_replica_id, tavus_conversation_id, session_url, webhook_data, "
                     "is_active, persona_config_id, call_quality_score, customer_feedback, updated_at",
                     call_rows(seed, b, anchor, calls))
                load("call_return_links", "call_session_id, business_id, return_request_id, method, detail, linked_by, "
                     "linked_at", link_rows(b, calls))
                load("call_transcripts", "id, call_session_id, speaker, message, timestamp_seconds, created_at, "
                     "is_real_time, processing_status, ai_processed, ai_response_generated, stream_sequence",
                     transcript_rows(seed, b, calls, cap))
                load("call_analytics", "id, call_session_id, provider, metrics, events, created_at",
                     analytics_rows(seed, b, calls))
                load("persona_test_logs", "id, business_id, config_id, test_type, test_content, test_result, success, "
                     "error_message, test_duration_ms, created_at", persona_test_rows(seed, b, anchor))
                b.sk = None
                b.about = {}
            # Personas' bookkeeping follows from the calls and chat sessions that used them.
            conn.execute(
                """
                UPDATE provider_configs p SET usage_count = u.uses, last_used_at = u.last_used
                FROM (
                  SELECT persona_id, count(*) AS uses, max(at) AS last_used FROM (
                    SELECT persona_config_id AS persona_id, created_at AS at FROM call_sessions
                    UNION ALL
                    SELECT CAST(metadata ->> 'persona_id' AS uuid), created_at FROM chat_sessions
                    WHERE metadata ->> 'persona_id' ~ '^[0-9a-f-]{36}$'
                  ) used WHERE persona_id IS NOT NULL GROUP BY persona_id
                ) u
                WHERE p.id = u.persona_id
                """
            )
            for table in SEQUENCED:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('public.{table}', 'id'), "
                    f"GREATEST((SELECT max(id) FROM public.{table}), 1))"
                )
            if summaries:
                if bar is not None:
                    bar.set_postfix_str("summaries")
                t = time.perf_counter()
                for statement in summaries:
                    conn.execute(statement)
                fill_summaries(conn)
                summary.timings["summaries"] = time.perf_counter() - t
            if restore:
                if bar is not None:
                    bar.set_postfix_str("restoring indexes, keys, defaults")
                conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
                t = time.perf_counter()
                for statement in restore:
                    conn.execute(statement)
                summary.timings["restore"] = time.perf_counter() - t
            if bar is not None:
                bar.total = bar.n
                bar.set_postfix_str("commit")
            t = time.perf_counter()
            conn.commit()
            summary.timings["commit"] = time.perf_counter() - t
        # fresh statistics, so the first queries on the new rows plan well
        if bar is not None:
            bar.set_postfix_str("statistics")
        t = time.perf_counter()
        analyze(url, SEEDED_TABLES)
        summary.timings["analyze"] = time.perf_counter() - t
        if score:
            if bar is not None:
                bar.set_postfix_str("risk scores")
            t = time.perf_counter()
            summary.scored = score_customers(url, bizs, parallel=size.returns >= BULK_THRESHOLD)
            summary.timings["risk scoring"] = time.perf_counter() - t
    finally:
        if collecting:
            gc.enable()
        if bar is not None:
            bar.close()
    summary.seconds = time.perf_counter() - started
    return summary
