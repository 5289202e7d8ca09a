"""A background job on a page: while it is queued or running, a fragment redraws its progress every second;
when it ends the page reruns once and says so; a failed job shows why, with a Retry button."""
from __future__ import annotations

from typing import Callable

import streamlit as st
from sqlalchemy.exc import OperationalError

from db.uow import unit_of_work
from dokani.errors import DokaniError
from dokani.jobs import enqueue, records
from dokani.jobs.records import JobRecord
from dokani.ui import format as fmt
from dokani.ui.errors import show_domain_error
from dokani.ui.text import md

POLL_SECONDS = 1.0
_WATCHING = "job_watching_{key}"  # the job this session saw live: its end is announced once
_ANNOUNCE = "job_announce_{key}"


def latest(actor, kind: str, lock_key: str) -> JobRecord | None:
    with unit_of_work(actor) as uow:
        return records.latest_job(uow, kind, lock_key)


def show_job(actor, kind: str, lock_key: str, *, unit: str, done_message: Callable[[JobRecord], str],
             on_done: Callable[[JobRecord], None] | None = None) -> JobRecord | None:
    """The latest job of this work: live while it runs, a message once when it ends, its failure and a retry."""
    key = lock_key
    announced = st.session_state.pop(_ANNOUNCE.format(key=key), None)
    if announced:
        st.success(announced)
    job = latest(actor, kind, lock_key)
    if job is None:
        return None
    if job.live:
        st.session_state[_WATCHING.format(key=key)] = job.id
        _live(actor, kind, lock_key, unit)
    elif job.state == "failed":
        st.session_state.pop(_WATCHING.format(key=key), None)
        show_failure(actor, job)
    elif st.session_state.pop(_WATCHING.format(key=key), None) == job.id:
        if on_done:
            on_done(job)
        st.success(done_message(job))
    return job


@st.fragment(run_every=POLL_SECONDS)
def _live(actor, kind: str, lock_key: str, unit: str) -> None:
    try:
        job = latest(actor, kind, lock_key)
    except OperationalError:  # a fragment rerun is outside the page's guard: say it here, try again next tick
        st.warning("The database cannot be reached right now; the job's progress shows again when it answers.",
                   icon=":material/cloud_off:")
        return
    if job is None or not job.live:
        st.rerun()  # the whole page: it shows the result now
    show_progress(job, unit)


def show_progress(job: JobRecord, unit: str) -> None:
    asked = f"asked {fmt.when(job.created_at)} by {md(job.requested_by_email or 'unknown')}"
    if job.state == "queued":
        st.info(f"{md(job.title)} is waiting for a worker ({asked}). Workers run beside the console "
                "(`make run`) or on their own (`python -m dokani worker`).", icon=":material/schedule:")
        return
    if job.progress_total is None:
        text = "starting…"
    else:
        text = f"{job.progress_done:,} of {job.progress_total:,} {unit}"
        if job.progress_note:
            text += f" · {job.progress_note}"
    st.progress(job.share_done or 0.0, text=f"{md(job.title)}: {md(text)}")
    note = f"attempt {job.attempts}, after its first worker stopped" if job.attempts > 1 else "running"
    st.caption(f"{note}; {asked}.")


def show_failure(actor, job: JobRecord) -> None:
    st.error(f"{md(job.title)} failed {fmt.when(job.finished_at)}: {md(job.error or 'no reason was recorded')}",
             icon=":material/error:")
    if st.button("Retry", key=f"job_retry_{job.id}", help="queue it again with the same settings"):
        try:
            enqueue.retry(actor, job.id)
        except DokaniError as err:
            show_domain_error(err)
            return
        st.rerun()
