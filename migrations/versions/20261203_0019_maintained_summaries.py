"""Maintained summaries for the Overview and Calls pages: kept current by Postgres in the writer's own transaction.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-03

At a million returns the overview's figures took seconds when recomputed from ``return_requests`` on every rerun.
They now read small tables that statement-level triggers keep exact, whoever writes (triage, a decision, a bulk
decision, an import, the seed's COPY, hand-written SQL):

- ``return_daily_summary``: live returns (``NOT is_test``, with a ``created_at``) per business, day asked (UTC),
  status, AI recommendation, category, decided by a person (``admin_decision_at`` set) and with a stored rule trace:
  how many, and the sum of their order value. Returns, decisions, rates, refunded value, per day, by category,
  agreement with the AI and the weekly trend are sums of it.
- ``return_rule_daily_summary``: per business, day asked, rule, clause outcome (``pass`` / ``violation``) and the
  person's outcome (``approve`` / ``deny``): how many returns decided by a person carry that clause in their trace
  (each return once per rule and outcome). Override rate by rule is a sum of it.
- ``return_decision_times``: one narrow row per decided live return (business, day asked, hours to decision and
  its whole hour), and ``return_decision_hours``: how many per business, day asked and whole hour. The median and
  90th percentile find the hour holding each rank in the second and read that hour's exact values from the first
  (a covering index), instead of sorting every decided return of the period.
- ``order_daily_summary``: orders (``mock_orders`` rows) per business and day placed, and how many of them have a
  live return (the return rate). Kept by triggers on ``mock_orders`` and on ``return_requests``.
- ``call_facts``: one row per call with its business (``call_sessions`` has none: it is derived from the persona,
  chat session or conversation the call names, as row-level security does), its filter columns, and what the
  Calls page reads of its latest ``call_analytics`` row, whether it is linked to a return and whether its
  conversation was escalated. Kept by triggers on ``call_sessions``, ``call_analytics``, ``call_return_links`` and
  ``ai_conversation_state``.

Each trigger is ``AFTER ... FOR EACH STATEMENT`` with transition tables (``REFERENCING OLD TABLE / NEW TABLE``):
one set-based statement per writer's statement, however many rows it touched. The functions are
``SECURITY DEFINER`` with a fixed ``search_path``; ``authenticated`` may only read the tables, through row-level
security by business (the same tenant check as every table with a ``business_id``). A ``TRUNCATE`` of a base table
empties what follows from it. Rows that fall to zero stay (readers skip them); the upserts lock summary rows in
key order, so two writers never deadlock on them.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

TENANT = "business_id = ANY (CAST((SELECT dokani.member_business_ids()) AS uuid[]))"
TABLES = ("return_daily_summary", "return_rule_daily_summary", "return_decision_times", "return_decision_hours",
          "order_daily_summary",
          "call_facts")

# The expressions the summaries are keyed by, over a row of return_requests called `r`.
LIVE = "NOT r.is_test AND r.created_at IS NOT NULL"
TRACED = "coalesce(jsonb_typeof(r.triage_details -> 'rules_fired') = 'array', false)"
PERSON_DECISION = "r.admin_decision_at IS NOT NULL AND r.status IN ('approved', 'denied', 'completed')"
PERSON_OUTCOME = "CASE WHEN r.status = 'denied' THEN 'deny' ELSE 'approve' END"
DECIDED_AT = ("CASE WHEN r.status = 'denied' THEN coalesce(r.admin_decision_at, r.denied_at) "
              "WHEN r.status IN ('approved', 'completed') THEN coalesce(r.admin_decision_at, r.approved_at) END")
HOURS = f"extract(epoch FROM ({DECIDED_AT}) - r.created_at) / 3600.0"
CLAUSES = ("SELECT DISTINCT e ->> 'rule' AS rule, e ->> 'outcome' AS outcome "
           "FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.triage_details -> 'rules_fired') = 'array' "
           "THEN r.triage_details -> 'rules_fired' ELSE '[]'::jsonb END) e "
           "WHERE e ->> 'outcome' IN ('pass', 'violation') AND e ->> 'rule' IS NOT NULL")


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def _return_rows(source: str, sign: str) -> str:
    """(keys, sign, value) of the live returns in `source` (a transition table or the table itself)."""
    return (f"SELECT r.business_id, CAST(r.created_at AS date) AS day, r.status, r.ai_recommendation AS recommendation, "
            f"r.product_category AS category, r.admin_decision_at IS NOT NULL AS person_decided, {TRACED} AS traced, "
            f"{sign} AS sign, {sign} * coalesce(r.order_value, 0) AS value FROM {source} r WHERE {LIVE}")


def _rule_rows(source: str, sign: str) -> str:
    return (f"SELECT r.business_id, CAST(r.created_at AS date) AS day, c.rule, c.outcome, "
            f"{PERSON_OUTCOME} AS person_outcome, {sign} AS sign FROM {source} r CROSS JOIN LATERAL ({CLAUSES}) c "
            f"WHERE {LIVE} AND {PERSON_DECISION} AND {TRACED}")


def _decision_rows(source: str) -> str:
    return (f"SELECT r.id, r.business_id, CAST(r.created_at AS date) AS day, r.created_at, {HOURS} AS hours, "
            f"CAST(floor({HOURS}) AS bigint) AS bucket "
            f"FROM {source} r WHERE {LIVE} AND r.status IN ('approved', 'denied', 'completed') "
            f"AND ({DECIDED_AT}) IS NOT NULL")


def _hours_upsert(deltas: str) -> str:
    """Add the signed decision rows of `deltas` (with a ``sign``) to ``return_decision_hours``, in key order."""
    return f"""
      INSERT INTO public.return_decision_hours AS s (business_id, day, bucket, returns)
      SELECT business_id, day, bucket, sum(sign) FROM ({deltas}) d
      GROUP BY 1, 2, 3 HAVING sum(sign) <> 0 ORDER BY 1, 2, 3
      ON CONFLICT (business_id, day, bucket) DO UPDATE SET returns = s.returns + EXCLUDED.returns;
    """


def _signed(rows: str, sign: str) -> str:
    return f"SELECT business_id, day, bucket, {sign} AS sign FROM ({rows}) x"


def _upserts(deltas: str, rule_deltas: str) -> str:
    """Add the signed rows of `deltas` / `rule_deltas` to the two summaries, in key order."""
    return f"""
      INSERT INTO public.return_daily_summary AS s
             (business_id, day, status, recommendation, category, person_decided, traced, returns, order_value)
      SELECT business_id, day, status, recommendation, category, person_decided, traced, sum(sign), sum(value)
      FROM ({deltas}) d
      GROUP BY business_id, day, status, recommendation, category, person_decided, traced
      HAVING sum(sign) <> 0 OR sum(value) <> 0
      ORDER BY business_id, day, status, recommendation, category, person_decided, traced
      ON CONFLICT (business_id, day, status, recommendation, category, person_decided, traced)
      DO UPDATE SET returns = s.returns + EXCLUDED.returns, order_value = s.order_value + EXCLUDED.order_value;

      INSERT INTO public.return_rule_daily_summary AS s (business_id, day, rule, outcome, person_outcome, returns)
      SELECT business_id, day, rule, outcome, person_outcome, sum(sign)
      FROM ({rule_deltas}) d
      GROUP BY business_id, day, rule, outcome, person_outcome
      HAVING sum(sign) <> 0
      ORDER BY business_id, day, md5(rule), outcome, person_outcome
      ON CONFLICT (business_id, day, (md5(rule)), outcome, person_outcome)
      DO UPDATE SET returns = s.returns + EXCLUDED.returns;
    """


def _order_flags(op_name: str) -> str:
    """Add to ``order_daily_summary`` the orders whose "has a live return" changed in this statement.

    Candidates are the (business, order) pairs of the live returns the statement inserted or deleted, or whose
    business, order or ``is_test`` an update changed. Set-based (joins, no per-row probes), so the seed's COPY of a
    quarter of a million returns (whose plain indexes are dropped while it loads) costs one hash join."""
    changed = ("FROM old_rows o JOIN new_rows n ON n.id = o.id "
               "WHERE (o.business_id, o.order_id, o.is_test) IS DISTINCT FROM (n.business_id, n.order_id, n.is_test)")
    candidates = {
        "insert": "SELECT business_id, order_id FROM new_rows WHERE NOT is_test",
        "delete": "SELECT business_id, order_id FROM old_rows WHERE NOT is_test",
        "update": f"SELECT o.business_id, o.order_id {changed} UNION SELECT n.business_id, n.order_id {changed}",
    }[op_name]
    added = ("SELECT business_id, order_id, count(*) AS n FROM new_rows WHERE NOT is_test GROUP BY 1, 2"
             if op_name != "delete" else "SELECT NULL::uuid AS business_id, NULL::text AS order_id, 0 AS n WHERE false")
    removed = ("SELECT business_id, order_id, count(*) AS n FROM old_rows WHERE NOT is_test GROUP BY 1, 2"
               if op_name != "insert" else "SELECT NULL::uuid AS business_id, NULL::text AS order_id, 0 AS n WHERE false")
    return f"""
      WITH pairs AS (SELECT DISTINCT business_id, order_id FROM ({candidates}) c WHERE order_id IS NOT NULL),
      live AS (SELECT p.business_id, p.order_id, count(x.id) AS now
               FROM pairs p LEFT JOIN public.return_requests x
                 ON x.business_id = p.business_id AND x.order_id = p.order_id AND NOT x.is_test
               GROUP BY 1, 2),
      flags AS (SELECT l.business_id, l.order_id, l.now > 0 AS after,
                       l.now - coalesce(a.n, 0) + coalesce(r.n, 0) > 0 AS before
                FROM live l
                LEFT JOIN ({added}) a ON a.business_id = l.business_id AND a.order_id = l.order_id
                LEFT JOIN ({removed}) r ON r.business_id = l.business_id AND r.order_id = l.order_id)
      INSERT INTO public.order_daily_summary AS s (business_id, day, orders, returned_orders)
      SELECT o.business_id, CAST(o.purchase_date AS date), 0, sum(CASE WHEN f.after THEN 1 ELSE -1 END)
      FROM flags f JOIN public.mock_orders o ON o.business_id = f.business_id AND o.order_id = f.order_id
      WHERE f.before IS DISTINCT FROM f.after AND o.purchase_date IS NOT NULL
      GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (business_id, day) DO UPDATE SET returned_orders = s.returned_orders + EXCLUDED.returned_orders;
    """


def _orders_with_live_returns(source: str) -> str:
    """Per business and day placed: the orders of `source` and how many have a live return (set-based)."""
    return f"""
      SELECT p.business_id, CAST(p.purchase_date AS date) AS day, count(*) AS orders, count(l.order_id) AS returned
      FROM {source} p
      LEFT JOIN (SELECT DISTINCT x.business_id, x.order_id FROM public.return_requests x
                 JOIN (SELECT DISTINCT business_id, order_id FROM {source}) q
                   ON q.business_id = x.business_id AND q.order_id = x.order_id
                 WHERE NOT x.is_test) l ON l.business_id = p.business_id AND l.order_id = p.order_id
      WHERE p.purchase_date IS NOT NULL AND p.business_id IS NOT NULL
      GROUP BY 1, 2
    """


def _returns_functions() -> None:
    times_upsert = f"""
      INSERT INTO public.return_decision_times AS t (return_id, business_id, created_at, hours, bucket)
      SELECT id, business_id, created_at, hours, bucket FROM ({_decision_rows('new_rows')}) d ORDER BY id
      ON CONFLICT (return_id) DO UPDATE SET business_id = EXCLUDED.business_id, created_at = EXCLUDED.created_at,
        hours = EXCLUDED.hours, bucket = EXCLUDED.bucket
      WHERE (t.business_id, t.created_at, t.hours) IS DISTINCT FROM (EXCLUDED.business_id, EXCLUDED.created_at, EXCLUDED.hours);
    """
    order_upsert = """
      INSERT INTO public.order_daily_summary AS s (business_id, day, orders, returned_orders)
      SELECT business_id, day, {sign}orders, {sign}returned FROM ({rows}) d ORDER BY 1, 2
      ON CONFLICT (business_id, day) DO UPDATE SET orders = s.orders + EXCLUDED.orders,
        returned_orders = s.returned_orders + EXCLUDED.returned_orders;
    """
    _x(
        f"""
        CREATE OR REPLACE FUNCTION dokani.return_summaries_on_insert() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          {_upserts(_return_rows('new_rows', '1'), _rule_rows('new_rows', '1'))}
          {times_upsert}
          {_hours_upsert(_signed(_decision_rows('new_rows'), '1'))}
          {_order_flags('insert')}
          RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION dokani.return_summaries_on_delete() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          {_upserts(_return_rows('old_rows', '-1'), _rule_rows('old_rows', '-1'))}
          DELETE FROM public.return_decision_times t USING old_rows o WHERE t.return_id = o.id;
          {_hours_upsert(_signed(_decision_rows('old_rows'), '-1'))}
          {_order_flags('delete')}
          RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION dokani.return_summaries_on_update() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          {_upserts(_return_rows('new_rows', '1') + ' UNION ALL ' + _return_rows('old_rows', '-1'),
                    _rule_rows('new_rows', '1') + ' UNION ALL ' + _rule_rows('old_rows', '-1'))}
          DELETE FROM public.return_decision_times t USING old_rows o
          WHERE t.return_id = o.id AND o.id NOT IN (SELECT d.id FROM ({_decision_rows('new_rows')}) d);
          {times_upsert}
          {_hours_upsert(_signed(_decision_rows('new_rows'), '1') + ' UNION ALL ' + _signed(_decision_rows('old_rows'), '-1'))}
          {_order_flags('update')}
          RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION dokani.return_summaries_on_truncate() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          TRUNCATE public.return_daily_summary, public.return_rule_daily_summary, public.return_decision_times,
                   public.return_decision_hours;
          UPDATE public.order_daily_summary SET returned_orders = 0 WHERE returned_orders <> 0;
          RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION dokani.order_summary_on_insert() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          {order_upsert.format(sign='', rows=_orders_with_live_returns('new_rows'))}
          RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION dokani.order_summary_on_delete() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          {order_upsert.format(sign='-', rows=_orders_with_live_returns('old_rows'))}
          RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION dokani.order_summary_on_update() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          {order_upsert.format(sign='-', rows=_orders_with_live_returns('old_rows'))}
          {order_upsert.format(sign='', rows=_orders_with_live_returns('new_rows'))}
          RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION dokani.order_summary_on_truncate() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          TRUNCATE public.order_daily_summary;
          RETURN NULL;
        END $$;
        """
    )


def _returns_tables() -> None:
    _x(
        """
        CREATE TABLE IF NOT EXISTS public.return_daily_summary (
            business_id uuid NOT NULL,
            day date NOT NULL,
            status text,
            recommendation text,
            category text,
            person_decided boolean NOT NULL,
            traced boolean NOT NULL,
            returns bigint NOT NULL,
            order_value numeric NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS return_daily_summary_key ON public.return_daily_summary
            (business_id, day, status, recommendation, category, person_decided, traced) NULLS NOT DISTINCT;

        CREATE TABLE IF NOT EXISTS public.return_rule_daily_summary (
            business_id uuid NOT NULL,
            day date NOT NULL,
            rule text NOT NULL,
            outcome text NOT NULL,
            person_outcome text NOT NULL,
            returns bigint NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS return_rule_daily_summary_key ON public.return_rule_daily_summary
            (business_id, day, (md5(rule)), outcome, person_outcome);

        CREATE TABLE IF NOT EXISTS public.return_decision_times (
            return_id bigint PRIMARY KEY,
            business_id uuid NOT NULL,
            created_at timestamp NOT NULL,
            hours double precision NOT NULL,
            bucket bigint NOT NULL
        );
        CREATE INDEX IF NOT EXISTS return_decision_times_hour_idx
            ON public.return_decision_times (business_id, bucket, created_at) INCLUDE (hours);

        CREATE TABLE IF NOT EXISTS public.return_decision_hours (
            business_id uuid NOT NULL,
            day date NOT NULL,
            bucket bigint NOT NULL,
            returns bigint NOT NULL,
            PRIMARY KEY (business_id, day, bucket)
        );

        CREATE TABLE IF NOT EXISTS public.order_daily_summary (
            business_id uuid NOT NULL,
            day date NOT NULL,
            orders bigint NOT NULL,
            returned_orders bigint NOT NULL,
            PRIMARY KEY (business_id, day)
        );
        """
    )


def _backfill_returns() -> None:
    _x("TRUNCATE public.return_daily_summary, public.return_rule_daily_summary, public.return_decision_times, "
       "public.return_decision_hours, public.order_daily_summary")
    _x(_upserts(_return_rows("public.return_requests", "1"), _rule_rows("public.return_requests", "1")))
    _x(f"INSERT INTO public.return_decision_times (return_id, business_id, created_at, hours, bucket) "
       f"SELECT id, business_id, created_at, hours, bucket FROM ({_decision_rows('public.return_requests')}) d")
    _x("INSERT INTO public.return_decision_hours (business_id, day, bucket, returns) "
       "SELECT business_id, CAST(created_at AS date), bucket, count(*) FROM public.return_decision_times GROUP BY 1, 2, 3")
    _x(
        """
        INSERT INTO public.order_daily_summary (business_id, day, orders, returned_orders)
        SELECT o.business_id, CAST(o.purchase_date AS date), count(*), count(*) FILTER (WHERE l.order_id IS NOT NULL)
        FROM public.mock_orders o
        LEFT JOIN (SELECT DISTINCT business_id, order_id FROM public.return_requests WHERE NOT is_test) l
          ON l.business_id = o.business_id AND l.order_id = o.order_id
        WHERE o.purchase_date IS NOT NULL AND o.business_id IS NOT NULL
        GROUP BY 1, 2
        """
    )


def _returns_triggers() -> None:
    for event, name, ref in (("INSERT", "insert", "NEW TABLE AS new_rows"),
                             ("UPDATE", "update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                             ("DELETE", "delete", "OLD TABLE AS old_rows")):
        _x(f"DROP TRIGGER IF EXISTS return_summaries_{name} ON public.return_requests")
        _x(f"CREATE TRIGGER return_summaries_{name} AFTER {event} ON public.return_requests "
           f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION dokani.return_summaries_on_{name}()")
        _x(f"DROP TRIGGER IF EXISTS order_summary_{name} ON public.mock_orders")
        _x(f"CREATE TRIGGER order_summary_{name} AFTER {event} ON public.mock_orders "
           f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION dokani.order_summary_on_{name}()")
    _x("DROP TRIGGER IF EXISTS return_summaries_truncate ON public.return_requests")
    _x("CREATE TRIGGER return_summaries_truncate AFTER TRUNCATE ON public.return_requests "
       "FOR EACH STATEMENT EXECUTE FUNCTION dokani.return_summaries_on_truncate()")
    _x("DROP TRIGGER IF EXISTS order_summary_truncate ON public.mock_orders")
    _x("CREATE TRIGGER order_summary_truncate AFTER TRUNCATE ON public.mock_orders "
       "FOR EACH STATEMENT EXECUTE FUNCTION dokani.order_summary_on_truncate()")


def _read_only(table: str) -> None:
    _x(f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
    _x(f"DROP POLICY IF EXISTS dokani_read ON public.{table}")
    _x(f"CREATE POLICY dokani_read ON public.{table} FOR SELECT TO authenticated USING ({TENANT})")
    _x(f"REVOKE ALL ON public.{table} FROM PUBLIC, authenticated")
    _x(f"GRANT SELECT ON public.{table} TO authenticated")


# ---- calls ---------------------------------------------------------------------------------------------------------

_NUM = "CASE WHEN jsonb_typeof(a.metrics -> '{key}') = 'number' THEN (a.metrics ->> '{key}')::numeric END"


def _refresh_call_facts(ids: str) -> str:
    """Recompute the facts of the calls whose ids `ids` selects (a query with one column, ``id``): upsert the calls
    that exist and belong to one business, delete the others. Set-based (joins only), so a COPY of every call of a
    business costs a few hash joins, with or without the plain indexes the seed drops while it loads."""
    return f"""
      WITH ids AS (SELECT DISTINCT id FROM ({ids}) i WHERE id IS NOT NULL),
      latest AS (
        SELECT DISTINCT ON (a.call_session_id) a.call_session_id, a.metrics
        FROM public.call_analytics a JOIN ids ON ids.id = a.call_session_id
        ORDER BY a.call_session_id, a.created_at DESC, a.id DESC
      ),
      evaluations AS (
        SELECT a.call_session_id, array_agg(DISTINCT a.metrics ->> 'call_successful') AS values
        FROM public.call_analytics a JOIN ids ON ids.id = a.call_session_id
        WHERE a.metrics ->> 'call_successful' IS NOT NULL GROUP BY 1
      ),
      linked AS (
        SELECT DISTINCT l.call_session_id, l.business_id
        FROM public.call_return_links l JOIN ids ON ids.id = l.call_session_id WHERE l.return_request_id IS NOT NULL
      ),
      calls AS (
        SELECT c.*, p.business_id AS persona_business, ch.business_id AS chat_business,
               cv.business_id AS conversation_business, st.escalation_level
        FROM public.call_sessions c JOIN ids ON ids.id = c.id
        LEFT JOIN public.provider_configs p ON p.id = c.persona_config_id
        LEFT JOIN public.chat_sessions ch ON ch.id = c.chat_session_id
        LEFT JOIN public.ai_conversation_state st ON st.id = c.ai_conversation_state_id
        LEFT JOIN public.conversation_sessions cv ON cv.id = st.session_id
      ),
      owned AS (  -- the one business every parent the call names belongs to (dokani.business_of_call_parents)
        SELECT c.*, coalesce(c.persona_business, c.chat_business, c.conversation_business) AS business_id
        FROM calls c
        WHERE (c.persona_config_id IS NOT NULL OR c.chat_session_id IS NOT NULL OR c.ai_conversation_state_id IS NOT NULL)
          AND (c.persona_config_id IS NULL OR c.persona_business IS NOT NULL)
          AND (c.chat_session_id IS NULL OR c.chat_business IS NOT NULL)
          AND (c.ai_conversation_state_id IS NULL OR c.conversation_business IS NOT NULL)
          AND (c.persona_business IS NULL OR c.chat_business IS NULL OR c.persona_business = c.chat_business)
          AND (c.persona_business IS NULL OR c.conversation_business IS NULL
               OR c.persona_business = c.conversation_business)
          AND (c.chat_business IS NULL OR c.conversation_business IS NULL OR c.chat_business = c.conversation_business)
      ),
      gone AS (
        DELETE FROM public.call_facts f USING ids
        WHERE f.call_id = ids.id AND NOT EXISTS (SELECT 1 FROM owned o WHERE o.id = ids.id)
      )
      INSERT INTO public.call_facts AS f (
        call_id, business_id, created_at, provider, call_type, status, persona_config_id, duration_seconds,
        call_quality_score, has_analytics, evaluation, evaluations, resolution, has_resolution, latency_p50_ms,
        latency_p95_ms, sentiment, cost, cost_unit, criteria, conversation_escalated, linked)
      SELECT o.id, o.business_id, o.created_at, o.provider, o.call_type, o.status, o.persona_config_id,
             o.duration_seconds, o.call_quality_score, a.call_session_id IS NOT NULL,
             a.metrics ->> 'call_successful', coalesce(e.values, '{{}}'), a.metrics ->> 'resolution',
             coalesce(a.metrics ? 'resolution', false),
             {_NUM.format(key='latency_ms_p50')}, {_NUM.format(key='latency_ms_p95')}, {_NUM.format(key='sentiment')},
             {_NUM.format(key='cost')}, CASE WHEN jsonb_typeof(a.metrics -> 'cost') = 'number'
                                           THEN coalesce(a.metrics ->> 'cost_unit', 'unknown unit') END,
             CASE WHEN jsonb_typeof(a.metrics -> 'evaluation') = 'object' THEN a.metrics -> 'evaluation' END,
             coalesce(o.escalation_level > 0, false),
             EXISTS (SELECT 1 FROM linked l WHERE l.call_session_id = o.id AND l.business_id = o.business_id)
      FROM owned o
      LEFT JOIN latest a ON a.call_session_id = o.id
      LEFT JOIN evaluations e ON e.call_session_id = o.id
      ORDER BY o.id
      ON CONFLICT (call_id) DO UPDATE SET
        business_id = EXCLUDED.business_id, created_at = EXCLUDED.created_at, provider = EXCLUDED.provider,
        call_type = EXCLUDED.call_type, status = EXCLUDED.status, persona_config_id = EXCLUDED.persona_config_id,
        duration_seconds = EXCLUDED.duration_seconds, call_quality_score = EXCLUDED.call_quality_score,
        has_analytics = EXCLUDED.has_analytics, evaluation = EXCLUDED.evaluation, evaluations = EXCLUDED.evaluations,
        resolution = EXCLUDED.resolution, has_resolution = EXCLUDED.has_resolution,
        latency_p50_ms = EXCLUDED.latency_p50_ms, latency_p95_ms = EXCLUDED.latency_p95_ms,
        sentiment = EXCLUDED.sentiment, cost = EXCLUDED.cost, cost_unit = EXCLUDED.cost_unit,
        criteria = EXCLUDED.criteria, conversation_escalated = EXCLUDED.conversation_escalated,
        linked = EXCLUDED.linked;
    """


# table -> (the column naming the call in its transition rows, how the affected calls are found)
CALL_SOURCES = {
    "call_sessions": "id",
    "call_analytics": "call_session_id",
    "call_return_links": "call_session_id",
}


def _calls_tables() -> None:
    _x(
        """
        CREATE TABLE IF NOT EXISTS public.call_facts (
            call_id uuid PRIMARY KEY,
            business_id uuid NOT NULL,
            created_at timestamp,
            provider text,
            call_type text,
            status text,
            persona_config_id uuid,
            duration_seconds integer,
            call_quality_score numeric,
            has_analytics boolean NOT NULL,
            evaluation text,
            evaluations text[] NOT NULL,
            resolution text,
            has_resolution boolean NOT NULL,
            latency_p50_ms numeric,
            latency_p95_ms numeric,
            sentiment numeric,
            cost numeric,
            cost_unit text,
            criteria jsonb,
            conversation_escalated boolean NOT NULL,
            linked boolean NOT NULL
        );
        CREATE INDEX IF NOT EXISTS call_facts_period_idx ON public.call_facts (business_id, created_at DESC, call_id DESC);
        CREATE INDEX IF NOT EXISTS call_sessions_state_idx ON public.call_sessions (ai_conversation_state_id);
        -- the overview's "open security events": a count of the unresolved ones, not of every event
        CREATE INDEX IF NOT EXISTS security_events_open_idx ON public.security_events (business_id)
            WHERE NOT coalesce(resolved, false);
        """
    )


def _calls_functions_and_triggers() -> None:
    for table, column in CALL_SOURCES.items():
        for event, ref, source in (
            ("INSERT", "NEW TABLE AS new_rows", f"SELECT {column} AS id FROM new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
             f"SELECT {column} AS id FROM new_rows UNION ALL SELECT {column} FROM old_rows"),
            ("DELETE", "OLD TABLE AS old_rows", f"SELECT {column} AS id FROM old_rows"),
        ):
            name = f"{table}_facts_on_{event.lower()}"
            _x(f"""
                CREATE OR REPLACE FUNCTION dokani.{name}() RETURNS trigger
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
                BEGIN
                  {_refresh_call_facts(source)}
                  RETURN NULL;
                END $$;
                DROP TRIGGER IF EXISTS call_facts_{event.lower()} ON public.{table};
                CREATE TRIGGER call_facts_{event.lower()} AFTER {event} ON public.{table}
                  REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION dokani.{name}();
            """)
    # A conversation's escalation level is read through ai_conversation_state: its calls follow a change of it.
    for event, ref, source in (
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
         "SELECT c.id FROM public.call_sessions c JOIN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id "
         "WHERE n.escalation_level IS DISTINCT FROM o.escalation_level OR n.session_id IS DISTINCT FROM o.session_id) s "
         "ON c.ai_conversation_state_id = s.id"),
        ("DELETE", "OLD TABLE AS old_rows",
         "SELECT c.id FROM public.call_sessions c JOIN old_rows s ON c.ai_conversation_state_id = s.id"),
    ):
        name = f"ai_conversation_state_facts_on_{event.lower()}"
        _x(f"""
            CREATE OR REPLACE FUNCTION dokani.{name}() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            BEGIN
              {_refresh_call_facts(source)}
              RETURN NULL;
            END $$;
            DROP TRIGGER IF EXISTS call_facts_{event.lower()} ON public.ai_conversation_state;
            CREATE TRIGGER call_facts_{event.lower()} AFTER {event} ON public.ai_conversation_state
              REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION dokani.{name}();
        """)
    _x(f"""
        CREATE OR REPLACE FUNCTION dokani.call_facts_on_truncate() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          IF TG_TABLE_NAME = 'call_sessions' THEN
            TRUNCATE public.call_facts;
          ELSE  -- a call's analytics or links gone: every call's facts follow
            {_refresh_call_facts("SELECT id FROM public.call_sessions UNION ALL SELECT call_id FROM public.call_facts")}
          END IF;
          RETURN NULL;
        END $$;
    """)
    for table in ("call_sessions", "call_analytics", "call_return_links"):
        _x(f"DROP TRIGGER IF EXISTS call_facts_truncate ON public.{table}")
        _x(f"CREATE TRIGGER call_facts_truncate AFTER TRUNCATE ON public.{table} "
           f"FOR EACH STATEMENT EXECUTE FUNCTION dokani.call_facts_on_truncate()")


def _backfill_calls() -> None:
    _x("TRUNCATE public.call_facts")
    _x(_refresh_call_facts("SELECT id FROM public.call_sessions"))


def upgrade() -> None:
    _returns_tables()
    _returns_functions()
    _returns_triggers()
    _backfill_returns()
    _calls_tables()
    _calls_functions_and_triggers()
    _backfill_calls()
    for table in TABLES:
        _read_only(table)


def downgrade() -> None:
    for name in ("insert", "update", "delete", "truncate"):
        _x(f"DROP TRIGGER IF EXISTS return_summaries_{name} ON public.return_requests")
        _x(f"DROP TRIGGER IF EXISTS order_summary_{name} ON public.mock_orders")
    _x("""
        DROP FUNCTION IF EXISTS dokani.return_summaries_on_insert();
        DROP FUNCTION IF EXISTS dokani.return_summaries_on_update();
        DROP FUNCTION IF EXISTS dokani.return_summaries_on_delete();
        DROP FUNCTION IF EXISTS dokani.return_summaries_on_truncate();
        DROP FUNCTION IF EXISTS dokani.order_summary_on_insert();
        DROP FUNCTION IF EXISTS dokani.order_summary_on_update();
        DROP FUNCTION IF EXISTS dokani.order_summary_on_delete();
        DROP FUNCTION IF EXISTS dokani.order_summary_on_truncate();
    """)
    for table in (*CALL_SOURCES, "ai_conversation_state"):
        for event in ("insert", "update", "delete", "truncate"):
            _x(f"DROP TRIGGER IF EXISTS call_facts_{event} ON public.{table}")
            _x(f"DROP FUNCTION IF EXISTS dokani.{table}_facts_on_{event}()")
    _x("DROP FUNCTION IF EXISTS dokani.call_facts_on_truncate()")
    _x("DROP INDEX IF EXISTS public.call_sessions_state_idx")
    _x("DROP INDEX IF EXISTS public.security_events_open_idx")
    for table in TABLES:
        _x(f"DROP TABLE IF EXISTS public.{table}")
