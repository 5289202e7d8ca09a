"""Return queue and triage: indexes, search, triage bookkeeping.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

- Triage bookkeeping on ``return_requests`` (the console's own columns, not in the schema document):
  ``ai_confidence`` and ``triage_details`` (every rule clause the engine checked, with its inputs), so the
  review panel can explain a recommendation exactly as it was made.
- Fast substring search on order id, customer email and public id: trigram GIN indexes when ``pg_trgm``
  is available (created only if the server ships it and this role may create it); otherwise the queue
  still searches, by scanning the business's rows.
- Indexes matching the queue's sorts (age, risk, value) within a business and status.
- One open security event per return and event type (unique where the existing rows allow it).
- Statuses are not constrained in the database: an adopted database may hold statuses this console
  does not know, and rows must stay editable. The service layer refuses illegal transitions.
"""
from __future__ import annotations

import logging

from alembic import op
from sqlalchemy import text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.dokani")


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def _try(sql: str, what: str) -> bool:
    conn = op.get_bind()
    try:
        with conn.begin_nested():
            conn.execute(text(sql))
        return True
    except Exception as exc:  # noqa: BLE001 - a missing extension or odd adopted rows must not stop the upgrade
        log.warning("return queue: could not %s (%s); continuing without it", what, exc.__class__.__name__)
        return False


def _trgm_available() -> bool:
    conn = op.get_bind()
    if conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return True
    if not conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first():
        return False
    return _try("CREATE EXTENSION IF NOT EXISTS pg_trgm", "create extension pg_trgm")


def upgrade() -> None:
    _x(
        """
        ALTER TABLE public.return_requests ADD COLUMN IF NOT EXISTS ai_confidence numeric;
        ALTER TABLE public.return_requests ADD COLUMN IF NOT EXISTS triage_details jsonb;
        """
    )

    # The queue's keyset orders (oldest, riskiest, most valuable), exactly as ``dokani.returns.filters`` writes them;
    # status filters use 0002's (business_id, status, created_at, id).
    _x(
        """
        CREATE INDEX IF NOT EXISTS return_requests_queue_age_idx
            ON public.return_requests (business_id, (coalesce(created_at, TIMESTAMP '1970-01-01')), id);
        CREATE INDEX IF NOT EXISTS return_requests_queue_risk_idx
            ON public.return_requests (business_id, (coalesce(risk_score, 0)), id);
        CREATE INDEX IF NOT EXISTS return_requests_queue_value_idx
            ON public.return_requests (business_id, (coalesce(order_value, 0)), id);
        CREATE INDEX IF NOT EXISTS audit_log_recent_idx ON public.audit_log (entity, entity_id, id DESC);
        """
    )
    # The reason filter reads the customer's words the way the triage engine does (one CASE expression
    # built from dokani.triage.engine.REASON_KEYWORDS). Indexed as of this revision: if the keywords change later,
    # the filter stays correct and only loses this index until a revision rebuilds it.
    from dokani.returns.filters import reason_code_sql

    _try(
        "CREATE INDEX IF NOT EXISTS return_requests_reason_code_idx ON public.return_requests "
        f"(business_id, ({reason_code_sql('reason_for_return')}))",
        "index the reason code",
    )

    if _trgm_available():
        schema = op.get_bind().execute(
            text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")
        ).scalar()
        ops = f"{schema}.gin_trgm_ops"
        for name, expression in (
            ("order_id", "order_id"),
            ("customer_email", "lower(customer_email)"),
            ("public_id", "(CAST(public_id AS text))"),
        ):
            _try(
                f"CREATE INDEX IF NOT EXISTS return_requests_{name}_trgm_idx "
                f"ON public.return_requests USING gin ({expression} {ops})",
                f"create trigram index on {name}",
            )
    else:
        log.warning("return queue: pg_trgm is not available; substring search scans instead of using an index")

    # One security event per return and type. Adopted duplicates keep a plain index instead.
    if not _try(
        "CREATE UNIQUE INDEX IF NOT EXISTS security_events_return_type_key "
        "ON public.security_events (return_request_id, event_type) WHERE return_request_id IS NOT NULL",
        "make security events unique per return and type",
    ):
        _x(
            "CREATE INDEX IF NOT EXISTS security_events_return_type_key "
            "ON public.security_events (return_request_id, event_type)"
        )


def downgrade() -> None:
    _x(
        """
        DROP INDEX IF EXISTS public.security_events_return_type_key;
        DROP INDEX IF EXISTS public.return_requests_order_id_trgm_idx;
        DROP INDEX IF EXISTS public.return_requests_customer_email_trgm_idx;
        DROP INDEX IF EXISTS public.return_requests_public_id_trgm_idx;
        DROP INDEX IF EXISTS public.return_requests_queue_risk_idx;
        DROP INDEX IF EXISTS public.return_requests_queue_value_idx;
        DROP INDEX IF EXISTS public.return_requests_queue_age_idx;
        DROP INDEX IF EXISTS public.audit_log_recent_idx;
        DROP INDEX IF EXISTS public.return_requests_reason_code_idx;
        ALTER TABLE public.return_requests DROP COLUMN IF EXISTS triage_details;
        ALTER TABLE public.return_requests DROP COLUMN IF EXISTS ai_confidence;
        """
    )
