"""Analytics snapshots: one per business, kind and period, and the indexes the overview's figures read.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

- ``business_analytics``: at most one row per business, metric type and snapshot (``metric_data ->> 'snapshot'``,
  ``<week|month>:<start>:<end>``); ``agent_performance_logs``: at most one per business, agent type, snapshot and
  agent. Partial unique indexes: rows written by other tools (no ``snapshot`` key) are not constrained.
  ``python -m dokani snapshot`` replaces a period's rows in one transaction; these make a duplicate impossible.
- Writing both tables is already owners' and admins' alone (revision 0006's matrix); reading is every member's.
- ``mock_orders (business_id, purchase_date)``: the return rate reads a business's orders placed in a period.
- ``return_requests`` decided by a person, by business and request time: agreement and override figures.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def upgrade() -> None:
    _x("""
        CREATE UNIQUE INDEX IF NOT EXISTS business_analytics_snapshot_uq
            ON public.business_analytics (business_id, metric_type, (metric_data ->> 'snapshot'))
            WHERE metric_data ? 'snapshot';
        CREATE UNIQUE INDEX IF NOT EXISTS agent_performance_logs_snapshot_uq
            ON public.agent_performance_logs (business_id, agent_type, (performance_metrics ->> 'snapshot'),
                                              (performance_metrics ->> 'agent_id'))
            WHERE performance_metrics ? 'snapshot';
        CREATE INDEX IF NOT EXISTS business_analytics_period_idx
            ON public.business_analytics (business_id, period_start, period_end);
        CREATE INDEX IF NOT EXISTS mock_orders_business_purchase_idx
            ON public.mock_orders (business_id, purchase_date);
        CREATE INDEX IF NOT EXISTS return_requests_person_decided_idx
            ON public.return_requests (business_id, created_at) WHERE admin_decision_at IS NOT NULL AND NOT is_test;
    """)


def downgrade() -> None:
    _x("""
        DROP INDEX IF EXISTS public.return_requests_person_decided_idx;
        DROP INDEX IF EXISTS public.mock_orders_business_purchase_idx;
        DROP INDEX IF EXISTS public.business_analytics_period_idx;
        DROP INDEX IF EXISTS public.agent_performance_logs_snapshot_uq;
        DROP INDEX IF EXISTS public.business_analytics_snapshot_uq;
    """)
