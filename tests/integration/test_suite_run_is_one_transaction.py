"""A suite run is one transaction: a database failure in its second scenario leaves nothing of the run behind;
a scenario the domain refuses is logged with its reason while the others are kept, with the run's audit row."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.exc import DBAPIError

from db.uow import unit_of_work
from dokani.__main__ import main
from dokani.lab import suite_files
from dokani.lab import suites as scenarios
from tests.conftest import actor_for
from tests.integration.test_lab_suites import SUITE, lab  # noqa: F401 - the lab fixture

COUNTED = ("chat_sessions", "chat_messages", "persona_test_logs", "audit_log", "return_requests")


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as c:
        return {t: c.execute(f"SELECT count(*) FROM public.{t}").fetchone()[0] for t in COUNTED}


def _refuse_in_database(url: str, marker: str) -> None:
    """A real Postgres failure on the second scenario's first message (a trigger, not a mock)."""
    with psycopg.connect(url) as c:
        c.execute(f"""
            CREATE FUNCTION public.refuse_marker() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.message LIKE '%{marker}%' THEN RAISE EXCEPTION 'disk full (simulated)'; END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_marker BEFORE INSERT ON public.chat_messages
              FOR EACH ROW EXECUTE FUNCTION public.refuse_marker();
        """)


BROKEN_SECOND = SUITE.replace("How long do I have to return something?", "How long do I have? boom-db")


def test_a_database_failure_in_the_second_scenario_keeps_nothing_of_the_run(lab):  # noqa: F811
    _refuse_in_database(lab, "boom-db")
    before = _counts(lab)
    suite = suite_files.parse_suite(BROKEN_SECOND, "suite.yaml")
    with unit_of_work(actor_for("atlas", "tester")) as uow, pytest.raises(DBAPIError):
        scenarios.run_suite(uow, suite, "Ava", "v1")
    assert _counts(lab) == before  # not the first scenario's session, messages, test return or log row


def test_the_cli_says_nothing_was_saved_instead_of_a_traceback(lab, tmp_path, capsys):  # noqa: F811
    _refuse_in_database(lab, "boom-db")
    before = _counts(lab)
    path = tmp_path / "suite.yaml"
    path.write_text(BROKEN_SECOND)
    code = main(["test-persona", str(path), "--business", "Atlas Outfitters", "--persona", "Ava", "--policy", "v1",
                 "--quiet"])
    assert code == 2
    assert "nothing of it was saved" in capsys.readouterr().err
    assert _counts(lab) == before


def test_a_refused_scenario_is_logged_with_its_reason_and_the_rest_is_kept(lab):  # noqa: F811
    broken = SUITE.replace("  - name: policy window\n", "  - name: policy window\n    customer: {order: NOPE-9}\n")
    before = _counts(lab)
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        summary = scenarios.run_suite(uow, suite_files.parse_suite(broken, "s.yaml"), "Ava", "v1")
    assert [r.passed for r in summary.results] == [True, False]
    assert "NOPE-9" in summary.results[1].error
    after = _counts(lab)
    assert after["chat_sessions"] == before["chat_sessions"] + 1  # only the scenario that ran has a session
    assert after["persona_test_logs"] == before["persona_test_logs"] + 2  # both explained in the log
    with psycopg.connect(lab) as c:
        run = c.execute("SELECT after->>'scenarios', after->>'passed' FROM audit_log "
                        "WHERE action = 'persona_test.suite_run'").fetchall()
    assert run == [("2", "1")]
