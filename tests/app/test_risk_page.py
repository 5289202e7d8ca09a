"""The Risk page: scores computed here, factors in words next to their returns, lists and overrides changed with a
reason and shown with history, the events inbox resolving several events at once without leaving it."""
from __future__ import annotations

import psycopg

from db.demo import business
from dokani.jobs.worker import work_until_idle
from tests.app.conftest import no_exceptions, open_page

ATLAS = business("atlas").business_id


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def _texts(at) -> str:
    return "\n".join(t.value for t in at.text)


def _recompute(at):
    next(b for b in at.button if b.label.startswith("Recompute")).click().run()
    no_exceptions(at)
    assert any("waiting for a worker" in i.value for i in at.info)  # queued, not run in the page request
    work_until_idle()
    at.run()
    no_exceptions(at)
    return at


def test_unscored_customers_say_so_then_recompute_shows_factors_with_evidence(fresh_db):
    with psycopg.connect(fresh_db) as c:  # profiles imported from elsewhere, never scored here
        c.execute("UPDATE customer_risk_profiles SET behavior_patterns = '{}' WHERE business_id = %s", (ATLAS,))
    at = open_page("risk", slug="reviewer")
    no_exceptions(at)
    with psycopg.connect(fresh_db) as c:
        profiles = c.execute("SELECT count(*) FROM customer_risk_profiles WHERE business_id = %s", (ATLAS,)).fetchone()[0]
    assert _metric(at, "Not scored yet") == f"{profiles:,}"  # scores from elsewhere are not shown as measurements
    at.selectbox(key="risk_customer").set_value(at.selectbox(key="risk_customer").options[0]).run()
    assert _metric(at, "Computed score") == "not scored yet"

    _recompute(at)
    assert any("Scored" in s.value for s in at.success)
    assert _metric(at, "Not scored yet") == "0"
    with psycopg.connect(fresh_db) as c:
        email, score, public_id = c.execute(
            "SELECT p.customer_email, p.risk_score::float, (SELECT r.public_id FROM return_requests r WHERE "
            "r.business_id = p.business_id AND r.customer_email = p.customer_email ORDER BY r.created_at DESC LIMIT 1) "
            "FROM customer_risk_profiles p WHERE p.business_id = %s ORDER BY p.risk_score DESC, p.customer_email DESC "
            "LIMIT 1", (ATLAS,)).fetchone()
    at.selectbox(key="risk_band").select("high" if score >= 0.7 else ("medium" if score >= 0.35 else "low")).run()
    at.selectbox(key="risk_customer").select(email).run()
    no_exceptions(at)
    assert _metric(at, "Computed score") == f"{score:.2f}"
    assert "+0." in _texts(at) and "per return" in _texts(at)  # factors in words with their weights
    assert any(str(public_id) in str(df.value.to_dict()) for df in at.dataframe)  # its returns, linked


def test_a_watchlist_entry_and_an_override_are_written_with_reason_and_history(fresh_db):
    at = open_page("risk", slug="reviewer")
    email = at.selectbox(key="risk_customer").options[0]
    at.selectbox(key="risk_customer").select(email).run()
    at.selectbox(key="risk_list_kind").select("watchlist")
    at.text_input(key="risk_list_note").input("check photos")
    at.text_input(key="risk_list_reason").input("chargebacks elsewhere")
    next(b for b in at.button if b.label == "Add to list").click().run()
    no_exceptions(at)
    assert any("watchlist" in s.value for s in at.success)
    at.selectbox(key="risk_override_band").select("high")
    at.text_input(key="risk_override_reason").input("linked accounts")
    next(b for b in at.button if b.label == "Set band").click().run()
    no_exceptions(at)
    assert _metric(at, "Effective band") == "high"
    assert "On: Watchlist" in _texts(at)
    with psycopg.connect(fresh_db) as c:
        audits = c.execute("SELECT action, note, actor_email FROM audit_log WHERE action LIKE 'risk.%%' "
                           "AND action <> 'risk.recomputed' ORDER BY id").fetchall()  # the seed scored everyone
    assert audits == [("risk.list_added", "chargebacks elsewhere", "reviewer@atlas.example"),
                      ("risk.band_overridden", "linked accounts", "reviewer@atlas.example")]
    # a reason is required: nothing written without one
    at.text_input(key="risk_override_reason").input("")
    next(b for b in at.button if b.label == "Set band").click().run()
    assert at.error and "reason" in at.error[0].value.lower()


def _count(value: str) -> int:
    return int(value.replace(",", ""))


def test_an_override_ranks_the_customer_by_its_band_at_once_and_the_counts_follow(fresh_db):
    at = _recompute(open_page("risk", slug="reviewer"))
    high, medium = _count(_metric(at, "High risk")), _count(_metric(at, "Medium"))
    at.selectbox(key="risk_band").select("low").run()
    email = at.dataframe[0].value["customer_email"].iloc[0]
    at.selectbox(key="risk_customer").select(email).run()
    at.selectbox(key="risk_override_band").select("high")
    at.text_input(key="risk_override_reason").input("linked accounts")
    next(b for b in at.button if b.label == "Set band").click().run()
    no_exceptions(at)
    # the page's few-seconds cache is this person's: their own change shows on the next run
    assert (_count(_metric(at, "High risk")), _count(_metric(at, "Medium"))) == (high + 1, medium)
    assert email not in list(at.dataframe[0].value["customer_email"])  # no longer low
    at.selectbox(key="risk_band").select("high").run()
    at.text_input(key="risk_search").input(email).run()
    row = at.dataframe[0].value.iloc[0]
    assert (row["customer_email"], row["effective_band"], row["band"], bool(row["overridden"])) == (
        email, "high", "low", True)


def test_viewers_read_lists_but_get_no_forms(fresh_db):
    at = open_page("risk", slug="viewer")
    no_exceptions(at)
    assert not any(b.label.startswith("Recompute") for b in at.button)
    at.selectbox(key="risk_customer").set_value(at.selectbox(key="risk_customer").options[0]).run()
    assert any("can read lists and overrides" in i.value for i in at.info)
    assert not any(b.label == "Add to list" for b in at.button)


def test_events_inbox_filters_and_resolves_several_with_a_note_staying_open(fresh_db):
    at = open_page("risk", slug="reviewer")
    at.session_state["risk_view"] = "Security events"
    at.run()
    no_exceptions(at)
    with psycopg.connect(fresh_db) as c:
        open_before = c.execute("SELECT count(*) FROM security_events WHERE business_id = %s "
                                "AND NOT coalesce(resolved, false)", (ATLAS,)).fetchone()[0]
        kind, n_kind = c.execute("SELECT event_type, count(*) FROM security_events WHERE business_id = %s "
                                 "AND NOT coalesce(resolved, false) GROUP BY 1 ORDER BY 2 DESC LIMIT 1", (ATLAS,)).fetchone()
    assert open_before >= 2
    at.selectbox(key="risk_event_type").select(kind).run()
    assert len(at.dataframe[0].value) == n_kind
    picked = min(2, n_kind)
    at.multiselect[0].set_value(list(range(picked)))
    at.text_input[-1].input("same address, checked")
    next(b for b in at.button if b.label == "Mark resolved").click().run()
    no_exceptions(at)
    assert any(f"Resolved {picked} event(s)" in s.value for s in at.success), ([s.value for s in at.success], [e.value for e in at.error], picked)
    assert at.session_state["risk_view"] == "Security events" and at.selectbox(key="risk_event_type")  # still here
    with psycopg.connect(fresh_db) as c:
        resolved = c.execute("SELECT count(*) FROM security_events WHERE business_id = %s AND resolved "
                             "AND resolved_by IS NOT NULL AND resolved_at IS NOT NULL AND event_type = %s", (ATLAS, kind)).fetchone()[0]
        notes = c.execute("SELECT DISTINCT note FROM audit_log WHERE entity = 'security_event'").fetchall()
    assert notes == [("same address, checked",)]
    at.selectbox(key="risk_event_state").select("resolved").run()
    assert len(at.dataframe[0].value) == resolved




def test_weights_view_lists_every_factor(seeded_db):
    from dokani.risk.weights import WEIGHTS

    at = open_page("risk")
    at.session_state["risk_view"] = "Weights"
    at.run()
    no_exceptions(at)
    shown = at.dataframe[0].value
    assert list(shown["factor"]) == [w.label for w in WEIGHTS] and list(shown["weight"]) == [w.weight for w in WEIGHTS]
