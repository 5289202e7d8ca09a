"""Issue 12, entry points over the real database: every generated input is accepted or refused with a domain
error (never a database error or another exception), and a refusal leaves the row counts unchanged."""
from __future__ import annotations

import csv
import io
import math
from datetime import date

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.demo import business
from db.uow import unit_of_work
from dokani.__main__ import main
from dokani.errors import DokaniError
from dokani.lab import conversations, personas, suite_files
from dokani.lab import sessions as chat_lab
from dokani.policies import lifecycle
from dokani.returns import csv_import as importers
from dokani.returns.filters import build_filter
from dokani.returns.queue import export_csv, queue_page
from dokani.risk.profiles import risky_customers
from tests.conftest import actor_for
from tests.hostile import hostile_text
from tests.integration.test_lab_suites import SUITE, lab  # noqa: F401 - the lab fixture

FEW = settings(max_examples=15)
TABLES = ("return_requests", "policies", "provider_configs", "chat_sessions", "chat_messages", "persona_test_logs")


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as c:
        return {t: c.execute(f"SELECT count(*) FROM public.{t}").fetchone()[0] for t in TABLES}


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["order_id", "customer_email", "reason_for_return", "created_at", "order_value",
                                "days_since_purchase", "product_category"], *rows])
    return out.getvalue().encode("utf-8", "surrogatepass")


good_cells = ["HYP-1", "a@b.example", "broken", "2026-11-20 09:15", "12.5", "3", "home"]
csv_rows = st.lists(st.lists(st.one_of(hostile_text, st.sampled_from(good_cells)), min_size=7, max_size=7), min_size=1,
                    max_size=4)


@FEW
@given(csv_rows)
def test_importing_any_file_is_a_count_or_a_domain_error(fresh_db, rows):
    before = _counts(fresh_db)
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        preview = importers.preview_returns_csv(_csv(rows))
        try:
            count = importers.import_returns(uow, preview, file_name="hyp.csv")
        except DokaniError:
            count = None
        uow.session.flush()  # the database takes what was written (no NUL, no overflow), then rolled back
    assert _counts(fresh_db) == before
    assert count is None or count == len(preview.rows)


def test_the_import_cli_refuses_hostile_files_without_a_traceback(fresh_db, tmp_path, capsys):
    before = _counts(fresh_db)
    atlas = str(business("atlas").business_id)
    for n, rows in enumerate([[["A", "a@b.example", "x\x00", "", "nan", "", ""]],
                              [["A", "a@b.example", "x", "0001-01-01T00:00:00+05:00", "1e400", "9" * 30, ""]],
                              [["A", "a@b.example", "x", "", "", "", ""], ["A", "a@b.example", "y", "", "", "", ""]]]):
        path = tmp_path / f"bad{n}.csv"
        path.write_bytes(_csv(rows))
        assert main(["import-returns", str(path), "--business", atlas, "--quiet"]) == 2
        assert "nothing was written" in capsys.readouterr().err
    assert _counts(fresh_db) == before


@FEW
@given(st.one_of(hostile_text, st.sampled_from(['{"auto_approve_threshold": Infinity}', '{"x": "\\u0000"}',
                                                '{"return_window_days": 99999999999999999999}', "[" * 500])))
def test_saving_any_policy_json_or_name_is_a_version_or_a_domain_error(fresh_db, text):
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        try:
            draft = lifecycle.new_draft(uow, name=f"hyp {len(text)}")
        except DokaniError:
            return
        before = _counts(fresh_db)
        for attempt in (lambda: lifecycle.save_draft(uow, draft.id, text, draft.lock_version),
                        lambda: lifecycle.save_draft(uow, draft.id, draft.rules, draft.lock_version, name=text),
                        lambda: lifecycle.new_draft(uow, draft.id, name=text)):
            try:
                attempt()
            except DokaniError:
                assert _counts(fresh_db) == before


@FEW
@given(search=hostile_text, low=st.floats(), high=st.floats(), start=st.dates(), end=st.dates(),
       category=hostile_text)
def test_any_queue_filter_is_a_page_or_a_domain_error(seeded_db, search, low, high, start, end, category):
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        try:
            f = build_filter(search=search, min_value=low, max_value=high, created_from=start, created_to=end,
                             categories=[category])
        except DokaniError:
            return
        assert math.isfinite(f.min_value) and date(1970, 1, 1) <= f.created_from <= date(2100, 12, 31)
        queue_page(uow, f)
        export_csv(uow, f)


@FEW
@given(hostile_text)
def test_any_risk_or_session_search_is_a_page_or_a_domain_error(lab, search):  # noqa: F811
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        for search_with in (lambda: risky_customers(uow, search=search), lambda: chat_lab.list_sessions(uow, search)):
            try:
                search_with()
            except DokaniError:
                pass


@settings(max_examples=10)
@given(name=hostile_text, message=hostile_text)
def test_a_persona_name_accepted_when_saved_works_in_every_later_chat(lab, name, message):  # noqa: F811
    before = _counts(lab)
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        try:
            made = personas.create_persona(uow, "elevenlabs", name, {"persona_name": name or "x", "voice_id": "voice_hyp_1"})
        except DokaniError:
            assert _counts(lab) == before
            return
        session = chat_lab.create_session(uow, chat_lab.SessionDraft(
            name="hyp", persona_id=made.id, policy_version="v1", customer_email="alex@example.com"))
        try:
            conversations.send_message(uow, session.id, message)
        except DokaniError:
            pass
        conversations.send_message(uow, session.id, "How long do I have to return something?")
    with unit_of_work(actor_for("atlas", "owner")) as uow:  # leave the lab as it was for the next example
        uow.session.execute(personas.ProviderConfig.__table__.update().where(
            personas.ProviderConfig.id == made.id).values(is_active=False))
        uow.commit()


def test_the_suite_cli_refuses_hostile_files_and_writes_nothing(lab, tmp_path, capsys):  # noqa: F811
    before = _counts(lab)
    args = ["--business", "Atlas Outfitters", "--persona", "Ava", "--policy", "v1", "--quiet"]
    hostile = {
        "aliases.yaml": "a: &a [x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n"
                        "d: [*c,*c,*c,*c,*c,*c,*c,*c]\n",
        "deep.json": "[" * 5000 + "]" * 5000,
        "nul.yaml": SUITE.replace("How long do I have", "How long\\0 do I have").replace(
            '"How long\\0', '"How long\\0'),
        "bigint.yaml": SUITE + "    orders: [{order_id: X, order_value: " + "9" * 5000 + "}]\n",
        "latin1.yaml": None,
    }
    for name, body in hostile.items():
        path = tmp_path / name
        if body is None:
            path.write_bytes("suite: caf\xe9\n".encode("latin-1"))
        else:
            path.write_text(body)
        assert main(["test-persona", str(path), *args]) == 2, name
        assert f"{name}:" in capsys.readouterr().err
    assert _counts(lab) == before


def test_example_suites_still_parse():
    assert all(suite_files.load_suite_file(p) for p in suite_files.example_suites())


@pytest.mark.parametrize("name", ["A" * 61, "A" * 80, "Ava {name}", "Ava}", "[Ava](x)", "Ava\x00", "\u202eAva"])
def test_persona_and_policy_names_have_one_limit_checked_when_saved(lab, name):  # noqa: F811
    before = _counts(lab)
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        with pytest.raises(DokaniError):
            personas.create_persona(uow, "elevenlabs", name, {"persona_name": "Nia", "voice_id": "voice_nia_1"})
        with pytest.raises(DokaniError):
            personas.create_persona(uow, "elevenlabs", "Nia", {"persona_name": name, "voice_id": "voice_nia_1"})
        with pytest.raises(DokaniError):
            lifecycle.new_draft(uow, name=name)
    assert _counts(lab) == before
