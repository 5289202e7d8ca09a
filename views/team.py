"""Team: who works on this business, in which role; owners and admins invite, change roles, remove, reset."""
import streamlit as st

from db.uow import unit_of_work
from dokani.accounts import team
from dokani.ui.accounts import team as widgets
from dokani.ui.context import current_actor

actor = current_actor()
st.title("Team")
widgets.show_flash()
with unit_of_work(actor) as uow:
    members = team.members(uow)
widgets.member_table(members)
if actor.role not in team.CAN_MANAGE:
    st.info(f"Your role ({actor.role}) can see the team; only owners and admins invite people or change roles.")
else:
    widgets.invite_form(actor)
    widgets.member_actions(actor, members)
