"""The review panel's account of the AI: the headline figures, why the AI recommends what it does (as stored,
every rule clause with its inputs), and, for a return with no stored rule trace, the engine's reading now
(computed on request, never written).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.errors import DokaniError
from dokani.returns.review import ReturnDetail
from dokani.triage.service import EngineReading, engine_reading
from dokani.ui import format as fmt
from dokani.ui.text import md, plain, visible
from dokani.labels import say

SHORT_REC = {"auto_approve": "approve", "auto_deny": "deny", "human_review": "review"}


def reading_now(actor: Actor, d: ReturnDetail) -> tuple[EngineReading | None, str | None]:
    """The engine's reading now, for a return with no stored rule trace (read-only); or why there is none."""
    if d.rules_fired is not None:
        return None, None
    try:
        with unit_of_work(actor) as uow:
            reading = engine_reading(uow, d.id, d.policy_version_used)
    except DokaniError as err:
        return None, f"The engine cannot read this return now: {md(err)}"
    if reading is None:
        return None, "The engine cannot read this return now: this business has no active policy."
    return reading, None



def show_metrics(d: ReturnDetail, reading: EngineReading | None) -> None:
    """Five headline figures; where nothing was stored, the engine's reading now, marked "not stored"."""
    now = "not stored"
    if reading and d.ai_recommendation and reading.result.recommendation != d.ai_recommendation:
        now = f"engine now: {SHORT_REC[reading.result.recommendation]}"
    engine = ("The engine's reading now: nothing was stored with this return, so the console's engine read it just "
              "now (explained under \"Why the AI recommends this\"). Nothing is written until triage is run.")
    chip = {"delta": now, "delta_color": "off", "delta_arrow": "off"}
    m = st.columns([1.1, 1, 1, 1, 1])
    m[0].metric("Order value", fmt.money(d.order_value))
    m[1].metric("Since purchase", "unknown" if d.days_since_purchase is None else f"{d.days_since_purchase} days")
    if d.risk_score is not None:
        m[2].metric("Risk score", f"{d.risk_score:.2f}",
                    help="The figure triage used, as stored with the recommendation; its factors are under "
                         "\"Why the AI recommends this\".")
    elif reading:
        m[2].metric("Risk score", f"{reading.result.risk_score:.2f}", help=engine, **chip)
    else:
        m[2].metric("Risk score", "not scored yet", help="Not triaged yet.")
    if d.ai_recommendation:
        m[3].metric("AI recommends", SHORT_REC.get(d.ai_recommendation) or md(d.ai_recommendation),  # stored by others
                    help="As stored with the return." + (" The engine reads it differently now: see below."
                                                         if now != "not stored" else ""))
    elif reading:
        m[3].metric("AI recommends", SHORT_REC[reading.result.recommendation], help=engine, **chip)
    else:
        m[3].metric("AI recommends", "—", help="Not triaged yet.")
    if d.ai_confidence is not None:
        m[4].metric("Confidence", f"{d.ai_confidence:.0%}", help="Stored with the recommendation.")
    elif reading:
        m[4].metric("Confidence", f"{reading.result.confidence:.0%}", help=engine, **chip)
    else:
        m[4].metric("Confidence", "—", help="No confidence was stored, and the engine cannot read this return now.")



def _inputs(values: dict) -> str:
    """A clause's inputs as short readable text (``days_since_purchase: 2 · window_days: 30``)."""
    def one(v):
        if isinstance(v, float):
            return f"{v:,.2f}"
        if isinstance(v, (list, tuple)):
            return ", ".join(str(x) for x in v) or "none"
        return "—" if v is None else str(v)
    return " · ".join(f"{k}: {one(v)}" for k, v in values.items())


def _clauses(rules) -> None:
    st.dataframe(
        pd.DataFrame([{"Rule": c.rule, "Outcome": c.outcome, "Detail": c.detail, "Inputs": _inputs(c.inputs)}
                      for c in rules]),
        hide_index=True, width="stretch",
        column_config={"Rule": st.column_config.TextColumn(width=165),
                       "Outcome": st.column_config.TextColumn(width=75),
                       "Detail": st.column_config.TextColumn(width=390),
                       "Inputs": st.column_config.TextColumn(width=390, help="hover a cell to read all of it")},
    )


def _lists(violations, factors, flags: dict) -> None:
    c = st.columns(3)
    with c[0]:
        st.caption("Policy violations")
        st.text(visible("\n".join(f"• {say('violation', v)}" for v in violations) or "none"))
    with c[1]:
        st.caption("Risk factors")
        st.text(visible("\n".join(f"• {v}" for v in factors) or "none"))
    with c[2]:
        st.caption("Fraud flags")
        st.text(visible("\n".join(f"• {k}" for k in sorted(k for k, v in flags.items() if v)) or "none"))


def show(d: ReturnDetail, reading: EngineReading | None = None, no_reading: str | None = None) -> None:
    st.markdown("#### Why the AI recommends this")
    if d.ai_recommendation:
        with st.container(border=True):
            st.markdown("**Stored with the return**")
            st.text(
                visible(f"Recommends {SHORT_REC.get(d.ai_recommendation, d.ai_recommendation)}"
                + (f" · confidence {d.ai_confidence:.0%}" if d.ai_confidence is not None else "")
                + (f" · risk {d.risk_score:.2f}" if d.risk_score is not None else "")
                + f" · policy version {d.policy_version_used or 'unknown'} · engine {d.triage_agent_id or 'unknown'}"
                + (f" · {d.processing_time_ms} ms" if d.processing_time_ms is not None else ""))
            )
            plain(d.ai_reasoning, empty="No reasoning was stored.")
            if d.rules_fired is None:
                st.caption("No rule trace was stored with this recommendation (it was made before this console's "
                           "engine): the lists below are as stored. The engine's reading now is shown underneath.")
            else:
                _clauses(d.rules_fired)
            _lists(d.policy_violations, d.risk_factors, d.fraud_flags)
    else:
        st.caption("Not triaged yet: nothing was stored." + (" The engine's reading now is below." if reading else ""))
    if reading:
        _engine_now(reading)
    elif no_reading:
        st.caption(no_reading)


def _engine_now(reading: EngineReading) -> None:
    r = reading.result
    with st.container(border=True):
        st.markdown("**The engine's reading now (not stored)**")
        basis = f"policy version {md(reading.policy_version)}"  # version names are typed: escaped
        if reading.fell_back:
            basis = (f"the active policy version {md(reading.policy_version)} (version {md(reading.asked_version)}, "
                     "which this return was triaged under, no longer exists)")
        st.caption(f"Computed just now from the order, the customer's history and {basis}. Nothing was written: "
                   "run triage to store a recommendation with this trace.")
        c = st.columns(3)
        c[0].metric("Engine recommends", SHORT_REC[r.recommendation])
        c[1].metric("Engine confidence", f"{r.confidence:.0%}")
        c[2].metric("Engine risk score", f"{r.risk_score:.2f}")
        st.text(visible(r.reasoning))
        _clauses(r.rules_fired)
        _lists(r.policy_violations, r.risk_factors, r.fraud_flags)

