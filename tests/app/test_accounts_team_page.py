"""The Team page as an owner and as a reviewer."""
from __future__ import annotations

import psycopg

from db.demo import business
from tests.app.conftest import no_exceptions, open_page


def test_an_owner_invites_and_gets_a_one_time_link_to_pass_on(fresh_db):
    at = open_page("team", "atlas", "owner")
    no_exceptions(at)
    emails = list(at.dataframe[0].value["email"])
    assert "viewer@atlas.example" in emails and "owner@atlas.example" in emails
    at.text_input(key="team_invite_email").input("jo@atlas.example")
    at.selectbox(key="team_invite_role").select("tester")
    next(b for b in at.get("form_submit_button") if b.label == "Invite").click().run()
    no_exceptions(at)
    assert any("jo@atlas.example is now tester" in s.value for s in at.success)
    assert any("/set-password?token=" in c.value for c in at.code)
    with psycopg.connect(fresh_db) as c:
        role = c.execute("SELECT role FROM business_members WHERE business_id = %s AND email = 'jo@atlas.example'",
                         (business("atlas").business_id,)).fetchone()
    assert role == ("tester",)


def test_a_reviewer_sees_the_team_but_cannot_change_it(seeded_db):
    at = open_page("team", "atlas", "reviewer")
    no_exceptions(at)
    assert any("only owners and admins" in i.value for i in at.info)
    assert not [b for b in at.get("form_submit_button") if b.label == "Invite"]
    assert not [b for b in at.button if b.label in ("Change role", "Remove")]
