"""Chat test lab: test-data marking, persona bookkeeping.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

- ``return_requests.is_test`` (boolean, NOT NULL, default false): true for a return opened by the
  customer-service agent inside a chat *test* session or a scenario-suite run. Test returns never
  belong in the live return queue: every live reader filters ``WHERE NOT is_test``; a partial index
  keeps that filter as fast as the unfiltered queue. ``return_requests.test_session_id`` names the
  chat session that opened it (NULL for live returns).
- One default persona per business and provider (``provider_configs.is_default``), enforced by a
  partial unique index where the data allows it.
- Indexes for the lab's own readers: test sessions by business/type/activity, suite results by
  persona, by policy version and by run (``persona_test_logs.test_result ->> 'policy_version'`` /
  ``'suite_run_id'``).
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def upgrade() -> None:
    _x(
        """
        ALTER TABLE public.return_requests ADD COLUMN IF NOT EXISTS is_test boolean NOT NULL DEFAULT false;
        ALTER TABLE public.return_requests ADD COLUMN IF NOT EXISTS test_session_id uuid
            REFERENCES public.chat_sessions(id) ON DELETE SET NULL;
        COMMENT ON COLUMN public.return_requests.is_test IS
            'Opened by the agent in a chat test session or a scenario suite run; never part of the live queue.';
        CREATE INDEX IF NOT EXISTS return_requests_live_queue_idx
            ON public.return_requests (business_id, status, created_at, id) WHERE NOT is_test;
        CREATE INDEX IF NOT EXISTS return_requests_test_session_idx
            ON public.return_requests (test_session_id) WHERE test_session_id IS NOT NULL;

        CREATE INDEX IF NOT EXISTS chat_sessions_lab_idx
            ON public.chat_sessions (business_id, session_type, is_active, updated_at DESC);
        CREATE INDEX IF NOT EXISTS persona_test_logs_policy_idx
            ON public.persona_test_logs (business_id, (test_result ->> 'policy_version'), created_at DESC);
        CREATE INDEX IF NOT EXISTS persona_test_logs_run_idx
            ON public.persona_test_logs ((test_result ->> 'suite_run_id'));
        """
    )
    # One default per business and provider; an adopted database with several defaults keeps them
    # (the service still sets exactly one).
    conn = op.get_bind()
    try:
        with conn.begin_nested():
            _x(
                "CREATE UNIQUE INDEX IF NOT EXISTS provider_configs_one_default_idx "
                "ON public.provider_configs (business_id, provider) WHERE is_default"
            )
    except Exception:
        pass


def downgrade() -> None:
    _x(
        """
        DROP INDEX IF EXISTS public.provider_configs_one_default_idx;
        DROP INDEX IF EXISTS public.persona_test_logs_run_idx;
        DROP INDEX IF EXISTS public.persona_test_logs_policy_idx;
        DROP INDEX IF EXISTS public.chat_sessions_lab_idx;
        DROP INDEX IF EXISTS public.return_requests_test_session_idx;
        DROP INDEX IF EXISTS public.return_requests_live_queue_idx;
        ALTER TABLE public.return_requests DROP COLUMN IF EXISTS test_session_id;
        ALTER TABLE public.return_requests DROP COLUMN IF EXISTS is_test;
        """
    )
