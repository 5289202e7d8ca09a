"""The team of a business, as owners and admins manage it: checked by the service and by Postgres."""
from __future__ import annotations

import psycopg
import pytest

from db.demo import DEMO_PASSWORD, business, user
from db.uow import unit_of_work
from dokani.accounts import password_links, sessions, team
from dokani.accounts.sign_in import SignInRefused, sign_in
from dokani.errors import Conflict, Invalid, NotAllowed
from tests.conftest import actor_for


def _token(link: str) -> str:
    return link.split("token=", 1)[1]


def test_an_admin_invites_a_person_who_sets_a_password_and_signs_in(fresh_db):
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        out = team.invite(uow, " New.Reviewer@Atlas.example ", "reviewer", "New <b>Reviewer</b>")
    assert out.email == "new.reviewer@atlas.example" and out.link.startswith("/set-password?token=")
    password_links.use_link(_token(out.link), "a-fine-password", "a-fine-password")
    signed = sign_in("new.reviewer@atlas.example", "a-fine-password")
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        listed = {m.email: m for m in team.members(uow)}
    assert listed["new.reviewer@atlas.example"].role == "reviewer"
    assert listed["new.reviewer@atlas.example"].display_name == "New <b>Reviewer</b>"  # stored as typed
    with psycopg.connect(fresh_db) as c:
        audit = c.execute("SELECT action, actor_email FROM audit_log WHERE entity = 'business_member'").fetchall()
    assert audit == [("member.invited", user("atlas", "admin").email)]
    assert sessions.verify_session(signed.token).user_id == signed.user_id


def test_inviting_someone_who_has_an_account_needs_no_link(fresh_db):
    with unit_of_work(actor_for("bloom", "owner")) as uow:
        out = team.invite(uow, user("atlas", "reviewer").email, "viewer")
    assert out.link is None
    assert sign_in(user("atlas", "reviewer").email, DEMO_PASSWORD)  # password untouched
    with unit_of_work(actor_for("bloom", "owner")) as uow, pytest.raises(Conflict, match="already a member"):
        team.invite(uow, user("atlas", "reviewer").email, "viewer")


@pytest.mark.parametrize("slug", ["reviewer", "tester", "viewer"])
def test_only_owners_and_admins_manage_the_team(fresh_db, slug):
    with unit_of_work(actor_for("atlas", slug)) as uow, pytest.raises(NotAllowed, match="only owners and admins"):
        team.invite(uow, "someone@atlas.example", "viewer")
    with unit_of_work(actor_for("atlas", slug)) as uow, pytest.raises(NotAllowed):
        team.change_role(uow, user("atlas", "tester").user_id, "admin")


def test_an_admin_cannot_make_or_unmake_owners(fresh_db):
    admin = actor_for("atlas", "admin")
    with unit_of_work(admin) as uow, pytest.raises(NotAllowed, match="Only an owner"):
        team.invite(uow, "boss@atlas.example", "owner")
    with unit_of_work(admin) as uow, pytest.raises(NotAllowed, match="Only an owner"):
        team.change_role(uow, user("atlas", "owner").user_id, "viewer")
    with unit_of_work(admin) as uow:
        team.change_role(uow, user("atlas", "tester").user_id, "reviewer")
        assert {m.email: m.role for m in team.members(uow)}[user("atlas", "tester").email] == "reviewer"


def test_the_last_owner_cannot_be_removed_or_demoted(fresh_db):
    owner = actor_for("atlas", "owner")
    with unit_of_work(owner) as uow, pytest.raises(Conflict, match="last owner"):
        team.change_role(uow, owner.user_id, "admin")
    with unit_of_work(owner) as uow, pytest.raises(Conflict, match="last owner"):
        team.remove(uow, owner.user_id)
    with unit_of_work(owner) as uow:
        team.change_role(uow, user("atlas", "admin").user_id, "owner")
    with unit_of_work(owner) as uow:
        team.change_role(uow, owner.user_id, "admin")  # now another owner exists


def test_removing_a_member_signs_them_out_and_a_reset_link_replaces_the_password(fresh_db):
    tester = user("atlas", "tester")
    token = sign_in(tester.email, DEMO_PASSWORD).token
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        link = team.reset_link(uow, tester.user_id)
    password_links.use_link(_token(link), "tester-new-password", "tester-new-password")
    assert sessions.verify_session(token) is None
    token = sign_in(tester.email, "tester-new-password").token
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        team.remove(uow, tester.user_id)
    assert sessions.verify_session(token) is None
    with pytest.raises(SignInRefused):
        sign_in(tester.email, "tester-new-password")


def test_a_bad_invitation_changes_nothing(fresh_db):
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        before = len(team.members(uow))
    for email, role in (("not an email", "viewer"), ("x@atlas.example", "superuser"), ("nul\x00@atlas.example", "viewer")):
        with unit_of_work(actor_for("atlas", "owner")) as uow, pytest.raises(Invalid):
            team.invite(uow, email, role)
    with unit_of_work(actor_for("atlas", "owner")) as uow:
        assert len(team.members(uow)) == before
