"""The Returns page's export as a background job: "Prepare CSV export" queues it; while it runs its progress shows;
when done, a download of the stored file (streamed by ``/exports/jobs/<id>.csv`` when the browser holds the
console's cookie, else offered in the page: single sign-on sessions)."""
from __future__ import annotations

import streamlit as st

from dokani.errors import DokaniError
from dokani.jobs import exports
from dokani.returns.export_http import job_export_link
from dokani.returns.filters import ReturnQueueFilter
from dokani.ui import format as fmt
from dokani.ui.errors import show_domain_error
from dokani.ui.jobs.panel import show_job


def show_export_job(actor, filt: ReturnQueueFilter, *, column=None, disabled: bool = False,
                    streamed_route: bool = True) -> None:
    place = column or st
    lock = exports.export_lock(filt)
    if place.button("Prepare CSV export (all matching rows)", key="queue_export_job", disabled=disabled,
                    help="A background worker writes the CSV of every matching row; download it here when done."):
        try:
            job, created = exports.queue_returns_export(actor, filt)
        except DokaniError as err:
            show_domain_error(err)
        else:
            if not created and job.live:
                st.info("This export is already being prepared; its progress shows below.")
    job = show_job(actor, exports.KIND, lock, unit="rows written",
                   done_message=lambda j: f"Export ready: {(j.result or {}).get('rows', 0):,} row(s).")
    if job is None or job.state != "succeeded" or not (job.result or {}).get("file_id"):
        return
    label = f"Download the CSV ({job.result.get('rows', 0):,} row(s), prepared {fmt.when(job.finished_at)})"
    if streamed_route:
        st.link_button(label, job_export_link(actor.business_id, job.id))
    else:
        file_id = job.result["file_id"]
        st.download_button(label, data=lambda: exports.export_bytes(actor, file_id), file_name="returns.csv",
                           mime="text/csv", key=f"queue_export_download_{job.id}")
