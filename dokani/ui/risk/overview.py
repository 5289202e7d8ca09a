"""The top of the Risk page: what the last action did, how many customers sit in each band, open events."""
from __future__ import annotations

import streamlit as st

from db.uow import unit_of_work
from dokani.risk import profiles as risk
from dokani.risk.profiles import RiskOverview
from dokani.ui import format as fmt

FLASH = "risk_flash"


def show_flash() -> None:
    if flash := st.session_state.pop(FLASH, None):
        st.success(flash)


def read_overview(actor) -> RiskOverview:
    with unit_of_work(actor) as uow:
        return risk.risk_overview(uow)


def show_overview(overview: RiskOverview) -> None:
    if overview.customers == 0:
        st.info("No customer risk profiles yet. Profiles appear once returns have been triaged.")
    m = st.columns(5)
    m[0].metric("Customers with a profile", fmt.number(overview.customers))
    m[1].metric("High risk (≥ 0.70)", fmt.number(overview.by_band["high"]))
    m[2].metric("Medium (0.35–0.70)", fmt.number(overview.by_band["medium"]))
    m[3].metric("Open critical / high events", fmt.number(overview.open_events["critical"] + overview.open_events["high"]))
    m[4].metric("Open events, all severities", fmt.number(sum(overview.open_events.values())))
