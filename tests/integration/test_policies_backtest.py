"""Backtests replay a version over past returns with the real triage engine and store the result."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from db.uow import unit_of_work
from dokani.policies import backtest
from dokani.errors import Invalid
from tests.conftest import actor_for
from tests.integration.policy_helpers import BASE_RULES, add_policy, add_return, make_business, one


@pytest.fixture
def atlas(empty_db):
    make_business(empty_db, "atlas")
    active = add_policy(empty_db, "atlas", "v2", BASE_RULES, active=True, effective=datetime.now() - timedelta(days=60))
    longer = add_policy(empty_db, "atlas", "v3", {**BASE_RULES, "return_window_days": 60})
    now = datetime.now()
    # Four returns of $50 "damaged", distinct customers (no history), bought 10 / 20 / 45 / 100 days before.
    ids = {days: add_return(empty_db, "atlas", value=50, days=days, email=f"c{days}@example.com", version="v2",
                            created=now - timedelta(days=days // 5 + 1))
           for days in (10, 20, 45, 100)}
    return {"url": empty_db, "active": active, "longer": longer, "returns": ids}


def test_a_longer_window_flips_the_out_of_window_return_to_approve(atlas):
    seen = []
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        result = backtest.backtest_policy(uow, atlas["longer"], progress=lambda d, t: seen.append((d, t)))
    assert result.baseline_version == "v2"
    assert result.returns_evaluated == 4
    assert result.before_counts == {"approve": 2, "deny": 2, "review": 0}
    assert result.after_counts == {"approve": 3, "deny": 1, "review": 0}
    assert result.transitions == {"deny→approve": 1}
    assert result.refund_value_change == 50.0
    [flip] = result.flips
    assert flip.return_id == atlas["returns"][45] and flip.review_link.startswith("/returns?return=")
    # All four were recorded as approved; under v3 the 100-day-old one would be denied.
    assert (result.recorded_decisions, result.disagree_with_recorded) == (4, 1)
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)


def test_the_result_is_stored_for_the_version_list_and_audited(atlas):
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        result = backtest.backtest_policy(uow, atlas["longer"])
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        latest = backtest.latest_backtests(uow)
    assert latest[atlas["longer"]].outcomes_changed == 1
    assert latest[atlas["longer"]].flips[0].return_id == result.flips[0].return_id
    assert one(atlas["url"], "SELECT action FROM audit_log") == [("policy.backtested",)]


def test_a_period_limits_the_returns_replayed(atlas):
    now = datetime.now()
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        result = backtest.backtest_policy(uow, atlas["longer"], since=now - timedelta(days=6), until=now, store=False)
    # created 3, 5, 10 and 21 days ago: only the 10- and 20-day-old purchases were created in the last 6 days.
    assert result.returns_evaluated == 2 and result.outcomes_changed == 0


def test_same_rules_change_nothing(atlas):
    same = add_policy(atlas["url"], "atlas", "v2-copy", BASE_RULES)
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        result = backtest.backtest_policy(uow, same, store=False)
    assert result.baseline_version == "v2"
    assert result.outcomes_changed == 0 and result.refund_value_change == 0


def test_a_version_is_never_compared_with_itself(atlas):
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        with pytest.raises(Invalid) as err:
            backtest.backtest_policy(uow, atlas["longer"], baseline_policy_id=atlas["longer"], store=False)
    assert "baseline" in err.value.problems
    # The active version itself is compared with the version it replaced, not with itself.
    add_policy(atlas["url"], "atlas", "v1", {**BASE_RULES, "return_window_days": 14},
               effective=datetime.now() - timedelta(days=120))
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        result = backtest.backtest_policy(uow, atlas["active"], store=False)
    assert (result.policy_version, result.baseline_version) == ("v2", "v1")


def test_rules_the_engine_cannot_evaluate_are_refused(atlas):
    bad = add_policy(atlas["url"], "atlas", "broken", {**BASE_RULES, "return_window_days": -1})
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        with pytest.raises(Invalid) as err:
            backtest.backtest_policy(uow, bad)
    assert "return_window_days" in err.value.problems


def test_without_an_active_version_a_baseline_must_be_chosen(atlas):
    import psycopg

    with psycopg.connect(atlas["url"], autocommit=True) as conn:
        conn.execute("UPDATE policies SET is_active = false WHERE id = %s", (atlas["active"],))
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        with pytest.raises(Invalid):
            backtest.backtest_policy(uow, atlas["longer"], store=False)
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        result = backtest.backtest_policy(uow, atlas["longer"], baseline_policy_id=atlas["active"], store=False)
    assert result.outcomes_changed == 1
