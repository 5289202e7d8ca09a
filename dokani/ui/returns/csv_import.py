"""The Import page's widget: a template to download, the upload, every line checked, then one import.

Nothing is written unless every line passes; every problem of every line is listed (and offered as a CSV to
download). The preview already asks the database which orders have an open return, so "ready" is only said of
a file the import will take; Import stores the file and queues its import on a background worker
(``dokani.jobs.imports``, which checks it once more), whose progress, result or failure (with a retry) shows
below. The file name is the uploader's text: it goes through ``md`` before it is shown.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.labels import count as count_of
from dokani.returns import csv_import as importers
from dokani.ui.text import md

PREVIEW_ROWS = 200
IMPORT_JOB = "import_job"  # the lock key of the import this session queued: its progress stays shown
SHOWN_PROBLEMS = 1000


def show(actor: Actor) -> None:
    st.caption(
        "Upload a CSV with one return per line. Every line is checked first; if any line has a problem nothing is "
        "imported and each problem is listed with its line. Imported returns wait in *pending triage*."
    )
    st.download_button("Download a template", importers.TEMPLATE, file_name="dokani_returns_template.csv",
                       mime="text/csv")
    if actor.role not in importers.CAN_IMPORT:
        st.info(f"Your role ({actor.role}) can read this page; owners and admins can import.")

    upload = st.file_uploader("CSV file", type=["csv"], key="import_file")
    if upload is None:
        show_import_job(actor)
        return
    if _being_imported(actor, upload.getvalue()):  # this very file: its job's progress or result, not a preview
        show_import_job(actor)
        return
    preview = importers.preview_returns_csv(upload.getvalue())
    if preview.ok:
        with unit_of_work(actor) as uow:  # what only the database knows, before anything is called "ready"
            preview = importers.check_open_returns(uow, preview)
    if preview.issues:
        _show_problems(upload.name, preview)
        show_import_job(actor)
        return
    _show_preview(upload.name, preview)
    if st.button("Import", type="primary", disabled=actor.role not in importers.CAN_IMPORT):
        _import(actor, upload.name, upload.getvalue())
    show_import_job(actor)


def _show_problems(file_name: str, preview: importers.ImportPreview) -> None:
    lines = len({i.line for i in preview.issues})
    st.error(f"{md(file_name)} cannot be imported: {len(preview.issues):,} problem(s) on {lines:,} line(s). "
             "Nothing was written.")
    shown = preview.issues[:SHOWN_PROBLEMS]
    st.dataframe(pd.DataFrame({"line": [i.line for i in shown], "column": [i.column for i in shown],
                               "problem": [i.problem for i in shown]}), hide_index=True, width="stretch")
    if len(preview.issues) > SHOWN_PROBLEMS:
        st.caption(f"Showing the first {SHOWN_PROBLEMS:,} of {len(preview.issues):,}; the download has them all.")
    st.download_button("Download the problems (CSV)", preview.problems_csv(), file_name="import_problems.csv",
                       mime="text/csv", key="import_problems")


def _show_preview(file_name: str, preview: importers.ImportPreview) -> None:
    st.success(f"{md(file_name)}: {count_of(len(preview.rows), 'return')} checked and ready.")
    st.dataframe(pd.DataFrame([r.model_dump() for r in preview.rows[:PREVIEW_ROWS]]), hide_index=True, width="stretch")
    if len(preview.rows) > PREVIEW_ROWS:
        st.caption(f"Showing the first {PREVIEW_ROWS} of {len(preview.rows):,}.")


def _import(actor: Actor, file_name: str, data: bytes) -> None:
    """Store the file and queue its import (this run's preview, just above, already checked it against the
    database): a worker checks it once more and writes every line in one transaction, its progress below."""
    from dokani.errors import DokaniError
    from dokani.jobs.imports import queue_returns_import
    from dokani.ui.errors import show_domain_error

    try:
        job, created = queue_returns_import(actor, file_name, data)
    except DokaniError as err:
        show_domain_error(err)
        return
    st.session_state[IMPORT_JOB] = job.lock_key
    if not created and job.live:
        st.info(f"{md(file_name)} is already being imported; its progress shows below.")


def _being_imported(actor: Actor, data: bytes) -> bool:
    """True when this session queued this file's import and it is waiting, running or done."""
    from dokani.jobs.imports import RETURNS_KIND, returns_lock
    from dokani.ui.jobs.panel import latest

    lock = st.session_state.get(IMPORT_JOB)
    if lock is None or lock != returns_lock(data):
        return False
    job = latest(actor, RETURNS_KIND, lock)
    return job is not None and job.state != "failed"


def show_import_job(actor: Actor) -> None:
    """The import this session queued: waiting, its progress, what it imported, or why it failed (with a retry)."""
    from dokani.jobs.imports import RETURNS_KIND
    from dokani.ui.jobs.panel import show_job

    if lock := st.session_state.get(IMPORT_JOB):
        show_job(actor, RETURNS_KIND, lock, unit="returns written",
                 done_message=lambda job: f"Imported {count_of((job.result or {}).get('imported', 0), 'return')} from "
                                          f"{md((job.result or {}).get('file_name', 'the file'))}. They wait for "
                                          "triage on the Returns page.")
