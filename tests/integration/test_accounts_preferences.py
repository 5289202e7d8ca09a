"""Each person's settings: stored in user_preferences, their own only, invalid values refused."""
from __future__ import annotations

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.accounts.preferences import Preferences, load_preferences, save_preferences
from dokani.errors import Invalid
from tests.conftest import actor_for


def test_someone_who_never_saved_gets_the_defaults(fresh_db):
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        assert load_preferences(uow) == Preferences()


def test_saved_settings_are_read_back_and_kept_per_person(fresh_db):
    reviewer, viewer = actor_for("atlas", "reviewer"), actor_for("atlas", "viewer")
    with unit_of_work(reviewer) as uow:
        save_preferences(uow, {"landing_page": "returns", "rows_per_page": 100, "review_sla_hours": 24,
                               "time_zone": "Europe/Berlin"})
    with unit_of_work(viewer) as uow:  # a viewer may keep settings too (they are personal)
        save_preferences(uow, {"rows_per_page": 25})
    with unit_of_work(reviewer) as uow:
        mine = load_preferences(uow)
    assert (mine.landing_page, mine.rows_per_page, mine.review_sla_hours, mine.time_zone) == (
        "returns", 100, 24, "Europe/Berlin")
    with unit_of_work(viewer) as uow:
        assert load_preferences(uow).rows_per_page == 25 and load_preferences(uow).landing_page == "overview"
    with psycopg.connect(fresh_db) as c:
        assert c.execute("SELECT count(*) FROM user_preferences").fetchone() == (2,)


@pytest.mark.parametrize("changes", [{"time_zone": "Mars/Olympus"}, {"rows_per_page": 7},
                                     {"review_sla_hours": 0}, {"landing_page": "nowhere"}])
def test_invalid_settings_are_refused_and_nothing_is_stored(fresh_db, changes):
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        with pytest.raises(Invalid, match="cannot be saved"):
            save_preferences(uow, changes)
    with psycopg.connect(fresh_db) as c:
        assert c.execute("SELECT count(*) FROM user_preferences").fetchone() == (0,)


def test_a_stored_value_that_is_no_longer_valid_falls_back_to_its_default(fresh_db):
    reviewer = actor_for("atlas", "reviewer")
    with psycopg.connect(fresh_db) as c:
        c.execute("INSERT INTO user_preferences (user_id, preferences) VALUES (%s, %s)",
                  (reviewer.user_id, '{"landing_page": "retired-page", "rows_per_page": 200, "time_zone": "No/Where"}'))
    with unit_of_work(reviewer) as uow:
        prefs = load_preferences(uow)
    assert (prefs.landing_page, prefs.rows_per_page, prefs.time_zone) == ("overview", 200, "UTC")


def test_one_person_cannot_read_or_change_anothers_settings(fresh_db):
    reviewer, owner = actor_for("atlas", "reviewer"), actor_for("atlas", "owner")
    with unit_of_work(reviewer) as uow:
        save_preferences(uow, {"time_zone": "Asia/Tokyo"})
    with unit_of_work(owner) as uow:
        from sqlalchemy import text

        assert uow.session.execute(text("SELECT count(*) FROM user_preferences")).scalar() == 0
        changed = uow.session.execute(text("UPDATE user_preferences SET preferences = '{}' WHERE user_id = :u"),
                                      {"u": reviewer.user_id}).rowcount
        assert changed == 0
