"""Trusted, watch and block lists and band overrides: audited, role-checked in Postgres, read by triage."""
from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text

from db.uow import unit_of_work
from dokani.errors import Conflict, Invalid, NotAllowed
from dokani.risk import lists
from dokani.triage.facts import facts_for_return
from dokani.triage.service import triage_return
from tests.conftest import actor_for
from tests.integration.risk_helpers import R, build


def _new_return(url, bid, email, **kw) -> int:
    # a small, in-window, accepted-reason return the engine would approve on its own ...
    return build(url, bid, email, [R(status="pending_triage", reason="it arrived damaged", value=20, days_ago=0,
                                     days_after_purchase=3, **kw)], orders=3)[0]


def _trace(url, rid):
    with psycopg.connect(url) as c:
        status, details = c.execute("SELECT status, triage_details FROM return_requests WHERE id = %s", (rid,)).fetchone()
    return status, {cl["rule"]: cl for cl in details["rules_fired"]}


def test_lists_change_triage_as_documented(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    plain = _new_return(fresh_db, bid, "plain@hand.test")
    with unit_of_work(atlas_reviewer) as uow:
        alone = triage_return(uow, plain)
    assert not any(k.startswith("risk_lists") for k in _trace(fresh_db, plain)[1])

    watched = _new_return(fresh_db, bid, "watched@hand.test")
    with unit_of_work(atlas_reviewer) as uow:
        lists.add_to_list(uow, "watchlist", "email", "Watched@Hand.test", reason="chargebacks elsewhere", note="check photos")
    with unit_of_work(atlas_reviewer) as uow:
        out = triage_return(uow, watched)
    status, trace = _trace(fresh_db, watched)
    assert out.recommendation == "human_review" and status == "pending_review"
    assert "watchlist" in trace["risk_lists.watchlist"]["detail"] and "check photos" in trace["risk_lists.watchlist"]["detail"]

    blocked = _new_return(fresh_db, bid, "blocked@hand.test")
    with psycopg.connect(fresh_db) as c:
        order = c.execute("SELECT order_id FROM return_requests WHERE id = %s", (blocked,)).fetchone()[0]
    with unit_of_work(atlas_reviewer) as uow:
        lists.add_to_list(uow, "blocklist", "order", order, reason="reseller", note="order resold on a marketplace")
    with unit_of_work(atlas_reviewer) as uow:
        out = triage_return(uow, blocked)
    status, trace = _trace(fresh_db, blocked)
    assert (out.recommendation, status) == ("auto_deny", "denied")
    assert "order resold on a marketplace" in trace["risk_lists.blocklist"]["detail"]

    # trusted: a return the engine alone sends to review for value is let through (the policy has no objection)
    with psycopg.connect(fresh_db) as c:
        limit = c.execute("SELECT (rules ->> 'auto_approve_threshold')::float, (rules ->> 'auto_escalation_threshold')::float "
                          "FROM policies WHERE business_id = %s AND is_active", (bid,)).fetchone()
    value = (limit[0] + limit[1]) / 2 if limit[0] is not None and limit[1] is not None else None
    if value is not None and limit[1] > limit[0]:
        for email, trusted in (("untrusted@hand.test", False), ("trusted@hand.test", True)):
            rid = build(fresh_db, bid, email, [R(status="pending_triage", reason="it arrived damaged", value=value,
                                                 days_ago=0, days_after_purchase=3)], orders=3)[0]
            if trusted:
                with unit_of_work(atlas_reviewer) as uow:
                    lists.add_to_list(uow, "trusted", "email", email, reason="ten years a customer")
            with unit_of_work(atlas_reviewer) as uow:
                out = triage_return(uow, rid)
            status, trace = _trace(fresh_db, rid)
            if trusted:
                assert out.recommendation == "auto_approve", [(c["rule"], c["outcome"], c["detail"]) for c in trace.values()]
                assert trace["risk_lists.trusted"]["outcome"] == "pass"
            else:
                assert out.recommendation == "human_review"
    assert alone.recommendation in ("auto_approve", "human_review")


def test_list_changes_are_audited_and_validated(fresh_db, atlas_reviewer):
    with unit_of_work(atlas_reviewer) as uow:
        entry = lists.add_to_list(uow, "trusted", "email", "a@b.test", reason="vip",
                                  expires_at=datetime.utcnow() + timedelta(days=3))
    with unit_of_work(atlas_reviewer) as uow:
        with pytest.raises(Conflict):
            lists.add_to_list(uow, "trusted", "email", "A@B.test", reason="again")
        for bad in ({"reason": ""}, {"reason": "x", "expires_at": datetime.utcnow() - timedelta(days=1)}):
            with pytest.raises(Invalid):
                lists.add_to_list(uow, "watchlist", "email", "c@d.test", **bad)
        with pytest.raises(Invalid):
            lists.add_to_list(uow, "trusted", "order", "A-1", reason="orders are for the blocklist")
    with unit_of_work(atlas_reviewer) as uow:
        lists.remove_from_list(uow, entry.id, reason="no longer")
    with unit_of_work(atlas_reviewer) as uow:
        history = lists.entries(uow, email="a@b.test", include_history=True)
        assert lists.entries(uow, email="a@b.test") == []
    assert history[0].removed_reason == "no longer" and history[0].created_by == atlas_reviewer.email
    with psycopg.connect(fresh_db) as c:
        audits = c.execute("SELECT action, note, actor_id FROM audit_log WHERE entity = 'risk_list_entries' "
                           "ORDER BY id").fetchall()
    assert [(a, n) for a, n, _ in audits] == [("risk.list_added", "vip"), ("risk.list_removed", "no longer")]
    assert all(u == atlas_reviewer.user_id for *_, u in audits)


def test_viewers_read_but_cannot_write(fresh_db, atlas_reviewer):
    viewer = actor_for("atlas", "viewer")
    with unit_of_work(atlas_reviewer) as uow:
        lists.add_to_list(uow, "watchlist", "email", "seen@hand.test", reason="r")
    with unit_of_work(viewer) as uow:
        assert [e.value for e in lists.entries(uow)] == ["seen@hand.test"]
        with pytest.raises(NotAllowed):
            lists.add_to_list(uow, "trusted", "email", "x@y.test", reason="r")
        with pytest.raises(Exception, match="row-level security|permission"):  # Postgres refuses it too
            uow.session.execute(text("INSERT INTO risk_list_entries (business_id, list_kind, match_kind, value) "
                                     "VALUES (:b, 'trusted', 'email', 'x@y.test')"), {"b": viewer.business_id})
    with unit_of_work(actor_for("bloom", "owner")) as uow:  # another business sees nothing
        assert lists.entries(uow) == []


def test_band_override_beats_computed_band_until_it_expires(fresh_db, atlas_reviewer):
    from dokani.risk import profiles

    bid = atlas_reviewer.business_id
    rid = _new_return(fresh_db, bid, "over@hand.test")
    with unit_of_work(atlas_reviewer) as uow:
        triage_return(uow, rid)  # scores the customer: low, one ordinary return
    with unit_of_work(atlas_reviewer) as uow:
        assert profiles.customer_risk(uow, "over@hand.test").effective_band == "low"
        lists.set_band_override(uow, "over@hand.test", "high", reason="linked to a fraud ring",
                                expires_at=datetime.utcnow() + timedelta(hours=2))
    with unit_of_work(atlas_reviewer) as uow:
        p = profiles.customer_risk(uow, "over@hand.test")
        assert (p.band, p.effective_band) == ("low", "high") and p.override and "fraud ring" in p.override.reason
        assert facts_for_return(uow.session, bid, rid).facts.history.band_override == "high"
    with psycopg.connect(fresh_db) as c:
        c.execute("UPDATE risk_band_overrides SET expires_at = now() - interval '1 minute' WHERE customer_email = 'over@hand.test'")
    with unit_of_work(atlas_reviewer) as uow:
        p = profiles.customer_risk(uow, "over@hand.test")
        assert p.effective_band == "low" and p.override is None
        assert facts_for_return(uow.session, bid, rid).facts.history.band_override is None
        assert len(lists.overrides(uow, "over@hand.test")) == 1  # the history stays
