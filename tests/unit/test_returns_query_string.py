"""Drill-down links: a queue filter in the query string and back, and wrong links refused with a reason."""
from __future__ import annotations

from datetime import date

import pytest

from dokani.errors import Invalid
from dokani.returns.filters import ReturnQueueFilter
from dokani.returns.query_string import from_query, queue_query, to_query


def test_round_trip_keeps_every_filter():
    f = ReturnQueueFilter(statuses=["approved", "completed"], created_from=date(2026, 11, 1), created_to=date(2026, 11, 30),
                          recommendations=["auto_deny"], decided_by_person=True, rule_trace=["return_window:violation"],
                          sla_states=["overdue"], sla_hours=24, categories=["shoes"], min_value=10)
    q = to_query(f)
    assert q["status"] == "approved,completed" and q["by"] == "person" and q["rule"] == "return_window:violation"
    assert from_query(q) == f


def test_defaults_are_left_out_and_any_status_is_explicit():
    assert queue_query() == {}
    assert queue_query(statuses=[]) == {"status": "any"}
    assert from_query({"status": "any"}).statuses == []
    assert from_query({}).statuses == ReturnQueueFilter().statuses


@pytest.mark.parametrize("params, says", [
    ({"from": "yesterday"}, "not a date"),
    ({"from": "2026-11-30", "to": "2026-11-01"}, "start date is after the end date"),
    ({"ai": "auto_maybe"}, "should be 'auto_approve'"),
    ({"rule": "return_window"}, "rule:outcome"),
    ({"by": "robot"}, "person"),
    ({"min_value": "ten"}, "not a number"),
])
def test_wrong_links_say_what_is_wrong(params, says):
    with pytest.raises(Invalid) as err:
        from_query(params)
    assert says in str(err.value) or says in " ".join(err.value.problems.values())
