"""The Risk page at a hundred thousand customers: the computed band, score and return count as stored columns,
and the indexes that rank, filter and count customers from them; what the risk recompute needs to skip unchanged
customers.

Revision ID: 0016
Revises: 0019
Create Date: 2026-12-03

- ``customer_risk_profiles.band_rank`` (2 high, 1 medium, 0 low, -1 never scored by the console), ``sort_score``
  (the computed score, -1 when never scored) and ``returns_count`` (the returns the last scoring counted, NULL when
  never scored): generated from the row's own ``risk_score`` and ``behavior_patterns``, so every writer (the
  scorer, the seed, an import) keeps them true. A profile counts as computed only when ``behavior_patterns.model``
  is the scorer's id, as ``dokani.risk.scoring.is_computed`` says.
- ``customer_risk_profiles_ranking_idx`` on ``(business_id, band_rank, sort_score, customer_email)``: the page's
  ranking (effective band, then score, then email, highest first) is a backward walk of it with a keyset, the band
  filter is its prefix and the overview's counts per band are an index-only scan of it. A live manual override
  (``risk_band_overrides``, a small table) is applied at read time, so an override that expires needs no write.
- ``customer_risk_profiles_email_lower_idx``: a profile found from an override's or a list entry's email.
- ``security_events_business_severity_idx``: the overview's open and resolved events per severity, counted from
  the index alone; ``security_events_customer_idx``: one customer's events (the page's rows, a profile, a recompute's
  range of customers) without reading every event of the business.

The email search walks the ranking index with ``ILIKE``: under row-level security ``ILIKE`` is not leakproof, so a
trigram index would not be used before the tenant check (revision 0013), and it would cost every profile write.
- ``customer_risk_profiles.score_inputs``: a fingerprint of what the last scoring counted (``dokani.risk.scoring``),
  so a recompute builds and writes an explanation only for the customers whose history changed.
- ``mock_orders_customer_orders_idx`` on ``(business_id, customer_email, order_id)``: the scorer's orders per
  customer, counted from the index alone in the order it needs.

Not added: an index covering the returns the scorer reads. It needs the customer's words (``reason_for_return``,
up to 20,000 characters), and a btree entry holds at most about 2,700 bytes: a long reason would make the return
impossible to store.

The columns are generated from the scorer's id and the band limits as of this revision
(``dokani.risk.weights.SCORER_ID``, ``dokani.risk.bands.RISK_BANDS``); ``tests/integration/test_risk_ranking``
checks that they still agree, so changing either needs a revision that regenerates them.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0016"
down_revision = "0019"
branch_labels = None
depends_on = None

SCORER_ID = "dokani-risk/1"
COMPUTED = f"(behavior_patterns ->> 'model') = '{SCORER_ID}'"
COLUMNS = {
    "band_rank": (
        "smallint",
        f"CASE WHEN {COMPUTED} AND risk_score IS NOT NULL THEN CASE WHEN risk_score >= 0.7 THEN 2 "
        "WHEN risk_score >= 0.35 THEN 1 ELSE 0 END ELSE -1 END",
    ),
    "sort_score": (
        "double precision",
        f"CASE WHEN {COMPUTED} AND risk_score IS NOT NULL THEN CAST(risk_score AS double precision) ELSE -1 END",
    ),
    "returns_count": (
        "integer",
        f"CASE WHEN {COMPUTED} AND jsonb_typeof(behavior_patterns -> 'returns') = 'number' "
        "THEN CAST(CAST(behavior_patterns ->> 'returns' AS numeric) AS integer) END",
    ),
}


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def _has_column(name: str) -> bool:
    return bool(op.get_bind().execute(text(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = 'customer_risk_profiles' AND column_name = :c"), {"c": name}).scalar())


def upgrade() -> None:
    missing = [name for name in COLUMNS if not _has_column(name)]
    if missing:  # one rewrite of the table for all of them
        _x("ALTER TABLE public.customer_risk_profiles " + ", ".join(
            f"ADD COLUMN {name} {COLUMNS[name][0]} GENERATED ALWAYS AS ({COLUMNS[name][1]}) STORED" for name in missing))
    _x("ALTER TABLE public.customer_risk_profiles ADD COLUMN IF NOT EXISTS score_inputs bigint")
    _x(
        """
        CREATE INDEX IF NOT EXISTS customer_risk_profiles_ranking_idx
            ON public.customer_risk_profiles (business_id, band_rank, sort_score, customer_email) INCLUDE (returns_count);
        CREATE INDEX IF NOT EXISTS customer_risk_profiles_email_lower_idx
            ON public.customer_risk_profiles (business_id, lower(customer_email));
        CREATE INDEX IF NOT EXISTS security_events_business_severity_idx
            ON public.security_events (business_id, severity, resolved);
        CREATE INDEX IF NOT EXISTS security_events_customer_idx
            ON public.security_events (business_id, customer_email) INCLUDE (resolved);
        CREATE INDEX IF NOT EXISTS mock_orders_customer_orders_idx
            ON public.mock_orders (business_id, customer_email, order_id);
        """
    )


def downgrade() -> None:
    _x(
        """
        DROP INDEX IF EXISTS public.security_events_customer_idx;
        DROP INDEX IF EXISTS public.security_events_business_severity_idx;
        DROP INDEX IF EXISTS public.mock_orders_customer_orders_idx;
        DROP INDEX IF EXISTS public.customer_risk_profiles_email_lower_idx;
        DROP INDEX IF EXISTS public.customer_risk_profiles_ranking_idx;
        ALTER TABLE public.customer_risk_profiles DROP COLUMN IF EXISTS score_inputs, DROP COLUMN IF EXISTS returns_count,
            DROP COLUMN IF EXISTS sort_score, DROP COLUMN IF EXISTS band_rank;
        """
    )
