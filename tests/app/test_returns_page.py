"""The returns page driven with AppTest: queue, filters, paging, KPIs, review panel, decisions, conflicts."""
from __future__ import annotations

import psycopg
import pytest

from db.demo import business, user
from tests.app.conftest import no_exceptions, open_page


def _rows(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_queue_renders_kpis_and_first_page(seeded_db):
    at = open_page("returns")
    no_exceptions(at)
    labels = {m.label: m.value for m in at.metric}
    (waiting,), = _rows(seeded_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status IN "
                                   "('pending_review', 'escalated')", business("atlas").business_id)
    assert labels["Waiting for a decision"] == f"{waiting:,}"
    print(labels)
    print([c.value for c in at.caption])
    print(at.dataframe[0].value.head())
