"""The top of the Risk page: what the last action did, how many customers sit in each band, open events."""
from __future__ import annotations

import streamlit as st

from db.engine import app_url
from db.uow import Actor, unit_of_work
from dokani.risk import profiles as risk
from dokani.risk.profiles import RISK_BANDS_HELP, RiskOverview
from dokani.ui import format as fmt

FLASH = "risk_flash"
GENERATION = "risk_generation"  # moves after this person's own changes on the page: their next read is fresh


def show_flash() -> None:
    if flash := st.session_state.pop(FLASH, None):
        st.success(flash)


def changed(message: str) -> None:
    """After a change this person made (a list entry, an override, a recompute, resolved events): say what it did,
    and read the figures and the list again on the next run instead of the few seconds old ones."""
    st.session_state[FLASH] = message
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def generation() -> int:
    return st.session_state.get(GENERATION, 0)


@st.cache_data(ttl=5, show_spinner=False, max_entries=1000)
def _overview(actor: Actor, generation: int, database: str) -> RiskOverview:
    """The band and event figures, read on every rerun: kept for a few seconds per person and database (the actor
    is in the key, so never across people or businesses); `generation` moves after this person's own changes."""
    with unit_of_work(actor) as uow:
        return risk.risk_overview(uow)


def read_overview(actor: Actor) -> RiskOverview:
    return _overview(actor, generation(), app_url())


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
    from dokani.ui.jobs.risk import done_message, show_risk_recompute

    def recomputed(job) -> None:  # the figures above were read before it ended: read them again, now
        changed(done_message(job))
        st.rerun()

    if actor.role in CAN_RECOMPUTE:
        show_risk_recompute(actor, on_done=recomputed)


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
