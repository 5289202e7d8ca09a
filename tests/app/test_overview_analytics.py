"""The overview as a user sees it: tiles computed from the database, small samples marked, every tile a link to
the queue rows it counts (and the queue applying that link), the snapshot trend, an empty business."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from db.demo import user
from db.uow import unit_of_work
from dokani.analytics.snapshots import take_snapshot
from tests.analytics_fixtures import insert_return, make_business, trace
from tests.app.conftest import ROOT, no_exceptions, signed_in_token


def _open(business_id, page: str = "overview", query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dokani_session_token"] = signed_in_token("atlas", "owner")
    at.session_state["dokani_business_id"] = str(business_id)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page != "overview":
        at.switch_page(f"views/{page}.py")
        at.run()
    return at


def _metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


def _links(at) -> dict[str, tuple[str, dict]]:
    """Page links by label: (page url path, query parameters)."""
    out = {}
    for el in at.get("page_link"):
        proto = el.proto
        out.setdefault(proto.label, (proto.page, {k: v[-1] for k, v in parse_qs(proto.query_string).items()}))
    return out


@pytest.fixture
def small_shop(fresh_db):
    """A business of the demo owner with four returns from the last days (two decided by a person)."""
    owner = user("atlas", "owner")
    now = datetime.utcnow()
    with psycopg.connect(fresh_db, autocommit=True) as c:
        made = make_business(c, "smallshop", members=[(owner.user_id, "owner")])
        b = made["business_id"]
        insert_return(c, b, now - timedelta(days=2), "approved", "auto_deny", person_h=3, value=60,
                      details=trace(("return_window", "violation")))
        insert_return(c, b, now - timedelta(days=3), "denied", "auto_deny", person_h=5, value=40,
                      details=trace(("return_window", "violation")))
        insert_return(c, b, now - timedelta(days=1), "pending_review", "human_review", value=25)
        insert_return(c, b, now - timedelta(days=5), "escalated", "human_review", value=90)
    made["owner_actor"] = made["owner"].__class__(user_id=owner.user_id, business_id=b, role="owner", email=owner.email)
    return made


def test_tiles_show_the_figures_and_mark_small_samples(small_shop):
    at = _open(small_shop["business_id"])
    no_exceptions(at)
    assert _metric(at, "Return requests").value == "4"
    assert _metric(at, "Decided").value == "2"
    assert _metric(at, "Approval rate").value == "50%"
    assert _metric(at, "Waiting for a decision").value == "2"
    assert _metric(at, "Overdue (> 48 h)").value == "1"
    assert _metric(at, "Agreement with the AI").value == "50%"
    assert _metric(at, "Refunded value").value == "$60.00"
    captions = [c.value for c in at.caption]
    assert "1 of 2 decided · small sample (fewer than 10)" in captions
    assert "1 of 2 decisions by a person where the AI pushed an outcome · small sample (fewer than 10)" in captions
    assert _metric(at, "Calls linked to a return").value == "no data"  # no calls: no share
    assert _metric(at, "Call success rate").value == "no data"


def test_the_overview_period_is_a_deep_link_too(small_shop):
    at = _open(small_shop["business_id"], query={"period": "Last 7 days"})
    no_exceptions(at)
    today = datetime.utcnow().date()
    assert any(f"Returns asked {today - timedelta(days=6)} to {today} (UTC)" in c.value for c in at.caption)
    assert _links(at)["Show successful calls"][1]["period"] == "Last 7 days"


def test_every_return_tile_links_to_the_queue_with_its_filters(small_shop):
    at = _open(small_shop["business_id"])
    links = _links(at)
    page, query = links["Show approved returns"]
    assert page == "returns" and query["status"] == "approved,completed"
    assert query["from"] == (datetime.utcnow().date() - timedelta(days=89)).isoformat()
    assert query["to"] == datetime.utcnow().date().isoformat()
    assert links["Show these returns"][1]["status"] == "any"
    assert links["Show overdue returns"][1] == {"sla": "overdue"}  # the default statuses: needs review, escalated
    assert links["Show decisions by a person"][1]["by"] == "person"
    assert links["Open the Risk page"][0] == "risk" and links["Open the Chat test lab"][0] == "chat"
    assert links["Show successful calls"] == ("calls", {"evaluation": "successful", "period": "Last 90 days"})


def test_the_queue_opened_from_a_link_shows_exactly_the_rows_counted(small_shop):
    at = _open(small_shop["business_id"])
    _, query = _links(at)["Show decisions by a person"]
    queue = _open(small_shop["business_id"], "returns", query)
    no_exceptions(queue)
    texts = [t.value for t in queue.text]
    assert any("AI said: approve, deny" in t and "decided by a person" in t for t in texts), texts
    assert any("of 2 matching" in c.value for c in queue.caption), [c.value for c in queue.caption]
    _, overdue = _links(at)["Show overdue returns"]
    queue = _open(small_shop["business_id"], "returns", overdue)
    assert any("of 1 matching" in c.value for c in queue.caption)


def test_the_calls_link_opens_the_calls_page_filtered(small_shop):
    at = _open(small_shop["business_id"])
    _, query = _links(at)["Show successful calls"]
    calls = _open(small_shop["business_id"], "calls", query)
    no_exceptions(calls)
    assert next(s for s in calls.selectbox if s.label == "Evaluation").value == "successful"
    assert not calls.warning


def test_the_rule_table_links_to_the_policies(small_shop):
    assert _links(_open(small_shop["business_id"]))["Open the policy rules behind these clauses"][0] == "policies"


def test_the_same_link_opened_again_after_another_page_still_applies(small_shop):
    at = _open(small_shop["business_id"])
    _, query = _links(at)["Show denied returns"]
    queue = _open(small_shop["business_id"], "returns", query)
    assert any("of 1 matching" in c.value for c in queue.caption)
    queue.switch_page("views/overview.py").run()
    for key, value in query.items():
        queue.query_params[key] = value
    queue.switch_page("views/returns.py").run()
    no_exceptions(queue)
    assert any("of 1 matching" in c.value for c in queue.caption), [c.value for c in queue.caption]
    assert any("status: denied" in t.value for t in queue.text)


def test_a_hand_edited_link_says_what_is_wrong(small_shop):
    queue = _open(small_shop["business_id"], "returns", {"from": "yesterday", "status": "denied"})
    no_exceptions(queue)
    assert any("is not a date" in e.value for e in queue.error)


def test_override_by_rule_and_agreement_tables(small_shop):
    at = _open(small_shop["business_id"])
    frames = [d.value for d in at.dataframe]
    rules = next(f for f in frames if "rule" in f.columns)
    row = rules.iloc[0]
    assert (row["rule"], row["clause"], row["decisions"], row["overrode"], row["override rate"]) == (
        "return_window", "violation", 2, 1, "50%")
    assert bool(row["small sample"]) and "rule=return_window%3Aviolation" in row["open"]


def test_snapshot_trend_names_missing_weeks(small_shop):
    with unit_of_work(small_shop["owner_actor"]) as uow:
        take_snapshot(uow, "week")
    at = _open(small_shop["business_id"])
    no_exceptions(at)
    assert any("11 of the last 12 weeks have no snapshot" in w.value for w in at.warning)


def test_statuses_and_rule_names_from_the_data_stay_text(small_shop, fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as c:
        insert_return(c, small_shop["business_id"], datetime.utcnow() - timedelta(days=1), "[won](http://evil.example)",
                      None, value=1)
        insert_return(c, small_shop["business_id"], datetime.utcnow() - timedelta(days=1), "denied", "auto_deny",
                      person_h=1, details=trace(("**evil**", "pass")))
    at = _open(small_shop["business_id"])
    no_exceptions(at)
    labels = [el.proto.label for el in at.get("page_link")]
    from dokani.ui.text import md

    assert f"{md('[won](http://evil.example)')}: 1" in labels, labels  # escaped: shown as typed, never a link
    assert any(label.startswith(r"Show the overrides of \*\*evil\*\*") for label in labels), labels


def test_an_empty_business_renders_cleanly(fresh_db):
    owner = user("atlas", "owner")
    with psycopg.connect(fresh_db, autocommit=True) as c:
        made = make_business(c, "emptyshop", members=[(owner.user_id, "admin")])
    at = _open(made["business_id"])
    no_exceptions(at)
    assert any("No return requests in this period" in i.value for i in at.info)
    assert _metric(at, "Return requests").value == "0"
    assert _metric(at, "Approval rate").value == "no data"
    assert _metric(at, "Agreement with the AI").value == "no data"
    assert _metric(at, "Median time to decision").value == "no data"
    assert any("No return asked in this period was decided by a person" in i.value for i in at.info)
    assert any("No weekly snapshot yet" in i.value for i in at.info)
    assert not at.warning
