"""A risk band the planner can use under row-level security: ``return_requests.risk_milli``.

Comparisons of ``numeric`` values are not leakproof, so under row-level security a filter such as
``coalesce(risk_score, 0) >= 0.7`` is evaluated only after the tenant's policy, never inside an index scan: a queue
filtered to the high band and a reason, over all statuses, walked the risk index through every one of a business's
250,000 returns to find 29 (630 ms). ``risk_milli`` is the score in thousandths, rounded down (so ``>= 700`` is
exactly ``>= 0.70``), kept by Postgres as a stored generated column; integer comparisons are leakproof, and the
index on ``(business_id, risk_milli)`` answers a band at once.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(text("ALTER TABLE public.return_requests ADD COLUMN IF NOT EXISTS risk_milli integer "
                      "GENERATED ALWAYS AS (floor(coalesce(risk_score, 0) * 1000)::integer) STORED"))
    bind.execute(text("CREATE INDEX IF NOT EXISTS return_requests_risk_band_idx "
                      "ON public.return_requests (business_id, risk_milli)"))


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(text("DROP INDEX IF EXISTS public.return_requests_risk_band_idx"))
    bind.execute(text("ALTER TABLE public.return_requests DROP COLUMN IF EXISTS risk_milli"))
