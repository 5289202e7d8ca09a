"""The reason code as a stored column, so the queue's reason filter can use an index under row-level security.

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-02

The queue filters by reason code: the triage engine's reading of the customer's words (``reason_code_sql``, a CASE
of regular expressions). Under row-level security a regular expression is not leakproof, so Postgres may not use
it in an index condition before the tenant check: revision 0003's expression index was never used and a reason
filter read every return of the business (4 s at a quarter of a million). A generated column holds the same
expression; comparing it is plain text equality, which is leakproof, so ``(business_id, reason_code)`` is used.

The column is generated from the engine's keywords as of this revision; ``tests/integration/test_returns_queue``
checks that they still agree, so changing the keywords needs a revision that regenerates it.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0015"
down_revision = "0009"
branch_labels = None
depends_on = None


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def upgrade() -> None:
    from dokani.returns.filters import reason_code_sql

    exists = op.get_bind().execute(text(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'return_requests' "
        "AND column_name = 'reason_code'")).scalar()
    if not exists:
        _x(f"ALTER TABLE public.return_requests ADD COLUMN reason_code text "
           f"GENERATED ALWAYS AS ({reason_code_sql('reason_for_return')}) STORED")
    _x("DROP INDEX IF EXISTS public.return_requests_reason_code_idx")
    _x("CREATE INDEX IF NOT EXISTS return_requests_reason_idx ON public.return_requests (business_id, reason_code) "
       "WHERE NOT is_test")


def downgrade() -> None:
    _x("DROP INDEX IF EXISTS public.return_requests_reason_idx")
    _x("ALTER TABLE public.return_requests DROP COLUMN IF EXISTS reason_code")
