"""Policy version lifecycle against real Postgres: drafts, optimistic saves, activation, schedules, roll back."""
from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.policies import lifecycle, versions
from dokani.errors import Conflict, Invalid, NotAllowed
from tests.conftest import actor_for
from tests.integration.policy_helpers import BASE_RULES, add_policy, make_business, one


@pytest.fixture
def atlas(empty_db):
    """Atlas with v1 (retired) and v2 (active)."""
    make_business(empty_db, "atlas")
    old = add_policy(empty_db, "atlas", "v1", {**BASE_RULES, "return_window_days": 14},
                     effective=datetime.now() - timedelta(days=90))
    active = add_policy(empty_db, "atlas", "v2", {**BASE_RULES, "legacy_note": "kept"}, active=True,
                        effective=datetime.now() - timedelta(days=30))
    return {"url": empty_db, "v1": old, "v2": active}


def _states(url):
    return dict(one(url, "SELECT version, state FROM policies ORDER BY id"))


def test_inserted_rows_get_a_state_from_is_active(atlas):
    assert _states(atlas["url"]) == {"v1": "retired", "v2": "active"}


def test_new_draft_from_active_copies_rules_and_suggests_the_next_name(atlas):
    admin = actor_for("atlas", "admin")
    with unit_of_work(admin) as uow:
        draft = lifecycle.new_draft(uow, atlas["v2"])
    assert draft.version == "v3" and draft.state == "draft" and draft.based_on_id == atlas["v2"]
    assert draft.rules["legacy_note"] == "kept"  # unknown keys travel with the copy
    with unit_of_work(admin) as uow:
        listed = {v.version: v for v in versions.list_versions(uow)}
    assert listed["v3"].last_changed_by == admin.email
    assert listed["v3"].last_action == "policy.draft_created"
    assert [v.version for v in policies_in_order(admin)] == ["v3", "v2", "v1"]


def policies_in_order(actor):
    with unit_of_work(actor) as uow:
        return versions.list_versions(uow)


def test_names_are_unique_per_business_case_insensitively(atlas):
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        with pytest.raises(Invalid) as err:
            lifecycle.new_draft(uow, atlas["v2"], name="V2")
    assert "version" in err.value.problems
    assert len(one(atlas["url"], "SELECT 1 FROM policies")) == 2


def test_second_admin_saving_a_stale_draft_is_refused_and_nothing_is_lost(atlas):
    owner, admin = actor_for("atlas", "owner"), actor_for("atlas", "admin")
    with unit_of_work(owner) as uow:
        draft = lifecycle.new_draft(uow, atlas["v2"])
    opened_by_both = draft.lock_version
    with unit_of_work(owner) as uow:
        saved = lifecycle.save_draft(uow, draft.id, {**draft.rules, "return_window_days": 45}, opened_by_both)
    assert saved.lock_version == opened_by_both + 1
    with unit_of_work(admin) as uow:
        with pytest.raises(Conflict) as err:
            lifecycle.save_draft(uow, draft.id, {**draft.rules, "return_window_days": 10}, opened_by_both)
    assert "owner@atlas.example" in str(err.value) and "nothing" in str(err.value)
    rules = one(atlas["url"], "SELECT rules->>'return_window_days' FROM policies WHERE id = %s", draft.id)[0][0]
    assert rules == "45"


def test_invalid_rules_are_refused_field_by_field_and_nothing_is_written(atlas):
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        draft = lifecycle.new_draft(uow, atlas["v2"])
    bad = {**draft.rules, "return_window_days": -3,
           "risk_thresholds": {"auto_approve_max": 0.9, "auto_deny_min": 0.2},
           "category_overrides": {"spaceships": {"final_sale": True}}}
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        with pytest.raises(Invalid) as err:
            lifecycle.save_draft(uow, draft.id, bad, draft.lock_version)
    assert {"return_window_days", "category_overrides"} <= set(err.value.problems)
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        with pytest.raises(Invalid) as err:
            lifecycle.save_draft(uow, draft.id, '{"return_window_days": 30,', draft.lock_version)
    assert "json" in err.value.problems
    assert one(atlas["url"], "SELECT lock_version FROM policies WHERE id = %s", draft.id)[0][0] == 0


def test_reviewers_may_not_edit_or_activate(atlas):
    reviewer = actor_for("atlas", "reviewer")
    with unit_of_work(reviewer) as uow:
        with pytest.raises(NotAllowed):
            lifecycle.new_draft(uow, atlas["v2"])
    with unit_of_work(reviewer) as uow:
        with pytest.raises(NotAllowed):
            lifecycle.activate(uow, atlas["v1"])
    assert _states(atlas["url"]) == {"v1": "retired", "v2": "active"}


def test_the_database_refuses_policy_writes_by_a_reviewer_even_past_the_service(atlas):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        with pytest.raises(DBAPIError):
            uow.session.execute(text("INSERT INTO policies (business_id, version, rules) "
                                     "VALUES (:b, 'sneaky', '{}')"), {"b": uow.actor.business_id})


def test_active_and_retired_versions_are_read_only(atlas):
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        with pytest.raises(NotAllowed):
            lifecycle.save_draft(uow, atlas["v2"], BASE_RULES, 0)
    with psycopg.connect(atlas["url"], autocommit=True) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE policies SET rules = '{}' WHERE id = %s", (atlas["v1"],))


def test_activate_keeps_exactly_one_active_and_audits_both_sides(atlas):
    admin = actor_for("atlas", "admin")
    with unit_of_work(admin) as uow:
        draft = lifecycle.new_draft(uow, atlas["v2"])
    with unit_of_work(admin) as uow:
        lifecycle.save_draft(uow, draft.id, {**draft.rules, "return_window_days": 60}, draft.lock_version)
    with unit_of_work(admin) as uow:
        active = lifecycle.activate(uow, draft.id)
    assert active.state == "active"
    assert _states(atlas["url"]) == {"v1": "retired", "v2": "retired", "v3": "active"}
    actions = [r[0] for r in one(atlas["url"], "SELECT action FROM audit_log ORDER BY id")]
    assert actions[-2:] == ["policy.retired", "policy.activated"]
    # Roll back to v1.
    with unit_of_work(admin) as uow:
        back = lifecycle.rollback(uow, atlas["v1"])
    assert back.state == "active"
    assert one(atlas["url"], "SELECT version FROM policies WHERE is_active") == [("v1",)]
    assert one(atlas["url"], "SELECT action FROM audit_log ORDER BY id DESC LIMIT 1") == [("policy.rolled_back",)]


def test_a_stale_activation_is_refused(atlas):
    admin = actor_for("atlas", "admin")
    with unit_of_work(admin) as uow:
        draft = lifecycle.new_draft(uow, atlas["v2"])
    with unit_of_work(admin) as uow:
        lifecycle.save_draft(uow, draft.id, {**draft.rules, "return_window_days": 60}, draft.lock_version)
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        with pytest.raises(Conflict):
            lifecycle.activate(uow, draft.id, expected_lock_version=draft.lock_version)
    assert _states(atlas["url"])["v2"] == "active"


def test_the_database_allows_only_one_active_version(atlas):
    with psycopg.connect(atlas["url"], autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("UPDATE policies SET is_active = true WHERE id = %s", (atlas["v1"],))


def test_schedule_then_apply_when_due(atlas):
    admin = actor_for("atlas", "admin")
    with unit_of_work(admin) as uow:
        draft = lifecycle.new_draft(uow, atlas["v2"])
    when = datetime.now() + timedelta(days=2)
    with unit_of_work(admin) as uow:
        scheduled = lifecycle.schedule(uow, draft.id, when)
    assert scheduled.state == "scheduled"
    with unit_of_work(admin) as uow:
        assert lifecycle.apply_due_schedules(uow) == []
        assert versions.version_in_force(uow).version == "v2"
        assert versions.version_in_force(uow, at=when + timedelta(minutes=1)).version == "v3"
    # Any member may apply a due schedule (the admin decided when scheduling).
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        applied = lifecycle.apply_due_schedules(uow, now=when + timedelta(minutes=1))
    assert [v.version for v in applied] == ["v3"]
    assert _states(atlas["url"]) == {"v1": "retired", "v2": "retired", "v3": "active"}


def test_schedule_in_the_past_is_refused_and_cancel_returns_to_draft(atlas):
    admin = actor_for("atlas", "admin")
    with unit_of_work(admin) as uow:
        draft = lifecycle.new_draft(uow, atlas["v2"])
    with unit_of_work(admin) as uow:
        with pytest.raises(Invalid):
            lifecycle.schedule(uow, draft.id, datetime.now() - timedelta(hours=1))
    with unit_of_work(admin) as uow:
        lifecycle.schedule(uow, draft.id, datetime.now() + timedelta(days=1))
    with unit_of_work(admin) as uow:
        back = lifecycle.cancel_schedule(uow, draft.id)
    assert back.state == "draft" and back.effective_date is None


def test_other_businesses_versions_are_invisible(atlas):
    make_business(atlas["url"], "bloom")
    with unit_of_work(actor_for("bloom", "owner")) as uow:
        assert versions.list_versions(uow) == []


def test_activation_can_require_a_passing_scenario_suite(atlas, monkeypatch):
    # A stand-in for the lab's module (its real latest_suite_result reads persona_test_logs).
    import sys
    import types

    results = {"v3": {"passed_all": False}}
    lab = types.ModuleType("dokani.lab.suites")
    lab.latest_suite_result = lambda uow, version: results.get(version)
    monkeypatch.setitem(sys.modules, "dokani.lab.suites", lab)
    admin = actor_for("atlas", "admin")
    with unit_of_work(admin) as uow:
        draft = lifecycle.new_draft(uow, atlas["v2"])
    with unit_of_work(admin) as uow:
        with pytest.raises(NotAllowed, match="failed its latest suite run"):
            lifecycle.activate(uow, draft.id, require_passing_suite=True)
    assert _states(atlas["url"])["v3"] == "draft"
    with unit_of_work(admin) as uow:
        lifecycle.activate(uow, draft.id, require_passing_suite=True, override_note="hotfix approved by ops")
    note = one(atlas["url"], "SELECT note FROM audit_log WHERE action = 'policy.activated'")[0][0]
    assert "hotfix approved by ops" in note


def test_deleting_a_draft_removes_it_and_keeps_the_drafts_made_from_it(atlas):
    admin = actor_for("atlas", "admin")
    with unit_of_work(admin) as uow:
        draft = lifecycle.new_draft(uow, atlas["v2"])
    with unit_of_work(admin) as uow:
        child = lifecycle.new_draft(uow, draft.id)
    with unit_of_work(admin) as uow:
        lifecycle.delete_draft(uow, draft.id, draft.lock_version)
    assert _states(atlas["url"]) == {"v1": "retired", "v2": "active", child.version: "draft"}
    assert one(atlas["url"], "SELECT based_on_id FROM policies WHERE id = %s", child.id) == [(None,)]
    assert one(atlas["url"], "SELECT action FROM audit_log ORDER BY id DESC LIMIT 1") == [("policy.draft_deleted",)]
    with unit_of_work(admin) as uow, pytest.raises(NotAllowed):
        lifecycle.delete_draft(uow, atlas["v2"], 0)  # only drafts


def test_a_roll_back_keeps_every_period_in_force_and_the_first_effective_date(atlas):
    admin = actor_for("atlas", "admin")
    first_effective = one(atlas["url"], "SELECT effective_date FROM policies WHERE id = %s", atlas["v2"])[0][0]
    with unit_of_work(admin) as uow:
        draft = lifecycle.new_draft(uow, atlas["v2"])
    with unit_of_work(admin) as uow:
        lifecycle.activate(uow, draft.id)
    with unit_of_work(admin) as uow:
        back = lifecycle.rollback(uow, atlas["v2"])
    assert back.state == "active" and back.retired_at is None
    assert back.effective_date == first_effective  # when it first took effect, not the roll back's time
    assert [p.how for p in back.periods] == ["recorded", "rolled_back"]
    earlier, now = back.periods
    assert earlier.started_at == first_effective and earlier.ended_at is not None
    assert now.ended_at is None and back.active_since == now.started_at > earlier.ended_at
    with unit_of_work(admin) as uow:
        replaced = versions.get_version(uow, draft.id)
    assert [(p.how, p.started_at, p.ended_at) for p in replaced.periods] == \
        [("activated", earlier.ended_at, now.started_at)]
    assert replaced.retired_at == now.started_at
    open_periods = one(atlas["url"], "SELECT policy_id FROM policy_activations WHERE ended_at IS NULL")
    assert open_periods == [(atlas["v2"],)]


def test_the_history_is_kept_by_postgres_for_every_writer_and_read_only_for_the_app(atlas):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with psycopg.connect(atlas["url"], autocommit=True) as conn:  # a tool that only knows is_active
        conn.execute("UPDATE policies SET is_active = false WHERE id = %s", (atlas["v2"],))
        conn.execute("UPDATE policies SET is_active = true WHERE id = %s", (atlas["v1"],))
    assert one(atlas["url"], "SELECT state, retired_at FROM policies WHERE id = %s", atlas["v1"]) == [("active", None)]
    assert one(atlas["url"], "SELECT how, ended_at IS NULL FROM policy_activations WHERE policy_id = %s "
               "ORDER BY started_at", atlas["v1"]) == [("recorded", False), ("rolled_back", True)]
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        with pytest.raises(DBAPIError):
            uow.session.execute(text("UPDATE policy_activations SET started_at = now()"))
