"""The Risk page's "Recompute scores" action: queues the recompute as a background job and shows it live."""
from __future__ import annotations

import streamlit as st

from dokani.errors import DokaniError
from dokani.jobs.risk_recompute import KIND, LOCK, queue_risk_recompute
from dokani.ui.errors import show_domain_error
from dokani.ui.jobs.panel import show_job


def show_risk_recompute(actor) -> None:
    if st.button("Recompute scores", key="risk_recompute",
                 help="Rescore every customer of the business on a background worker (set-based in Postgres); "
                      "customers also refresh when one of their returns is triaged or decided."):
        try:
            job, created = queue_risk_recompute(actor)
        except DokaniError as err:
            show_domain_error(err)
        else:
            if not created and job.live:
                st.info(f"A risk recompute is already {job.state}; its progress shows below.")
    show_job(actor, KIND, LOCK, unit="customers scored",
             done_message=lambda job: (job.result or {}).get("summary") or "Scores recomputed.")
