"""Decisions on returns: legal transitions only, one transaction with an audit row, no lost updates."""
from __future__ import annotations

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.errors import Conflict, Invalid, NotAllowed, NotFound
from dokani.returns.decisions import SeenReturn, decide_return, decide_returns
from dokani.returns.review import return_detail
from tests.conftest import actor_for


def _rows(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def _pick(url: str, business_id, status: str, n: int = 1) -> list[tuple[int, str]]:
    return [(r[0], str(r[1])) for r in _rows(
        url, "SELECT id, public_id FROM return_requests WHERE business_id = %s AND status = %s ORDER BY id LIMIT %s",
        business_id, status, n)]


def _open(actor, public_id: str):
    with unit_of_work(actor) as uow:
        return return_detail(uow, public_id)


def test_approve_writes_status_note_times_and_audit(fresh_db, atlas_reviewer):
    (rid, pid), = _pick(fresh_db, atlas_reviewer.business_id, "pending_review")
    seen = _open(atlas_reviewer, pid)
    with unit_of_work(atlas_reviewer) as uow:
        out = decide_return(uow, rid, "approve", expected_version=seen.version, note="photos show the tear")
    assert out.to_status == "approved" and out.from_status == "pending_review"
    status, notes, decided, approved, denied = _rows(
        fresh_db, "SELECT status, admin_notes, admin_decision_at, approved_at, denied_at FROM return_requests WHERE id = %s", rid)[0]
    assert (status, notes) == ("approved", "photos show the tear")
    assert decided is not None and approved is not None and denied is None
    (action, actor, before, after, note), = _rows(
        fresh_db, "SELECT action, actor_email, before, after, note FROM audit_log WHERE entity = 'return_requests' "
                  "AND entity_id = %s AND action <> 'triage'", str(rid))  # the seed's triage run came first
    assert (action, actor, note) == ("approve", atlas_reviewer.email, "photos show the tear")
    assert before["status"] == "pending_review" and after["status"] == "approved"
    timeline = _open(atlas_reviewer, pid).timeline
    assert [(t.action, t.from_status, t.to_status) for t in timeline][-1] == ("approve", "pending_review", "approved")


def test_stale_decision_is_refused_with_who_and_when(fresh_db, atlas_reviewer):
    (rid, pid), = _pick(fresh_db, atlas_reviewer.business_id, "pending_review")
    owner = actor_for("atlas", "owner")
    mine = _open(atlas_reviewer, pid)
    theirs = _open(owner, pid)
    with unit_of_work(owner) as uow:
        decide_return(uow, rid, "deny", expected_version=theirs.version, note="serial returner")
    with unit_of_work(atlas_reviewer) as uow, pytest.raises(Conflict) as err:
        decide_return(uow, rid, "approve", expected_version=mine.version, note="looks fine")
    message = str(err.value)
    assert owner.email in message and "denied" in message and "UTC" in message
    status, notes = _rows(fresh_db, "SELECT status, admin_notes FROM return_requests WHERE id = %s", rid)[0]
    assert (status, notes) == ("denied", "serial returner")  # nothing overwritten
    assert len(_rows(fresh_db, "SELECT 1 FROM audit_log WHERE entity_id = %s AND action <> 'triage'", str(rid))) == 1


@pytest.mark.parametrize("action", ["deny", "escalate"])
def test_deny_and_escalate_need_a_reason(fresh_db, atlas_reviewer, action):
    (rid, pid), = _pick(fresh_db, atlas_reviewer.business_id, "pending_review")
    seen = _open(atlas_reviewer, pid)
    with unit_of_work(atlas_reviewer) as uow, pytest.raises(Invalid) as err:
        decide_return(uow, rid, action, expected_version=seen.version, note="   ")
    assert "Note" in err.value.problems
    assert _rows(fresh_db, "SELECT status FROM return_requests WHERE id = %s", rid)[0][0] == "pending_review"


def test_escalate_then_approve_and_complete(fresh_db, atlas_reviewer):
    (rid, pid), = _pick(fresh_db, atlas_reviewer.business_id, "pending_review")
    v = _open(atlas_reviewer, pid).version
    with unit_of_work(atlas_reviewer) as uow:
        v = decide_return(uow, rid, "escalate", expected_version=v, note="needs the warehouse to inspect").version
    assert _rows(fresh_db, "SELECT status, escalation_reason FROM return_requests WHERE id = %s", rid)[0] == (
        "escalated", "needs the warehouse to inspect")
    detail = _open(atlas_reviewer, pid)
    assert detail.actions == ["approve", "deny"]
    with unit_of_work(atlas_reviewer) as uow:
        v = decide_return(uow, rid, "approve", expected_version=v).version
    with unit_of_work(atlas_reviewer) as uow:
        decide_return(uow, rid, "complete", expected_version=v)
    assert _rows(fresh_db, "SELECT status FROM return_requests WHERE id = %s", rid)[0][0] == "completed"


@pytest.mark.parametrize("status,action", [("approved", "deny"), ("denied", "approve"), ("completed", "escalate"),
                                           ("pending_triage", "approve"), ("escalated", "escalate")])
def test_illegal_transitions_are_refused(fresh_db, atlas_reviewer, status, action):
    if status == "escalated" and not _pick(fresh_db, atlas_reviewer.business_id, status):
        (rid, pid), = _pick(fresh_db, atlas_reviewer.business_id, "pending_review")  # the demo's escalations closed
        with unit_of_work(atlas_reviewer) as uow:
            decide_return(uow, rid, "escalate", expected_version=_open(atlas_reviewer, pid).version, note="warehouse")
    (rid, pid), = _pick(fresh_db, atlas_reviewer.business_id, status)
    seen = _open(atlas_reviewer, pid)
    with unit_of_work(atlas_reviewer) as uow, pytest.raises(NotAllowed):
        decide_return(uow, rid, action, expected_version=seen.version, note="because")
    assert _rows(fresh_db, "SELECT status FROM return_requests WHERE id = %s", rid)[0][0] == status


def test_testers_cannot_decide(fresh_db):
    tester = actor_for("atlas", "tester")
    (rid, pid), = _pick(fresh_db, tester.business_id, "pending_review")
    seen = _open(tester, pid)
    with unit_of_work(tester) as uow, pytest.raises(NotAllowed):
        decide_return(uow, rid, "approve", expected_version=seen.version)


def test_other_business_returns_are_invisible(fresh_db, atlas_reviewer, bloom_owner):
    (rid, pid), = _pick(fresh_db, bloom_owner.business_id, "pending_review")
    with unit_of_work(atlas_reviewer) as uow, pytest.raises(NotFound):
        decide_return(uow, rid, "approve", expected_version="1")
    assert _rows(fresh_db, "SELECT status FROM return_requests WHERE id = %s", rid)[0][0] == "pending_review"


def test_bulk_decision_is_one_transaction_and_reports_conflicts(fresh_db, atlas_reviewer):
    picked = _pick(fresh_db, atlas_reviewer.business_id, "pending_review", 4)
    approved_one = _pick(fresh_db, atlas_reviewer.business_id, "approved")
    seen = [SeenReturn(id=rid, version=_open(atlas_reviewer, pid).version) for rid, pid in picked + approved_one]
    owner = actor_for("atlas", "owner")
    stale_id, stale_pid = picked[0]
    with unit_of_work(owner) as uow:  # someone else decides one of them first
        decide_return(uow, stale_id, "escalate", expected_version=seen[0].version, note="fraud team")
    with unit_of_work(atlas_reviewer) as uow:
        out = decide_returns(uow, seen, "deny", note="outside the window")
    assert sorted(d.id for d in out.decided) == sorted(rid for rid, _ in picked[1:])
    conflicts = {c.id: c.message for c in out.conflicts}
    assert owner.email in conflicts[stale_id] and "escalated" in conflicts[stale_id]
    assert "cannot be denied" in conflicts[approved_one[0][0]]
    statuses = dict(_rows(fresh_db, "SELECT id, status FROM return_requests WHERE id = ANY(%s)", [s.id for s in seen]))
    assert statuses[stale_id] == "escalated" and statuses[approved_one[0][0]] == "approved"
    assert all(statuses[rid] == "denied" for rid, _ in picked[1:])
    notes = _rows(fresh_db, "SELECT DISTINCT note FROM audit_log WHERE action = 'deny' AND entity_id = ANY(%s)",
                  [str(rid) for rid, _ in picked[1:]])
    assert notes == [("outside the window",)]


def test_bulk_deny_needs_a_note(fresh_db, atlas_reviewer):
    picked = _pick(fresh_db, atlas_reviewer.business_id, "pending_review", 2)
    seen = [SeenReturn(id=rid, version=_open(atlas_reviewer, pid).version) for rid, pid in picked]
    with unit_of_work(atlas_reviewer) as uow, pytest.raises(Invalid):
        decide_returns(uow, seen, "deny", note="")
