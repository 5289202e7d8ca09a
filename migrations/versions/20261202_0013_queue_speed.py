"""The return queue at a million returns: covering indexes for what every rerun reads, and a search that can use
its trigram indexes under row-level security.

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-02

- ``return_requests_waiting_idx``: the returns waiting for a decision (needs review or escalated) of a business in
  the queue's age order, with their order value: the default queue's first page is the first rows of it, and the
  KPI strip (waiting, overdue, median and oldest age, value at stake) is an index-only scan of it instead of a heap
  scan of every open return.
- ``return_requests_category_idx``: the categories that occur in a business, read with a skip scan (one probe
  per category) for the queue's filter options, instead of a scan of every return.
- ``dokani.search_return_ids(business, pattern)``: under row-level security ``LIKE`` / ``ILIKE`` / ``lower()`` are
  not leakproof, so the planner may not push them into the trigram indexes and scans every row of the tenant. This
  narrow ``SECURITY DEFINER`` function checks that the caller is a member of the business first, then runs the
  same match the queue runs (order id, customer email, public id) with the indexes, and returns only ids of that
  business. The queue still reads the rows themselves through row-level security.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def upgrade() -> None:
    _x(
        """
        CREATE INDEX IF NOT EXISTS return_requests_waiting_idx
            ON public.return_requests (business_id, (coalesce(created_at, TIMESTAMP '1970-01-01')), id)
            INCLUDE (order_value) WHERE NOT is_test AND status IN ('pending_review', 'escalated');
        CREATE INDEX IF NOT EXISTS return_requests_category_idx
            ON public.return_requests (business_id, product_category)
            WHERE NOT is_test AND product_category IS NOT NULL;

        CREATE OR REPLACE FUNCTION dokani.search_return_ids(b uuid, pattern text) RETURNS SETOF bigint
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
          SELECT r.id FROM public.return_requests r
          WHERE dokani.member_role(b) IS NOT NULL AND r.business_id = b
            AND (r.order_id ILIKE pattern OR lower(r.customer_email) LIKE pattern
                 OR CAST(r.public_id AS text) LIKE pattern)
        $$;
        REVOKE ALL ON FUNCTION dokani.search_return_ids(uuid, text) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION dokani.search_return_ids(uuid, text) TO authenticated;
        """
    )


def downgrade() -> None:
    _x(
        """
        DROP FUNCTION IF EXISTS dokani.search_return_ids(uuid, text);
        DROP INDEX IF EXISTS public.return_requests_category_idx;
        DROP INDEX IF EXISTS public.return_requests_waiting_idx;
        """
    )
