"""Scenario suites: parsing with line-precise errors, the runner (a failing expectation really fails),
persona_test_logs rows, the activation-gate reader, pass-rate history, and the test-persona CLI."""
from __future__ import annotations

import textwrap

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.lab import suite_files
from dokani.lab import suites as scenarios
from dokani.__main__ import main
from tests.lab_fixtures import load_lab_business
from tests.conftest import actor_for

SUITE = textwrap.dedent(
    """\
    suite: Lab suite
    customer: {email: alex@example.com}
    scenarios:
      - name: approve a damaged jacket
        turns:
          - say: "I want to return ATL-1001, it arrived damaged [photo]"
            expect:
              intent: return_request
              triage: auto_approve
              return_opened: {status: approved}
      - name: policy window
        turns:
          - say: "How long do I have to return something?"
            expect: {intent: policy_question, reply_contains: "30 days"}
    """
)
FAILING = SUITE.replace('reply_contains: "30 days"', 'reply_contains: "90 days"')


@pytest.fixture
def lab(empty_db):
    load_lab_business(empty_db)
    return empty_db


def _run(source: str, policy: str | None = "v1", persona: str = "Ava"):
    suite = suite_files.parse_suite(source, "suite.yaml")
    seen = []
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        summary = scenarios.run_suite(uow, suite, persona, policy, progress=lambda d, t, n: seen.append((d, t)))
    return summary, seen


def test_a_passing_suite_is_logged_per_scenario(lab):
    summary, seen = _run(SUITE)
    assert summary.passed_all and (summary.scenarios, summary.passed) == (2, 2)
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    with psycopg.connect(lab) as conn:
        rows = conn.execute(
            "SELECT test_type, test_content, success, test_result->>'policy_version', test_result->>'suite_run_id', "
            "test_duration_ms FROM persona_test_logs ORDER BY created_at").fetchall()
        test_returns = conn.execute("SELECT count(*) FROM return_requests WHERE is_test").fetchone()[0]
        live_returns = conn.execute("SELECT count(*) FROM return_requests WHERE NOT is_test").fetchone()[0]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("scenario", "approve a damaged jacket", True, "v1"), ("scenario", "policy window", True, "v1")]
    assert {r[4] for r in rows} == {summary.run_id} and all(r[5] is not None for r in rows)
    assert (test_returns, live_returns) == (1, 0)


def test_a_failing_expectation_fails_the_scenario_and_says_which(lab):
    summary, _ = _run(FAILING)
    assert not summary.passed_all and summary.passed == 1
    failed = next(r for r in summary.results if not r.passed)
    assert failed.name == "policy window"
    assert failed.first_failure.startswith("turn 1: reply contains: expected '90 days'")
    assert failed.turns[0].reply  # the transcript is kept for the page
    with psycopg.connect(lab) as conn:
        success, message = conn.execute(
            "SELECT success, error_message FROM persona_test_logs WHERE test_content = 'policy window'").fetchone()
    assert success is False and "90 days" in message


def test_the_policy_version_is_part_of_the_test(lab):
    summary, _ = _run(SUITE, policy="v2-draft")
    failed = {r.name for r in summary.results if not r.passed}
    assert failed == {"policy window"}  # the draft's window is 60 days
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        draft = scenarios.latest_suite_result(uow, "v2-draft")
        assert draft is not None and not draft.passed_all and draft.run_id == summary.run_id
        assert scenarios.latest_suite_result(uow, "v1") is None
    _run(SUITE, policy="v1")
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        v1 = scenarios.latest_suite_result(uow, "v1")
        assert v1.passed_all and v1.persona_name == "Ava" and [r.name for r in v1.results] == [
            "approve a damaged jacket", "policy window"]
        history = scenarios.pass_rate_history(uow, v1.persona_id)
    assert list(history["pass_rate"]) == [0.5, 1.0]
    assert list(history["policy_version"]) == ["v2-draft", "v1"]


def test_a_scenario_that_cannot_run_fails_without_stopping_the_suite(lab):
    broken = SUITE.replace("customer: {email: alex@example.com}", "customer: {email: alex@example.com, order: NOPE-123}")
    summary, _ = _run(broken)
    assert summary.passed == 0 and all("NOPE-123" in r.error for r in summary.results)


def test_suite_file_errors_name_the_line():
    bad = SUITE.replace("intent: return_request", "intent: refund_please").replace(
        "  - name: policy window\n", "  - name: policy window\n    colour: red\n")
    with pytest.raises(suite_files.SuiteFileError) as err:
        suite_files.parse_suite(bad, "bad.yaml")
    assert err.value.lines[0].startswith("bad.yaml:8:")
    assert "scenarios[0].turns[0].expect.intent" in err.value.lines[0]
    assert err.value.lines[1].startswith("bad.yaml:12:") and "unknown key 'colour'" in err.value.lines[1]
    with pytest.raises(suite_files.SuiteFileError) as err:
        suite_files.parse_suite("suite: x\nscenarios:\n  - name: [unclosed\n", "broken.yaml")
    assert err.value.lines[0].startswith("broken.yaml:4:")


def test_the_example_suite_is_valid():
    for path in suite_files.example_suites():
        assert suite_files.load_suite_file(path).scenarios


def test_cli_exit_codes(lab, tmp_path, capsys):
    good, failing, broken = tmp_path / "good.yaml", tmp_path / "failing.yaml", tmp_path / "broken.yaml"
    good.write_text(SUITE)
    failing.write_text(FAILING)
    broken.write_text("suite: x\nscenarios: nope\n")
    args = ["--business", "Atlas Outfitters", "--persona", "Ava", "--policy", "v1", "--quiet"]
    assert main(["test-persona", str(good), *args]) == 0
    assert "2 of 2 scenarios passed" in capsys.readouterr().out
    assert main(["test-persona", str(failing), *args]) == 1
    out = capsys.readouterr().out
    assert "FAIL  policy window" in out and "90 days" in out
    assert main(["test-persona", str(broken), *args]) == 2
    assert "broken.yaml:2:" in capsys.readouterr().err
    assert main(["test-persona", str(good), "--business", "Atlas Outfitters", "--persona", "Nobody", "--quiet"]) == 2


def test_the_example_suite_passes_on_the_demo_data(fresh_db):
    path = suite_files.example_suites()[0]
    code = main(["test-persona", str(path), "--business", "Atlas Outfitters", "--persona", "Ava (warm voice)",
                 "--policy", "v1.1", "--quiet"])
    assert code == 0
    # the stricter draft also wants a receipt: the same suite fails there, which is what the gate is for
    assert main(["test-persona", str(path), "--business", "Atlas Outfitters", "--persona", "Ava (warm voice)",
                 "--policy", "v1.2-draft", "--quiet"]) == 1
