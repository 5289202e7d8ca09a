"""Policy versions over the seeded demo data: states adopted from is_active, metrics from real returns,
and two admins activating at the same moment still leave exactly one active version."""
from __future__ import annotations

import threading

import psycopg

from db.demo import business
from db.uow import unit_of_work
from dokani.policies import lifecycle
from dokani.policies import metrics as policy_metrics
from dokani.policies import versions as policy_versions
from dokani.errors import Conflict
from tests.conftest import actor_for

ATLAS = business("atlas").business_id


def test_seeded_versions_have_states_and_metrics(seeded_db):
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        versions = {v.version: v for v in policy_versions.list_versions(uow)}
        metrics = policy_metrics.compute_metrics(uow)
    assert sorted(v.state for v in versions.values()) == ["active", "draft", "retired"]
    active = next(v for v in versions.values() if v.state == "active")
    with psycopg.connect(seeded_db) as c:
        used = c.execute("SELECT count(*) FROM return_requests WHERE business_id = %s AND policy_version_used = %s",
                         (ATLAS, active.version)).fetchone()[0]
    assert used > 0
    assert metrics[active.id].usage_statistics["returns"] == used
    assert 0 <= metrics[active.id].policy_impact_score <= 100


def test_simultaneous_activations_leave_exactly_one_active(fresh_db):
    admin, owner = actor_for("atlas", "admin"), actor_for("atlas", "owner")
    with unit_of_work(admin) as uow:
        active = policy_versions.active_version(uow)
        a = lifecycle.new_draft(uow, active.id)
    with unit_of_work(owner) as uow:
        b = lifecycle.new_draft(uow, active.id)
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def go(actor, draft):
        barrier.wait()
        try:
            with unit_of_work(actor) as uow:
                outcome[draft.version] = lifecycle.activate(uow, draft.id).state
        except Conflict as err:
            outcome[draft.version] = err

    threads = [threading.Thread(target=go, args=args) for args in ((admin, a), (owner, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with psycopg.connect(fresh_db) as c:
        actives = c.execute("SELECT version FROM policies WHERE business_id = %s AND is_active", (ATLAS,)).fetchall()
        audited = c.execute("SELECT count(*) FROM audit_log WHERE action = 'policy.activated'").fetchone()[0]
    assert len(actives) == 1
    # Both took turns (the business's versions are locked while switching): the later one is active,
    # and every activation that happened has its audit row.
    assert audited == sum(1 for v in outcome.values() if v == "active")


def test_cli_applies_due_schedules_and_backtests(fresh_db, capsys):
    from dokani.__main__ import main

    with psycopg.connect(fresh_db, autocommit=True) as c:
        draft = c.execute("SELECT version FROM policies WHERE business_id = %s AND state = 'draft'", (ATLAS,)).fetchone()[0]
        c.execute("UPDATE policies SET state = 'scheduled', effective_date = now() - interval '1 minute' "
                  "WHERE business_id = %s AND version = %s", (ATLAS, draft))
    assert main(["policies", "apply-due"]) == 0
    assert f"{draft} took effect" in capsys.readouterr().out
    with psycopg.connect(fresh_db) as c:
        assert c.execute("SELECT version FROM policies WHERE business_id = %s AND is_active", (ATLAS,)).fetchall() == [(draft,)]
    old = "v1.0"
    assert main(["policies", "backtest", "--business", str(ATLAS), "--version", old]) == 0
    assert "returns replayed" in capsys.readouterr().out
