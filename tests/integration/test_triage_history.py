"""The customer's history stored beside each return equals the history recomputed from the returns themselves,
after triage and after an import, and a backtest reading it counts what the engine, return by return, would.

The recomputation here is written out in Python from the raw rows (not the module's SQL): earlier returns of the
same customer, other returns in the 30 / 90 / 365 days up to this one, earlier returns denied by then.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import psycopg

from db.uow import unit_of_work
from dokani.policies import backtest
from dokani.policies.rules import load_policy
from dokani.returns.csv_import import import_returns, preview_returns_csv
from dokani.returns.decisions import decide_return
from dokani.returns.review import return_detail
from dokani.triage.engine import evaluate
from dokani.triage.facts import facts_for_return, iter_facts
from dokani.triage.history import fill_history_counters
from dokani.triage.service import triage_pending
from tests.conftest import actor_for


def _rows(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def _recomputed(url: str, business_id) -> dict[int, tuple[int, int, int, int, int]]:
    """(earlier, 30 d, 90 d, 365 d, denied by then) of every live return, from the rows, in Python."""
    by_customer = defaultdict(list)
    for rid, email, created, status, denied_at, decided_at in _rows(
            url, "SELECT id, customer_email, created_at, status, denied_at, admin_decision_at FROM return_requests "
                 "WHERE business_id = %s AND NOT is_test", business_id):
        by_customer[email].append((created, rid, status, denied_at or decided_at or created))
    out = {}
    for rows in by_customer.values():
        for created, rid, _, _ in rows:
            others = [o for o in rows if o[1] != rid]
            earlier = [o for o in others if (o[0], o[1]) < (created, rid)]
            within = [sum(1 for o in others if created - timedelta(days=d) <= o[0] <= created) for d in (30, 90, 365)]
            denied = sum(1 for o in earlier if o[2] == "denied" and o[3] <= created)
            out[rid] = (len(earlier), *within, denied)
    return out


def _rows_commit(url: str, sql: str, *params) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(sql, params)


def _stored(url: str, business_id) -> dict[int, tuple[int, int, int, int, int]]:
    return {r[0]: tuple(r[1:]) for r in _rows(
        url, "SELECT return_id, prior_returns, prior_30d, prior_90d, prior_365d, prior_denied FROM return_history "
             "WHERE business_id = %s", business_id)}


def test_triage_stores_the_history_it_read_and_it_equals_a_recomputation(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    pending = {r[0] for r in _rows(fresh_db, "SELECT id FROM return_requests WHERE business_id = %s AND NOT is_test "
                                             "AND status = 'pending_triage'", bid)}
    assert pending
    with unit_of_work(atlas_reviewer) as uow:
        read = {f.id: f.facts.history for f in iter_facts(uow.session, bid) if f.id in pending}
        triage_pending(uow, batch_size=50)
    expected = _recomputed(fresh_db, bid)
    stored = _stored(fresh_db, bid)
    assert pending <= set(stored)
    assert {rid: stored[rid] for rid in stored} == {rid: expected[rid] for rid in stored}
    # What triage evaluated is what it kept: the engine's inputs are the stored counters.
    assert {rid: (h.previous_returns, h.recent_returns_30d, h.previous_denied) for rid, h in read.items()} == \
           {rid: (stored[rid][0], stored[rid][1], stored[rid][4]) for rid in read}
    assert any(v[0] > 0 for v in stored.values()) and any(v[4] > 0 for v in stored.values())  # not all zero

    # The seed filled the whole business after loading: every live return has its row, and a fill writes nothing.
    assert set(_stored(fresh_db, bid)) == set(_recomputed(fresh_db, bid))
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        assert fill_history_counters(uow, bid) == 0
    assert _stored(fresh_db, bid) == _recomputed(fresh_db, bid)
    # Emptied, a fill writes every live return again.
    _rows_commit(fresh_db, "DELETE FROM return_history WHERE business_id = %s", bid)
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        assert fill_history_counters(uow, bid) == len(stored)
        uow.commit()
    assert _stored(fresh_db, bid) == _recomputed(fresh_db, bid)


def test_an_import_of_earlier_returns_is_counted_at_once_and_after_triage(fresh_db, atlas_owner):
    bid = atlas_owner.business_id
    with unit_of_work(atlas_owner) as uow:
        fill_history_counters(uow, bid)
        uow.commit()
    email, first = _rows(fresh_db, "SELECT customer_email, min(created_at) FROM return_requests WHERE business_id = %s "
                                   "AND NOT is_test GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", bid)[0]
    before = first - timedelta(days=3)
    data = ("order_id,customer_email,reason_for_return,order_value,product_category,created_at\n"
            f"HIST-1,{email},It arrived damaged,30,home,{before:%Y-%m-%d %H:%M:%S}\n"
            f"HIST-2,{email},Too small,20,apparel,{before + timedelta(hours=1):%Y-%m-%d %H:%M:%S}\n").encode()
    with unit_of_work(atlas_owner) as uow:
        assert import_returns(uow, preview_returns_csv(data), file_name="history.csv") == 2
        uow.commit()
    imported = [r[0] for r in _rows(fresh_db, "SELECT id FROM return_requests WHERE order_id LIKE 'HIST-%%' ORDER BY id")]
    expected = _recomputed(fresh_db, bid)
    # The import itself moves the stored counters of the customer's later returns (before any triage).
    later = [r[0] for r in _rows(fresh_db, "SELECT id FROM return_requests WHERE business_id = %s AND customer_email = %s "
                                           "AND order_id NOT LIKE 'HIST-%%' ORDER BY created_at, id", bid, email)]
    assert _stored(fresh_db, bid)[later[0]] == expected[later[0]] and expected[later[0]][0] == 2
    # Not triaged yet: the engine still reads the imported returns' history right (computed from the rows).
    with unit_of_work(atlas_owner) as uow:
        h = facts_for_return(uow.session, bid, imported[1]).facts.history
    assert (h.previous_returns, h.recent_returns_30d, h.previous_denied) == \
           (expected[imported[1]][0], expected[imported[1]][1], expected[imported[1]][4]) == (1, 1, 0)
    with unit_of_work(atlas_owner) as uow:
        triage_pending(uow)
    stored = _stored(fresh_db, bid)
    assert stored == _recomputed(fresh_db, bid)
    # The customer's later returns now count the two imported before them.
    later = [r[0] for r in _rows(fresh_db, "SELECT id FROM return_requests WHERE business_id = %s AND customer_email = %s "
                                           "AND order_id NOT LIKE 'HIST-%%' ORDER BY created_at, id", bid, email)]
    assert stored[later[0]][0] == 2


def test_a_decision_changes_no_stored_history_and_a_later_return_counts_the_denial(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        fill_history_counters(uow, bid)
        uow.commit()
    before = _stored(fresh_db, bid)
    rid, pid, email = _rows(fresh_db, "SELECT id, public_id, customer_email FROM return_requests WHERE business_id = %s "
                                      "AND status = 'pending_review' AND NOT is_test ORDER BY id LIMIT 1", bid)[0]
    with unit_of_work(atlas_reviewer) as uow:
        seen = return_detail(uow, str(pid))
    with unit_of_work(atlas_reviewer) as uow:
        decide_return(uow, rid, "deny", expected_version=seen.version, note="worn, tags removed")
    assert _stored(fresh_db, bid) == before == _recomputed(fresh_db, bid)  # as of when each was asked
    time.sleep(1.1)  # the import stamps whole seconds: ask the next return in a later second than the denial
    data = f"order_id,customer_email,reason_for_return,order_value\nNEXT-1,{email},It arrived damaged,30\n".encode()
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        import_returns(uow, preview_returns_csv(data), file_name="next.csv")
        uow.commit()
    (new_id,), = _rows(fresh_db, "SELECT id FROM return_requests WHERE order_id = 'NEXT-1'")
    with unit_of_work(atlas_reviewer) as uow:
        h = facts_for_return(uow.session, bid, new_id).facts.history
    assert h.previous_denied == _recomputed(fresh_db, bid)[new_id][4] >= 1


def _one_by_one(uow, policy_id: int, baseline_id: int, since: datetime):
    """The backtest's counts, evaluating the engine on every return's facts (the per-return path)."""
    versions = dict(_rows_from(uow, "SELECT id, version FROM policies WHERE id = ANY(:ids)", ids=[policy_id, baseline_id]))
    bid = uow.actor.business_id
    cand = load_policy(uow.session, bid, versions[policy_id]).rules
    base = load_policy(uow.session, bid, versions[baseline_id]).rules
    before, after = Counter(), Counter()
    names = {"auto_approve": "approve", "auto_deny": "deny", "human_review": "review"}
    for item in iter_facts(uow.session, bid, since=since):
        before[names[evaluate(item.facts, base).recommendation]] += 1
        after[names[evaluate(item.facts, cand).recommendation]] += 1
    return before, after


def _rows_from(uow, sql: str, **params):
    from sqlalchemy import text

    return uow.session.execute(text(sql), params).all()


def test_a_backtest_counts_what_the_engine_gives_each_return_with_and_without_stored_history(fresh_db, atlas_owner):
    bid = atlas_owner.business_id
    since = datetime.now() - timedelta(days=400)
    with unit_of_work(atlas_owner) as uow:
        (active,), = _rows_from(uow, "SELECT id FROM policies WHERE business_id = :b AND is_active", b=bid)
        (other,), = _rows_from(uow, "SELECT id FROM policies WHERE business_id = :b AND NOT is_active "
                                    "ORDER BY id LIMIT 1", b=bid)
        computed = backtest.backtest_policy(uow, other, baseline_policy_id=active, since=since, store=False)
        before, after = _one_by_one(uow, other, active, since)
    assert computed.returns_evaluated > 100
    assert computed.before_counts == {k: before.get(k, 0) for k in ("approve", "deny", "review")}
    assert computed.after_counts == {k: after.get(k, 0) for k in ("approve", "deny", "review")}
    with unit_of_work(atlas_owner) as uow:
        fill_history_counters(uow, bid)
        uow.commit()
    with unit_of_work(atlas_owner) as uow:
        stored = backtest.backtest_policy(uow, other, baseline_policy_id=active, since=since, store=False)
    assert stored.model_dump() == computed.model_dump()
