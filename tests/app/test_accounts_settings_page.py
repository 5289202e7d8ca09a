"""Your settings: saved settings change the queue's defaults, the times shown and where sign-in lands."""
from __future__ import annotations

import psycopg

from db.demo import user
from tests.app.conftest import no_exceptions, open_page


def _save(at, **values):
    for label, value in values.items():
        next(s for s in at.selectbox if s.label == label).select(value) if label != "Review SLA (hours)" else \
            next(n for n in at.number_input if n.label == label).set_value(value)
    next(b for b in at.get("form_submit_button") if b.label == "Save settings").click().run()


def test_saving_settings_changes_the_queue_defaults(fresh_db):
    at = open_page("settings", "atlas", "reviewer")
    no_exceptions(at)
    _save(at, **{"Rows per page in the return queue": 25, "Review SLA (hours)": 12, "Show times in": "Asia/Tokyo"})
    no_exceptions(at)
    assert any("settings are saved" in s.value for s in at.success)
    assert any("Asia/Tokyo" in c.value for c in at.caption)
    with psycopg.connect(fresh_db) as c:
        stored = c.execute("SELECT preferences FROM user_preferences WHERE user_id = %s",
                           (user("atlas", "reviewer").user_id,)).fetchone()[0]
    assert stored["rows_per_page"] == 25 and stored["review_sla_hours"] == 12
    at.switch_page("views/returns.py").run()
    no_exceptions(at)
    assert at.selectbox(key="queue_page_size").value == 25
    assert at.number_input(key="returns_sla_hours").value == 12
    assert any("Overdue (> 12 h)" in m.label for m in at.metric)


def test_the_landing_page_opens_on_the_next_sign_in(fresh_db):
    with psycopg.connect(fresh_db) as c:
        c.execute("INSERT INTO user_preferences (user_id, preferences) VALUES (%s, '{\"landing_page\": \"returns\"}')",
                  (user("atlas", "reviewer").user_id,))
    at = open_page("overview", "atlas", "reviewer")
    no_exceptions(at)
    assert at.title[0].value != "Overview"
    assert any(t.value.startswith("Returns") for t in at.title)
