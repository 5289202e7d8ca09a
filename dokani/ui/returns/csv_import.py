"""The Import page's widget: a template to download, the upload, every line checked, then one import.

Nothing is written unless every line passes; each problem is listed with its line. The file name is the
uploader's text: it goes through ``md`` before it is shown in a message.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.returns import csv_import as importers
from dokani.ui.text import md

PREVIEW_ROWS = 200


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
        return
    preview = importers.preview_returns_csv(upload.getvalue())
    if preview.problems:
        st.error(f"{md(upload.name)} cannot be imported: {len(preview.problems)} problem(s). Nothing was written.")
        st.dataframe(pd.DataFrame({"problem": preview.problems}), hide_index=True, width="stretch")
        return
    _show_preview(upload.name, preview)
    if st.button("Import", type="primary", disabled=actor.role not in importers.CAN_IMPORT):
        _import(actor, upload.name, preview)


def _show_preview(file_name: str, preview: importers.ImportPreview) -> None:
    st.success(f"{md(file_name)}: {len(preview.rows):,} return(s) checked and ready.")
    st.dataframe(pd.DataFrame([r.model_dump() for r in preview.rows[:PREVIEW_ROWS]]), hide_index=True, width="stretch")
    if len(preview.rows) > PREVIEW_ROWS:
        st.caption(f"Showing the first {PREVIEW_ROWS} of {len(preview.rows):,}.")


def _import(actor: Actor, file_name: str, preview: importers.ImportPreview) -> None:
    """Write every checked line in one transaction, with a progress bar."""
    bar = st.progress(0.0, text="Importing…")
    with unit_of_work(actor) as uow:
        count = importers.import_returns(
            uow, preview, file_name=file_name,
            progress=lambda done, total: bar.progress(done / total, text=f"{done:,} of {total:,}"),
        )
        uow.commit()
    st.success(f"Imported {count:,} return(s) from {md(file_name)}. They wait for triage on the Returns page.")
