"""The top of the Risk page: what the last action did, how many customers sit in each band, open events."""
from __future__ import annotations

import streamlit as st

from db.uow import unit_of_work
from dokani.risk import profiles as risk
from dokani.risk.profiles import RISK_BANDS_HELP, RiskOverview
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
        st.info("No customer risk profiles yet. Profiles appear once returns have been triaged or risk recomputed.")
    m = st.columns(5)
    m[0].metric("Customers with a profile", fmt.number(overview.customers))
    m[1].metric("Not scored yet", fmt.number(overview.not_scored),
                help="Profiles the console never computed (imported or seeded): their stored score is not shown as one.")
    m[2].metric("High risk (≥ 0.70)", fmt.number(overview.by_band["high"]), help="Effective band: a live override, "
                "else the computed score. " + RISK_BANDS_HELP)
    m[3].metric("Medium (0.35–0.70)", fmt.number(overview.by_band["medium"]))
    m[4].metric("Open events (critical / high / all)",
                f"{overview.open_events['critical']} / {overview.open_events['high']} / {sum(overview.open_events.values())}")


def show_recompute(actor) -> None:
    """Rescore every customer of the business as a background job (owners, admins, reviewers), shown live."""
    from dokani.risk.scoring import CAN_RECOMPUTE
    from dokani.ui.jobs.risk import show_risk_recompute

    if actor.role in CAN_RECOMPUTE:
        show_risk_recompute(actor)


def show_weights() -> None:
    import pandas as pd

    from dokani.risk import weights as W
    from dokani.ui.risk.words import weights_table

    st.caption("Each factor adds weight × what it counted, up to its cap; the score is the sum, at most 1. "
               f"Bands: {RISK_BANDS_HELP}. A manual band override beats the computed band until it expires.")
    st.dataframe(pd.DataFrame(weights_table()), hide_index=True, width="stretch")
    st.caption(f"Thresholds: quick claim within {W.QUICK_CLAIM_DAYS} days of purchase; apparel late at "
               f"{W.LATE_IN_WINDOW_DAYS}+ days; high value from {W.HIGH_VALUE:,.0f}; ordinary return share up to "
               f"{W.RETURN_RATE_FLOOR:.0%}; refunds counted per {W.REFUND_UNIT:,.0f}.")
