"""Policy versions: one active per business, drafts, schedules, backtests.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

- ``policies`` gains the lifecycle columns: ``state`` (draft / scheduled / active / retired),
  ``lock_version`` (optimistic concurrency for two admins editing one draft), ``updated_at``,
  ``based_on_id`` (the version a draft was made from) and ``retired_at`` (when it stopped being active).
- ``state`` and ``is_active`` always agree (a CHECK), and a trigger keeps them in step for writers that
  only know the schema document's ``is_active`` (the seeder, older tools): a row inserted without a state
  gets one from ``is_active`` / ``effective_date``; flipping ``is_active`` alone moves the state too.
- The same trigger makes a version's name and rules read-only once it has left the draft state, and
  refuses changes to them by members who are not owner/admin of the business (when running as the app role).
- Exactly one active version per business: the partial unique index ``policies_one_active_idx``.
  Version names are unique per business: ``policies_business_version_key``.
- ``policy_backtests``: the stored result of replaying a version over past returns (tenant RLS like the rest).

Adopting an existing database (the schema document had neither rule):
- A business with several ``is_active`` rows keeps the newest effective one active (latest
  ``effective_date``, then latest ``created_at``, then highest id; NULLs count as oldest); the others
  become ``retired``. The choice is deterministic, so re-running on a copy gives the same result.
- Duplicate version names within a business: the oldest row (lowest id) keeps the name, every later
  duplicate is renamed ``<name> #<id>`` (ids are unique, so the new names are too).
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def upgrade() -> None:
    _x(
        """
        ALTER TABLE public.policies
          ADD COLUMN IF NOT EXISTS state text,
          ADD COLUMN IF NOT EXISTS lock_version integer NOT NULL DEFAULT 0,
          ADD COLUMN IF NOT EXISTS updated_at timestamp NOT NULL DEFAULT now(),
          ADD COLUMN IF NOT EXISTS based_on_id bigint REFERENCES public.policies(id) ON DELETE SET NULL,
          ADD COLUMN IF NOT EXISTS retired_at timestamp
        """
    )
    # Several active versions in one business: keep the newest effective one (see the module docstring).
    _x(
        """
        WITH ranked AS (
          SELECT id, row_number() OVER (
                   PARTITION BY business_id
                   ORDER BY effective_date DESC NULLS LAST, created_at DESC NULLS LAST, id DESC) AS rn
          FROM public.policies WHERE is_active
        )
        UPDATE public.policies p SET is_active = false, state = 'retired',
               retired_at = coalesce(p.retired_at, now())
        FROM ranked r WHERE r.id = p.id AND r.rn > 1
        """
    )
    # A state for rows that have none: active; retired when it took effect in the past; otherwise a draft.
    _x(
        """
        UPDATE public.policies SET state = CASE
            WHEN coalesce(is_active, false) THEN 'active'
            WHEN effective_date IS NOT NULL AND effective_date <= now() THEN 'retired'
            ELSE 'draft' END
        WHERE state IS NULL
        """
    )
    _x("UPDATE public.policies SET retired_at = effective_date WHERE state = 'retired' AND retired_at IS NULL")
    _x("UPDATE public.policies SET is_active = (state = 'active') WHERE is_active IS DISTINCT FROM (state = 'active')")
    # Duplicate names within a business: the oldest keeps it, later ones get their id appended.
    _x(
        """
        WITH dup AS (
          SELECT id, row_number() OVER (PARTITION BY business_id, version ORDER BY id) AS rn
          FROM public.policies
        )
        UPDATE public.policies p SET version = p.version || ' #' || p.id
        FROM dup WHERE dup.id = p.id AND dup.rn > 1
        """
    )
    _x(
        """
        ALTER TABLE public.policies ALTER COLUMN state SET NOT NULL;
        ALTER TABLE public.policies DROP CONSTRAINT IF EXISTS policies_state_check;
        ALTER TABLE public.policies ADD CONSTRAINT policies_state_check
          CHECK (state IN ('draft', 'scheduled', 'active', 'retired'));
        ALTER TABLE public.policies DROP CONSTRAINT IF EXISTS policies_active_matches_state;
        ALTER TABLE public.policies ADD CONSTRAINT policies_active_matches_state
          CHECK (coalesce(is_active, false) = (state = 'active'));
        ALTER TABLE public.policies DROP CONSTRAINT IF EXISTS policies_scheduled_has_date;
        ALTER TABLE public.policies ADD CONSTRAINT policies_scheduled_has_date
          CHECK (state <> 'scheduled' OR effective_date IS NOT NULL);
        ALTER TABLE public.policies DROP CONSTRAINT IF EXISTS policies_version_not_blank;
        ALTER TABLE public.policies ADD CONSTRAINT policies_version_not_blank CHECK (btrim(version) <> '');

        CREATE UNIQUE INDEX IF NOT EXISTS policies_one_active_idx ON public.policies (business_id) WHERE is_active;
        CREATE UNIQUE INDEX IF NOT EXISTS policies_business_version_key ON public.policies (business_id, version);
        CREATE INDEX IF NOT EXISTS policies_due_idx ON public.policies (business_id, effective_date)
          WHERE state = 'scheduled';
        CREATE INDEX IF NOT EXISTS return_requests_policy_version_idx
          ON public.return_requests (business_id, policy_version_used);
        """
    )
    _x(
        """
        CREATE OR REPLACE FUNCTION dokani.policies_lifecycle() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            IF NEW.state IS NULL THEN
              NEW.state := CASE
                WHEN coalesce(NEW.is_active, false) THEN 'active'
                WHEN NEW.effective_date IS NOT NULL AND NEW.effective_date <= now() THEN 'retired'
                ELSE 'draft' END;
            END IF;
            IF NEW.state = 'retired' AND NEW.retired_at IS NULL THEN
              NEW.retired_at := coalesce(NEW.effective_date, now());
            END IF;
          ELSE
            IF NEW.is_active IS DISTINCT FROM OLD.is_active AND NEW.state IS NOT DISTINCT FROM OLD.state THEN
              NEW.state := CASE WHEN coalesce(NEW.is_active, false) THEN 'active' ELSE 'retired' END;
            END IF;
            IF OLD.state <> 'draft' AND (NEW.rules IS DISTINCT FROM OLD.rules OR NEW.version IS DISTINCT FROM OLD.version) THEN
              RAISE EXCEPTION 'policy version % is %: its name and rules are read-only', OLD.version, OLD.state
                USING ERRCODE = 'check_violation';
            END IF;
            IF OLD.state = 'active' AND NEW.state = 'retired' AND NEW.retired_at IS NULL THEN
              NEW.retired_at := now();
            END IF;
          END IF;
          NEW.is_active := (NEW.state = 'active');
          IF current_user = 'authenticated'
             AND (TG_OP = 'INSERT' OR NEW.rules IS DISTINCT FROM OLD.rules OR NEW.version IS DISTINCT FROM OLD.version)
             AND coalesce(dokani.member_role(NEW.business_id), '') NOT IN ('owner', 'admin') THEN
            RAISE EXCEPTION 'only an owner or admin may write policy versions'
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$;
        DROP TRIGGER IF EXISTS policies_lifecycle ON public.policies;
        CREATE TRIGGER policies_lifecycle BEFORE INSERT OR UPDATE ON public.policies
          FOR EACH ROW EXECUTE FUNCTION dokani.policies_lifecycle();
        """
    )
    _x(
        """
        CREATE TABLE IF NOT EXISTS public.policy_backtests (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            business_id uuid NOT NULL REFERENCES public.profiles(business_id) ON DELETE CASCADE,
            policy_id bigint NOT NULL REFERENCES public.policies(id) ON DELETE CASCADE,
            policy_version text NOT NULL,
            period_start timestamp,
            period_end timestamp,
            returns_evaluated integer NOT NULL,
            outcomes_changed integer NOT NULL,
            refund_value_change numeric NOT NULL DEFAULT 0,
            summary jsonb NOT NULL DEFAULT '{}',
            flips jsonb NOT NULL DEFAULT '[]',
            created_by uuid,
            created_by_email text,
            created_at timestamp NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS policy_backtests_policy_idx
          ON public.policy_backtests (business_id, policy_id, created_at DESC);
        ALTER TABLE public.policy_backtests ENABLE ROW LEVEL SECURITY;
        DROP POLICY IF EXISTS dokani_tenant ON public.policy_backtests;
        CREATE POLICY dokani_tenant ON public.policy_backtests TO authenticated
          USING (business_id = ANY (CAST((SELECT dokani.member_business_ids()) AS uuid[])))
          WITH CHECK (business_id = ANY (CAST((SELECT dokani.member_business_ids()) AS uuid[])));
        GRANT SELECT, INSERT, DELETE ON public.policy_backtests TO authenticated;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO authenticated;
        """
    )


def downgrade() -> None:
    _x("DROP TABLE IF EXISTS public.policy_backtests")
    _x("DROP TRIGGER IF EXISTS policies_lifecycle ON public.policies")
    _x("DROP FUNCTION IF EXISTS dokani.policies_lifecycle()")
    _x("DROP INDEX IF EXISTS public.return_requests_policy_version_idx")
    _x("DROP INDEX IF EXISTS public.policies_due_idx")
    _x("DROP INDEX IF EXISTS public.policies_business_version_key")
    _x("DROP INDEX IF EXISTS public.policies_one_active_idx")
    _x(
        """
        ALTER TABLE public.policies
          DROP CONSTRAINT IF EXISTS policies_version_not_blank,
          DROP CONSTRAINT IF EXISTS policies_scheduled_has_date,
          DROP CONSTRAINT IF EXISTS policies_active_matches_state,
          DROP CONSTRAINT IF EXISTS policies_state_check,
          DROP COLUMN IF EXISTS retired_at,
          DROP COLUMN IF EXISTS based_on_id,
          DROP COLUMN IF EXISTS updated_at,
          DROP COLUMN IF EXISTS lock_version,
          DROP COLUMN IF EXISTS state
        """
    )
