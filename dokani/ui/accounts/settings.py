"""The "Your settings" form: landing page, rows per page, review SLA and time zone, saved for the person."""
from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.accounts.preferences import LANDING_PAGES, ROWS_PER_PAGE, Preferences, save_preferences, time_zones
from dokani.errors import DokaniError
from dokani.ui.accounts import preferences as session_prefs

_SAVED = "dokani_settings_saved"


def settings_form(actor: Actor, prefs: Preferences) -> None:
    if st.session_state.pop(_SAVED, False):
        st.success("Your settings are saved. They apply to every page from now on.", icon=":material/check:")
    zones = time_zones()
    with st.form("preferences"):
        landing = st.selectbox("Open this page when I sign in", list(LANDING_PAGES), format_func=LANDING_PAGES.get,
                               index=list(LANDING_PAGES).index(prefs.landing_page))
        rows = st.selectbox("Rows per page in the return queue", ROWS_PER_PAGE,
                            index=ROWS_PER_PAGE.index(prefs.rows_per_page))
        sla = st.number_input("Review SLA (hours)", min_value=1, max_value=24 * 60, value=prefs.review_sla_hours,
                              step=1, help="A waiting return is overdue after this many hours.")
        zone = st.selectbox("Show times in", zones, index=zones.index(prefs.time_zone) if prefs.time_zone in zones
                            else 0)
        saved = st.form_submit_button("Save settings", type="primary")
    now = datetime.now(timezone.utc).astimezone(prefs.zone)
    st.caption(f"Times are shown in {prefs.time_zone}: it is {now:%Y-%m-%d %H:%M} there now.")
    if saved:
        try:
            with unit_of_work(actor) as uow:
                stored = save_preferences(uow, {"landing_page": landing, "rows_per_page": rows,
                                                "review_sla_hours": int(sla), "time_zone": zone})
        except DokaniError as refused:
            st.error(str(refused))
            return
        session_prefs.remember(actor, stored)
        # The queue's own widgets keep what was typed there this session; let them take the new defaults.
        for key in ("queue_page_size", "returns_sla_hours"):
            st.session_state.pop(key, None)
        st.session_state[_SAVED] = True
        st.rerun()
