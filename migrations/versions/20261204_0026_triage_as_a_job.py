"""Triage of the new returns runs as a background job (``triage_pending``), off the page request.

At a million returns a busy business has thousands waiting in ``pending_triage`` (2,229 in the benchmark's), and
triaging them with their customers' history is seconds of work: the Returns page queues it, a worker runs it in
batches with live progress.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

BEFORE = ("backtest", "suite_run", "risk_recompute", "returns_import", "calls_import", "returns_export")
KINDS = BEFORE + ("triage_pending",)


def _kinds(kinds: tuple[str, ...]) -> None:
    bind = op.get_bind()
    bind.execute(text("ALTER TABLE public.background_jobs DROP CONSTRAINT IF EXISTS background_jobs_kind_check"))
    listed = ", ".join(f"'{k}'" for k in kinds)
    bind.execute(text(f"ALTER TABLE public.background_jobs ADD CONSTRAINT background_jobs_kind_check "
                      f"CHECK (kind IN ({listed}))"))


def upgrade() -> None:
    _kinds(KINDS)


def downgrade() -> None:
    op.get_bind().execute(text("DELETE FROM public.background_jobs WHERE kind = 'triage_pending'"))
    _kinds(BEFORE)
