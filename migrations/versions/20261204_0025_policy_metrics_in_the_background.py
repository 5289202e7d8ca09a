"""Policy metrics are computed by the worker, not by a page visit: when they were last computed.

``policies.metrics_computed_at``: when ``dokani.policies.metrics.refresh_metrics`` last aggregated the business's
returns into every version's ``policy_impact_score``, ``usage_statistics`` and ``compliance_metrics`` (NULL: not
yet). The worker's periodic ``refresh_policy_metrics`` recomputes a business whose figures are older than a few
minutes (at a million returns the aggregate takes over a second, which a page visit must not wait for); the seed
computes them once. The Policies page reads what is stored and says how old it is.

``dokani.policies_role_guard`` (revision 0006) lets any member store recomputed metrics (derived figures, not an
edit); the time they were computed is one of them now.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


METRICS = ("policy_impact_score", "usage_statistics", "compliance_metrics")
LIFECYCLE = ("state", "is_active", "retired_at", "lock_version", "updated_at")


def _guard(metrics: tuple[str, ...]) -> str:
    """Revision 0006's guard, with `metrics` as the columns any member may store (the rest unchanged)."""
    metric_cols = ", ".join(f"'{c}'" for c in metrics)
    lifecycle = ", ".join(f"'{c}'" for c in LIFECYCLE)
    return f"""
        CREATE OR REPLACE FUNCTION dokani.policies_role_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
          who text;
          metrics text[] := ARRAY[{metric_cols}];
          steps text[] := ARRAY[{metric_cols}, {lifecycle}];
        BEGIN
          IF current_user <> 'authenticated' THEN
            RETURN NEW;
          END IF;
          who := coalesce(dokani.member_role(OLD.business_id), 'none');
          IF who IN ('owner', 'admin') THEN
            RETURN NEW;
          END IF;
          -- Recomputed metrics (dokani.policies.metrics.refresh_metrics): derived, not an edit.
          IF (to_jsonb(NEW) - metrics) = (to_jsonb(OLD) - metrics) THEN
            RETURN NEW;
          END IF;
          -- Applying a schedule an owner or admin set (apply_due_schedules): the scheduled version becomes
          -- active at its own effective date, and the version it replaces is retired. Nothing else moves.
          IF (to_jsonb(NEW) - steps) = (to_jsonb(OLD) - steps)
             AND ((OLD.state = 'scheduled' AND NEW.state = 'active')
                  OR (OLD.state = 'active' AND NEW.state = 'retired' AND EXISTS (
                        SELECT 1 FROM public.policies p
                        WHERE p.business_id = OLD.business_id AND p.state = 'scheduled' AND p.id <> OLD.id))) THEN
            RETURN NEW;
          END IF;
          RAISE EXCEPTION 'only an owner or admin may change policy version % (your role: %)', OLD.version, who
            USING ERRCODE = 'insufficient_privilege';
        END $$;
    """


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(text("ALTER TABLE public.policies ADD COLUMN IF NOT EXISTS metrics_computed_at timestamp"))
    bind.execute(text(_guard(METRICS + ("metrics_computed_at",))))


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(text(_guard(METRICS)))
    bind.execute(text("ALTER TABLE public.policies DROP COLUMN IF EXISTS metrics_computed_at"))
