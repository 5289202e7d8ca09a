"""Team page widgets: the member list, an invitation form, and per-member role / remove / reset actions."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.accounts import team
from dokani.errors import DokaniError
from dokani.ui.errors import show_domain_error
from dokani.ui.text import md

LINK_KEY = "team_last_link"


def _run(actor: Actor, action, success: str | None = None):
    try:
        with unit_of_work(actor) as uow:
            result = action(uow)
    except DokaniError as err:
        show_domain_error(err)
        return None
    if success:
        st.session_state["team_flash"] = success
    return result if result is not None else True


def _absolute(path: str) -> str:
    try:
        base = st.context.url.split("/team", 1)[0].rstrip("/")
    except Exception:
        base = ""
    return f"{base}{path}"


def show_flash() -> None:
    if message := st.session_state.pop("team_flash", None):
        st.success(message, icon=":material/check_circle:")
    if link := st.session_state.pop(LINK_KEY, None):
        who, url = link
        st.info("Pass this one-time link on to the person; it is shown only now.", icon=":material/link:")
        st.caption(f"Set-password link for {md(who)}")
        st.code(url, language=None)


def member_table(members: list[team.Member]) -> None:
    frame = pd.DataFrame([{"email": m.email, "name": m.display_name, "role": m.role,
                           "what the role may do": team.ROLE_HELP.get(m.role, ""), "member since": m.since}
                          for m in members])
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={"member since": st.column_config.DatetimeColumn(format="YYYY-MM-DD")})


def invite_form(actor: Actor) -> None:
    with st.form("team_invite", clear_on_submit=True):
        st.markdown("#### Invite a person")
        cols = st.columns([3, 2, 2])
        email = cols[0].text_input("Email", key="team_invite_email", max_chars=320)
        name = cols[1].text_input("Name (optional)", key="team_invite_name", max_chars=120)
        roles = [r for r in team.ROLES if actor.role == "owner" or r != "owner"]
        role = cols[2].selectbox("Role", roles, index=roles.index("reviewer"), key="team_invite_role",
                                 format_func=lambda r: f"{r} · {team.ROLE_HELP[r]}")
        if st.form_submit_button("Invite", type="primary"):
            out = _run(actor, lambda uow: team.invite(uow, email, role, name))
            if out:
                if out.link:
                    st.session_state[LINK_KEY] = (out.email, _absolute(out.link))
                    st.session_state["team_flash"] = f"{out.email} is now {out.role}."
                else:
                    st.session_state["team_flash"] = (f"{out.email} is now {out.role}; they already have an account "
                                                      "and sign in with their password.")
                st.rerun()


def member_actions(actor: Actor, members: list[team.Member]) -> None:
    st.markdown("#### Change a member")
    by_id = {str(m.user_id): m for m in members}
    pick = st.selectbox("Member", list(by_id), key="team_member",
                        format_func=lambda u: f"{by_id[u].email} · {by_id[u].role}")
    chosen = by_id[pick]
    roles = [r for r in team.ROLES if actor.role == "owner" or r != "owner"]
    cols = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    new_role = cols[0].selectbox("New role", roles, key=f"team_role_{pick}",
                                 index=roles.index(chosen.role) if chosen.role in roles else 0)
    if cols[1].button("Change role", key="team_change_role", disabled=new_role == chosen.role):
        if _run(actor, lambda uow: team.change_role(uow, chosen.user_id, new_role),
                f"{chosen.email} is now {new_role}."):
            st.rerun()
    if cols[2].button("Password reset link", key="team_reset"):
        link = _run(actor, lambda uow: team.reset_link(uow, chosen.user_id))
        if link:
            st.session_state[LINK_KEY] = (chosen.email, _absolute(link))
            st.rerun()
    if cols[3].button("Remove", key="team_remove", disabled=chosen.user_id == actor.user_id,
                      help="You cannot remove yourself." if chosen.user_id == actor.user_id else None):
        if _run(actor, lambda uow: team.remove(uow, chosen.user_id), f"{chosen.email} was removed."):
            st.rerun()
