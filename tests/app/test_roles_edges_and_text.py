"""QA pass: what a role may not do is explained before a click; empty businesses and outages read clearly;
typed text quoted in messages shows verbatim (escaped), never as markdown or HTML."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from db.demo import business
from db.uow import unit_of_work
from dokani.risk import profiles as risk
from dokani.errors import NotAllowed
from dokani.ui.text import md
from tests.app.conftest import no_exceptions, open_page
from tests.conftest import actor_for
from tests.integration.policy_helpers import make_business

PAGES = ["overview", "returns", "policies", "chat", "calls", "risk", "import"]
HOSTILE = "**x** [y](http://evil.example) <b>z</b>"


def _said(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "text", "subheader")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _verbatim_in_markdown(bodies: list[str], value: str) -> bool:
    """The value is quoted escaped (it renders as typed), and never raw (it would render as bold, a link, HTML)."""
    return any(md(value) in b for b in bodies) and not any(value in b for b in bodies)


# ------------------------------------------------------------------ roles

def test_tester_is_told_they_cannot_resolve_a_security_event_before_clicking(seeded_db):
    at = open_page("risk", slug="tester")
    at.session_state["risk_view"] = "Security events"  # the inbox is one view of the page
    at.run()
    at.selectbox(key="risk_event").set_value(0).run()
    no_exceptions(at)
    resolve = next(b for b in at.get("form_submit_button") if b.label == "Mark resolved")
    assert resolve.disabled
    assert any("only owners, admins and reviewers can resolve" in i.value for i in at.info)


def test_reviewer_may_resolve_a_security_event(seeded_db):
    at = open_page("risk", slug="reviewer")
    at.session_state["risk_view"] = "Security events"  # the inbox is one view of the page
    at.run()
    at.selectbox(key="risk_event").set_value(0).run()
    assert not next(b for b in at.get("form_submit_button") if b.label == "Mark resolved").disabled
    assert not any("can resolve them" in i.value for i in at.info)


def test_the_service_refuses_a_tester_resolving_a_security_event(seeded_db):
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        event_id = risk.open_security_events(uow).iloc[0]["id"]
    with unit_of_work(actor_for("atlas", "tester")) as uow, pytest.raises(NotAllowed, match="resolve security events"):
        risk.resolve_security_event(uow, event_id, "tried")


def test_tester_is_told_why_the_queue_actions_are_disabled(seeded_db):
    at = open_page("returns", slug="tester")
    no_exceptions(at)
    assert any("can read the queue" in i.value for i in at.info)
    assert next(b for b in at.button if b.label.startswith("Triage ")).disabled
    reviewer = open_page("returns", slug="reviewer")
    assert not any("can read the queue" in i.value for i in reviewer.info)


# ------------------------------------------------------------------ edge states

@pytest.mark.parametrize("slug", ["owner", "reviewer", "tester"])
def test_a_business_with_no_data_explains_every_page(empty_db, slug):
    make_business(empty_db, "atlas")
    for page in PAGES:
        at = open_page(page, slug=slug)
        no_exceptions(at)
        said = _said(at)
        if page != "import":  # the import page shows no data, only a form
            assert any(w in said for w in ("No ", "no ", "yet", "can read")), (page, said)
        rates = {m.label: m.value for m in at.metric if "rate" in m.label.lower() or "satisfaction" in m.label.lower()
                 or "median" in m.label.lower() or "Settled" in m.label}
        assert all(v in ("no data", "nothing waiting") for v in rates.values()), (page, rates)


@pytest.mark.parametrize("page", PAGES)
def test_database_gone_mid_session_shows_the_banner_on_every_page(seeded_db, monkeypatch, page):
    from db import engine

    at = open_page(page, slug="owner")
    no_exceptions(at)
    assert at.title and not any("cannot be reached" in e.value for e in at.error)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    engine.dispose_all()
    try:
        at.run()
        no_exceptions(at)
        assert any("cannot be reached" in e.value for e in at.error), page
    finally:
        engine.dispose_all()


# ------------------------------------------------------------------ customer text

def _show_error(kind: str, message: str) -> None:
    from dokani import errors
    from dokani.ui.errors import show_domain_error

    err = getattr(errors, kind)(message, {"note": message}) if kind == "Invalid" else getattr(errors, kind)(message)
    show_domain_error(err)


@pytest.mark.parametrize("kind", ["Conflict", "Invalid", "NotAllowed", "NotFound"])
def test_domain_error_messages_quote_typed_text_verbatim(kind):
    at = AppTest.from_function(_show_error, args=(kind, f"A persona named {HOSTILE} already exists."))
    at.run()
    no_exceptions(at)
    bodies = [e.value for e in list(at.error) + list(at.warning) + list(at.caption)]
    assert _verbatim_in_markdown(bodies, HOSTILE), bodies


def test_import_file_name_shows_verbatim(fresh_db):
    at = open_page("import", slug="admin")
    name = f"{HOSTILE}.csv"
    at.file_uploader[0].set_value((name, b"order_id,customer_email,reason_for_return\nUP-1,a@example.com,x\n", "text/csv"))
    at.run()
    no_exceptions(at)
    assert _verbatim_in_markdown([s.value for s in at.success], name)
    at.file_uploader[0].set_value((name, b"order_id,customer_email,reason_for_return\nUP-1,nope,x\n", "text/csv"))
    at.run()
    assert _verbatim_in_markdown([e.value for e in at.error], name)


def test_a_duplicate_policy_name_is_quoted_verbatim(fresh_db):
    from tests.integration.policy_helpers import add_policy

    add_policy(fresh_db, "atlas", HOSTILE, state="retired")
    at = open_page("policies", slug="owner")
    active = next(k for k in at.text_input if k.label == "Name of the new draft")
    active.set_value(HOSTILE).run()
    next(b for b in at.button if b.label == "Create draft").click().run()
    no_exceptions(at)
    bodies = [e.value for e in at.error]
    assert any("already exists" in b for b in bodies), bodies
    assert _verbatim_in_markdown(bodies, HOSTILE), bodies


def test_services_read_the_role_from_postgres_not_from_the_actor(fresh_db):
    """A session that claims a bigger role than the membership is refused: policies, imports, resolving events."""
    from dataclasses import replace

    from dokani.returns import csv_import as importers
    from dokani.policies import lifecycle

    forged = replace(actor_for("atlas", "reviewer"), role="owner")
    with unit_of_work(forged) as uow, pytest.raises(NotAllowed):
        lifecycle.new_draft(uow, name="forged")
    preview = importers.preview_returns_csv(b"order_id,customer_email,reason_for_return\nUP-9,a@example.com,x\n")
    with unit_of_work(forged) as uow, pytest.raises(NotAllowed):
        importers.import_returns(uow, preview, file_name="forged.csv")
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        event_id = risk.open_security_events(uow).iloc[0]["id"]
    with unit_of_work(replace(actor_for("atlas", "tester"), role="reviewer")) as uow, pytest.raises(NotAllowed):
        risk.resolve_security_event(uow, event_id, "forged")


@pytest.mark.parametrize("slug", ["viewer", "tester"])
def test_a_role_that_cannot_decide_finds_no_decision_buttons(seeded_db, slug):
    import psycopg

    with psycopg.connect(seeded_db) as c:
        pid = c.execute("SELECT public_id::text FROM return_requests WHERE business_id = %s AND status = 'pending_review' "
                        "AND NOT is_test LIMIT 1", (business("atlas").business_id,)).fetchone()[0]
    at = open_page("returns", "atlas", slug, query={"return": pid})
    no_exceptions(at)
    assert not [b for b in at.button if b.label in ("Approve", "Deny", "Escalate")]
    assert any("can read returns but not decide them" in i.value for i in at.info)
