"""Computed metrics of every policy version (``policy_impact_score``, ``usage_statistics``,
``compliance_metrics``), aggregated in SQL from the returns that used each version; ``METRICS_DOC`` spells out
the formulas the Policies page shows under "How metrics are computed"."""
from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import func, select, text, update

from db.uow import UnitOfWork
from dokani.models import Policy
from dokani.policies.versions import as_dict

METRICS_DOC = """\
Computed from the returns that name the version in `return_requests.policy_version_used` (same business):

- **usage_statistics**: `returns` (how many), `first_used` / `last_used` (their created_at range),
  `by_status` and `by_recommendation` (counts), `automated` (the AI recommended auto-approve or auto-deny),
  `automation_rate` = automated ÷ returns, `refunded_value` = Σ order_value of approved (or completed) returns,
  `avg_processing_ms`.
- **compliance_metrics**: `decided` = approved + denied returns that had an automatic recommendation;
  `agreement_rate` = decided returns whose final status matches it (auto-approve → approved,
  auto-deny → denied) ÷ decided; `approved_checked` = approved returns with a known purchase age;
  `violations` = those approved outside the version's window for their category, or in a final-sale
  category; `compliance_rate` = 1 − violations ÷ approved_checked.
- **policy_impact_score** (0–100) = 100 × (automatically settled returns whose final decision agreed ÷ all
  returns under the version) × compliance_rate (1 when nothing could be checked): the share of the work the
  version took off reviewers' hands correctly, discounted by approvals that broke its own rules.
  Empty (no score) while no return has used the version.
"""

_METRICS_SQL = """
WITH r AS (
  SELECT p.id AS policy_id, rr.id, rr.created_at, rr.status, rr.order_value, rr.processing_time_ms,
         rr.days_since_purchase,
         CASE WHEN rr.id IS NULL THEN NULL
              WHEN rr.ai_recommendation ILIKE '%approv%' THEN 'approve'
              WHEN rr.ai_recommendation ILIKE '%den%' OR rr.ai_recommendation ILIKE '%reject%' THEN 'deny'
              WHEN rr.ai_recommendation IS NULL THEN 'none'
              ELSE 'review' END AS rec,
         coalesce(
           CASE WHEN p.rules -> 'category_overrides' -> rr.product_category ->> 'return_window_days' ~ '^[0-9]+$'
                THEN (p.rules -> 'category_overrides' -> rr.product_category ->> 'return_window_days')::int END,
           CASE WHEN p.rules ->> 'return_window_days' ~ '^[0-9]+$' THEN (p.rules ->> 'return_window_days')::int END
         ) AS window_days,
         coalesce(p.rules -> 'category_overrides' -> rr.product_category ->> 'final_sale', 'false') = 'true' AS final_sale
  FROM public.policies p
  LEFT JOIN public.return_requests rr ON rr.business_id = p.business_id AND rr.policy_version_used = p.version
  WHERE p.business_id = :business_id
)
SELECT policy_id,
       count(id) AS returns,
       min(created_at) AS first_used, max(created_at) AS last_used,
       count(id) FILTER (WHERE rec IN ('approve', 'deny')) AS automated,
       coalesce(sum(order_value) FILTER (WHERE status IN ('approved', 'completed')), 0) AS refunded_value,
       avg(processing_time_ms) AS avg_processing_ms,
       count(id) FILTER (WHERE status IN ('approved', 'completed', 'denied') AND rec IN ('approve', 'deny')) AS decided,
       count(id) FILTER (WHERE (status IN ('approved', 'completed') AND rec = 'approve') OR (status = 'denied' AND rec = 'deny')) AS agreed,
       count(id) FILTER (WHERE status IN ('approved', 'completed') AND days_since_purchase IS NOT NULL) AS approved_checked,
       count(id) FILTER (WHERE status IN ('approved', 'completed') AND days_since_purchase IS NOT NULL
                         AND (final_sale OR days_since_purchase > window_days)) AS violations
FROM r
GROUP BY policy_id
"""

_COUNTS_SQL = """
SELECT p.id AS policy_id, rr.{column} AS key, count(*) AS n
FROM public.policies p
JOIN public.return_requests rr ON rr.business_id = p.business_id AND rr.policy_version_used = p.version
WHERE p.business_id = :business_id
GROUP BY 1, 2
"""


class VersionMetrics(BaseModel):
    policy_impact_score: float | None
    usage_statistics: dict
    compliance_metrics: dict


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def compute_metrics(uow: UnitOfWork) -> dict[int, VersionMetrics]:
    """Metrics of every version of the acting business, aggregated in SQL (formulas: ``METRICS_DOC``)."""
    params = {"business_id": uow.actor.business_id}
    rows = uow.session.execute(text(_METRICS_SQL), params).mappings().all()
    counts: dict[str, dict[int, dict[str, int]]] = {}
    for column in ("status", "ai_recommendation"):
        per: dict[int, dict[str, int]] = {}
        for r in uow.session.execute(text(_COUNTS_SQL.format(column=column)), params).mappings():
            per.setdefault(r["policy_id"], {})[r["key"] or "none"] = int(r["n"])
        counts[column] = per
    out: dict[int, VersionMetrics] = {}
    for r in rows:
        n = int(r["returns"])
        automation = _rate(int(r["automated"]), n)
        agreement = _rate(int(r["agreed"]), int(r["decided"]))
        compliance = _rate(int(r["approved_checked"]) - int(r["violations"]), int(r["approved_checked"]))
        score = None
        if n:
            score = round(100 * int(r["agreed"]) / n * (compliance if compliance is not None else 1.0), 1)
        out[r["policy_id"]] = VersionMetrics(
            policy_impact_score=score,
            usage_statistics={
                "returns": n,
                "first_used": r["first_used"].isoformat() if r["first_used"] else None,
                "last_used": r["last_used"].isoformat() if r["last_used"] else None,
                "by_status": counts["status"].get(r["policy_id"], {}),
                "by_recommendation": counts["ai_recommendation"].get(r["policy_id"], {}),
                "automated": int(r["automated"]),
                "automation_rate": automation,
                "refunded_value": round(float(r["refunded_value"] or 0), 2),
                "avg_processing_ms": round(float(r["avg_processing_ms"]), 1) if r["avg_processing_ms"] is not None else None,
            },
            compliance_metrics={
                "decided": int(r["decided"]),
                "agreed": int(r["agreed"]),
                "agreement_rate": agreement,
                "approved_checked": int(r["approved_checked"]),
                "violations": int(r["violations"]),
                "compliance_rate": compliance,
            },
        )
    return out


STALE_AFTER = timedelta(minutes=5)  # the worker recomputes a business's metrics when they are older than this
# The businesses whose metrics are older than :stale, or were never computed (``dokani.jobs.tasks``).
STALE_BUSINESSES_SQL = """
    SELECT business_id FROM policies GROUP BY business_id
    HAVING bool_or(metrics_computed_at IS NULL) OR min(metrics_computed_at) < LOCALTIMESTAMP - :stale
"""


def refresh_metrics(uow: UnitOfWork) -> int:
    """Store the computed metrics in ``policies`` where they changed, and when they were computed (every version
    of the business); returns how many versions' figures changed.

    Figures derived from the returns, recomputed by the worker (``dokani.jobs.tasks.refresh_stale_policy_metrics``), never by a page visit:
    no one changed anything, so nothing is written to the audit log (and it does not count as editing a version).
    """
    metrics = compute_metrics(uow)
    rows = {r.id: r for r in uow.session.scalars(select(Policy).where(Policy.business_id == uow.actor.business_id))}
    changed = 0
    for policy_id, m in metrics.items():
        row = rows[policy_id]
        stored = float(row.policy_impact_score) if row.policy_impact_score is not None else None
        if (stored == m.policy_impact_score and as_dict(row.usage_statistics) == m.usage_statistics
                and as_dict(row.compliance_metrics) == m.compliance_metrics):
            continue
        uow.session.execute(
            update(Policy).where(Policy.id == policy_id).values(
                policy_impact_score=m.policy_impact_score, usage_statistics=m.usage_statistics,
                compliance_metrics=m.compliance_metrics)
        )
        changed += 1
    uow.session.execute(update(Policy).where(Policy.business_id == uow.actor.business_id)
                        .values(metrics_computed_at=func.localtimestamp()))
    uow.commit()
    return changed

