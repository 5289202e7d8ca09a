"""A return the engine never triaged has no risk: the column default (0.5) is never shown as a measurement."""
from __future__ import annotations

import psycopg

from db.uow import unit_of_work
from dokani.returns.filters import ReturnQueueFilter
from dokani.returns.queue import queue_page
from dokani.returns.review import return_detail


def test_an_untriaged_return_is_not_scored_in_the_queue_and_the_review_panel(fresh_db, atlas_reviewer):
    with psycopg.connect(fresh_db) as c:
        rid, public_id, stored = c.execute(
            "INSERT INTO return_requests (business_id, order_id, customer_email, reason_for_return) "
            "VALUES (%s, 'IMPORTED-1', 'imported@hand.test', 'too small') RETURNING id, public_id, risk_score::float",
            (atlas_reviewer.business_id,)).fetchone()
    assert stored == 0.5  # the schema's default
    with unit_of_work(atlas_reviewer) as uow:
        page = queue_page(uow, ReturnQueueFilter(statuses=["pending_triage"], search="imported@hand.test"))
        medium = queue_page(uow, ReturnQueueFilter(statuses=["pending_triage"], search="imported@hand.test",
                                                   risk_bands=["medium"]))
        detail = return_detail(uow, str(public_id))
    row = next(r for r in page.rows if r.id == rid)
    assert row.risk_score is None and row.risk_band is None
    assert page.to_frame().loc[0, "risk_band"] == "not scored yet"
    assert medium.rows == []
    assert detail.risk_score is None
    assert detail.risk_profile is None
