"""Impact score, usage statistics and compliance metrics are computed from the returns that used a version."""
from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.policies import metrics, versions
from tests.conftest import actor_for
from tests.integration.policy_helpers import BASE_RULES, add_policy, add_return, make_business, one


@pytest.fixture
def atlas(empty_db):
    make_business(empty_db, "atlas")
    rules = {**BASE_RULES, "category_overrides": {"electronics": {"final_sale": True}}}
    v1 = add_policy(empty_db, "atlas", "v1", rules, active=True, effective=datetime.now() - timedelta(days=60))
    unused = add_policy(empty_db, "atlas", "v2", BASE_RULES)
    r = dict(version="v1")
    add_return(empty_db, "atlas", value=40, days=5, status="approved", recommendation="auto_approve", **r)   # agreed
    add_return(empty_db, "atlas", value=60, days=50, status="approved", recommendation="auto_approve", **r)  # agreed, outside window
    add_return(empty_db, "atlas", value=70, days=3, status="denied", recommendation="auto_approve", **r)     # overturned
    add_return(empty_db, "atlas", value=90, days=2, category="electronics", status="approved",
               recommendation="human_review", **r)                                                        # final sale approved
    add_return(empty_db, "atlas", value=10, days=1, status="pending_review", recommendation="human_review", **r)
    add_return(empty_db, "atlas", value=10, days=1, status="approved", version="other")  # another version
    return {"url": empty_db, "v1": v1, "unused": unused}


def test_metrics_follow_the_documented_formulas(atlas):
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        m = metrics.compute_metrics(uow)
    usage, comp = m[atlas["v1"]].usage_statistics, m[atlas["v1"]].compliance_metrics
    assert usage["returns"] == 5
    assert usage["by_status"] == {"approved": 3, "denied": 1, "pending_review": 1}
    assert usage["automated"] == 3 and usage["automation_rate"] == 0.6
    assert usage["refunded_value"] == 190.0
    assert (comp["decided"], comp["agreed"], comp["agreement_rate"]) == (3, 2, round(2 / 3, 4))
    assert (comp["approved_checked"], comp["violations"], comp["compliance_rate"]) == (3, 2, round(1 / 3, 4))
    assert m[atlas["v1"]].policy_impact_score == round(100 * 2 / 5 * round(1 / 3, 4), 1)
    assert m[atlas["unused"]].policy_impact_score is None
    assert m[atlas["unused"]].usage_statistics["returns"] == 0


def test_refresh_stores_metrics_once_and_writes_no_audit_row(atlas):
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        assert metrics.refresh_metrics(uow) == 2
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        assert metrics.refresh_metrics(uow) == 0  # nothing changed, nothing written
    stored = one(atlas["url"], "SELECT policy_impact_score, usage_statistics->>'returns' FROM policies WHERE id = %s",
                 atlas["v1"])[0]
    assert float(stored[0]) == 13.3 and stored[1] == "5"
    assert one(atlas["url"], "SELECT action FROM audit_log") == []  # a refresh of derived figures, not a change
    # Metrics do not count as someone editing the version.
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        assert versions.get_version(uow, atlas["v1"]).last_changed_by is None


def test_the_worker_recomputes_stale_metrics_and_leaves_fresh_ones(atlas):
    """``refresh_policy_metrics`` (every minute) recomputes a business whose figures are missing or older than
    five minutes, acting as its owner; fresh figures are left alone."""
    from dokani.jobs.tasks import refresh_stale_policy_metrics

    url = atlas["url"]
    assert one(url, "SELECT count(*) FROM policies WHERE metrics_computed_at IS NOT NULL") == [(0,)]
    assert refresh_stale_policy_metrics() == 1
    assert one(url, "SELECT usage_statistics->>'returns' FROM policies WHERE id = %s", atlas["v1"]) == [("5",)]
    assert one(url, "SELECT count(*) FROM policies WHERE metrics_computed_at IS NULL") == [(0,)]
    assert refresh_stale_policy_metrics() == 0  # computed a moment ago
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE policies SET metrics_computed_at = LOCALTIMESTAMP - interval '6 minutes'")
    assert refresh_stale_policy_metrics() == 1
    assert one(url, "SELECT count(*) FROM policies WHERE metrics_computed_at < LOCALTIMESTAMP - interval '1 minute'") \
        == [(0,)]
