"""Snapshots: `python -m dokani snapshot` keeps a period's KPIs and each agent's decision quality; a second run for
the same period replaces them; the trend reads them back and names the periods without one."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.analytics.snapshots import last_complete, period_of, recent_periods, snapshot_trend, take_snapshot
from dokani.errors import Invalid, NotAllowed
from tests.analytics_fixtures import HAND, hand_built

ROOT = Path(__file__).resolve().parents[2]
NOVEMBER = period_of("month", date(2025, 11, 15))


def _rows(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("DOKANI_APP_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "dokani", "snapshot", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_calendar_periods():
    assert period_of("week", date(2025, 11, 5)).first_day == date(2025, 11, 3)  # a Monday
    assert period_of("week", date(2025, 11, 5)).last_day == date(2025, 11, 9)
    assert (NOVEMBER.first_day, NOVEMBER.last_day) == (date(2025, 11, 1), date(2025, 11, 30))
    assert last_complete("month", date(2026, 1, 10)).first_day == date(2025, 12, 1)
    assert [p.first_day for p in recent_periods("week", 3, date(2025, 11, 19))] == [
        date(2025, 10, 27), date(2025, 11, 3), date(2025, 11, 10)]
    with pytest.raises(Invalid):
        period_of("year", date(2025, 1, 1))


@pytest.fixture
def hand(empty_db):
    return hand_built(empty_db)


def test_snapshot_writes_the_kpis_and_agent_quality_and_a_rerun_replaces(hand, empty_db):
    b = hand["business_id"]
    with unit_of_work(hand["owner"]) as uow:
        first = take_snapshot(uow, "month", NOVEMBER)
    assert not first.replaced
    metrics = dict(_rows(empty_db, "SELECT metric_type, metric_data FROM business_analytics WHERE business_id = %s", b))
    assert set(metrics) == {"return_kpis", "ai_agreement", "rule_overrides", "lab_and_calls"}
    k = metrics["return_kpis"]
    assert (k["opened"], k["decided"], k["refunded_value"]) == (HAND["opened"], HAND["decided"], HAND["refunded"])
    assert k["approval"]["small_sample"] is True and k["approval"]["n"] == 6
    assert (k["workload_at_snapshot"]["waiting"], k["workload_at_snapshot"]["overdue"]) == (HAND["waiting"], HAND["overdue"])
    assert metrics["ai_agreement"]["overall"]["hits"] == HAND["agreed"]
    assert metrics["lab_and_calls"]["calls_linked"]["n"] == 0  # no calls in the hand-built business
    (start, end), = _rows(empty_db, "SELECT DISTINCT period_start, period_end FROM business_analytics WHERE business_id = %s", b)
    assert (start.date(), end.date()) == (date(2025, 11, 1), date(2025, 12, 1))
    (agent, quality, ms, data), = _rows(
        empty_db, "SELECT agent_type, decision_quality_score, response_time_ms, performance_metrics "
                  "FROM agent_performance_logs WHERE business_id = %s", b)
    assert agent == "triage" and data["agent_id"] == "dokani-triage/1"
    assert float(quality) == pytest.approx(HAND["agreed"] / HAND["pushed"]) and ms == 800
    assert (data["person_decisions"], data["pushed"], data["agreed"]) == (HAND["person_decisions"], 3, 2)

    with psycopg.connect(empty_db, autocommit=True) as c:  # a late decision changes November
        c.execute("UPDATE return_requests SET status = 'denied', admin_decision_at = created_at + interval '1 hour', "
                  "denied_at = created_at + interval '1 hour' WHERE id = %s", (hand["ids"]["r7"],))
    with unit_of_work(hand["owner"]) as uow:
        again = take_snapshot(uow, "month", NOVEMBER)
    assert again.replaced
    counts = _rows(empty_db, "SELECT metric_type, count(*) FROM business_analytics WHERE business_id = %s GROUP BY 1", b)
    assert all(n == 1 for _, n in counts) and len(counts) == 4
    assert _rows(empty_db, "SELECT count(*) FROM agent_performance_logs WHERE business_id = %s", b) == [(1,)]
    (decided,), = _rows(empty_db, "SELECT (metric_data ->> 'decided')::int FROM business_analytics "
                                  "WHERE business_id = %s AND metric_type = 'return_kpis'", b)
    assert decided == HAND["decided"] + 1
    (audits,), = _rows(empty_db, "SELECT count(*) FROM audit_log WHERE action = 'analytics.snapshot' AND business_id = %s", b)
    assert audits == 2


def test_a_duplicate_snapshot_row_is_impossible(hand, empty_db):
    with unit_of_work(hand["owner"]) as uow:
        take_snapshot(uow, "month", NOVEMBER)
    with psycopg.connect(empty_db) as c, pytest.raises(psycopg.errors.UniqueViolation):
        c.execute("INSERT INTO business_analytics (business_id, metric_type, metric_data, period_start, period_end) "
                  "SELECT business_id, metric_type, metric_data, period_start, period_end FROM business_analytics "
                  "WHERE business_id = %s LIMIT 1", (hand["business_id"],))


def test_only_owners_and_admins_take_snapshots_and_periods_must_be_calendar_ones(hand):
    with unit_of_work(hand["reviewer"]) as uow, pytest.raises(NotAllowed):
        take_snapshot(uow, "week", period_of("week", date(2025, 11, 5)))
    with unit_of_work(hand["owner"]) as uow, pytest.raises(Invalid):
        take_snapshot(uow, "week", NOVEMBER)


def test_trend_reads_snapshots_and_names_the_missing_periods(hand):
    with unit_of_work(hand["owner"]) as uow:
        take_snapshot(uow, "week", period_of("week", date(2025, 11, 4)))
        take_snapshot(uow, "week", period_of("week", date(2025, 11, 18)))
        points = snapshot_trend(uow, "week", 4, today=date(2025, 11, 26))
    assert [(p.period.first_day, p.present) for p in points] == [
        (date(2025, 10, 27), False), (date(2025, 11, 3), True), (date(2025, 11, 10), False), (date(2025, 11, 17), True)]
    assert points[1].opened == 2 and points[1].agreement == pytest.approx(0.5) and points[1].agreement_n == 2


def test_cli_snapshots_every_business_then_one_and_refuses_bad_input(fresh_db):
    from db.demo import business

    atlas = business("atlas").business_id
    out = _cli(fresh_db, "--period", "month", "--of", "2026-11-15")
    assert out.returncode == 0, out.stderr
    assert "Atlas Outfitters: month 2026-11-01 to 2026-11-30: 4 metric rows" in out.stdout and "written" in out.stdout
    again = _cli(fresh_db, "--business", str(atlas), "--period", "month", "--of", "2026-11-15")
    assert again.returncode == 0 and "replaced" in again.stdout and "Bloom" not in again.stdout
    rows = _rows(fresh_db, "SELECT business_id, count(*) FROM business_analytics WHERE metric_data ? 'snapshot' "
                           "GROUP BY 1")
    assert len(rows) == 2 and all(n == 4 for _, n in rows)
    bad = _cli(fresh_db, "--of", "last tuesday")
    assert bad.returncode == 2 and "not a date" in bad.stderr and "Traceback" not in bad.stderr
    bad = _cli(fresh_db, "--business", "atlas")
    assert bad.returncode == 2 and "UUID" in bad.stderr


def test_the_worker_takes_the_weekly_and_monthly_snapshots_of_every_business(fresh_db):
    from dokani.jobs import tasks

    # (once the queue app has taken the blueprint, its tasks are named "dokani:<task>")
    assert {"weekly_snapshots", "monthly_snapshots"} <= {name.split(":")[-1] for name in tasks.tasks.tasks}
    assert tasks.take_snapshots("week") == 2  # the two demo businesses
    assert tasks.take_snapshots("week") == 2  # again: replaced, not duplicated
    (rows,), = _rows(fresh_db, "SELECT count(*) FROM business_analytics WHERE metric_data ->> 'period' = 'week'")
    assert rows == 2 * 4
