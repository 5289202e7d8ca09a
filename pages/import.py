"""Import: bring returns in from a shop's CSV export; checked whole, written whole or not at all."""
import pandas as pd
import streamlit as st

from db.uow import unit_of_work
from dokani.returns import csv_import as importers
from dokani.ui.context import current_actor
from dokani.ui.text import md

actor = current_actor()
st.title("Import returns")
st.caption(
    "Upload a CSV with one return per line. Every line is checked first; if any line has a problem nothing is "
    "imported and each problem is listed with its line. Imported returns wait in *pending triage*."
)
st.download_button("Download a template", importers.TEMPLATE, file_name="dokani_returns_template.csv", mime="text/csv")

if actor.role not in importers.CAN_IMPORT:
    st.info(f"Your role ({actor.role}) can read this page; owners and admins can import.")

upload = st.file_uploader("CSV file", type=["csv"], key="import_file")
if upload is None:
    st.stop()

preview = importers.preview_returns_csv(upload.getvalue())
if preview.problems:
    st.error(f"{md(upload.name)} cannot be imported: {len(preview.problems)} problem(s). Nothing was written.")
    st.dataframe(pd.DataFrame({"problem": preview.problems}), hide_index=True, width="stretch")
    st.stop()

st.success(f"{md(upload.name)}: {len(preview.rows):,} return(s) checked and ready.")
st.dataframe(pd.DataFrame([r.model_dump() for r in preview.rows[:200]]), hide_index=True, width="stretch")
if len(preview.rows) > 200:
    st.caption(f"Showing the first 200 of {len(preview.rows):,}.")

if st.button("Import", type="primary", disabled=actor.role not in importers.CAN_IMPORT):
    bar = st.progress(0.0, text="Importing…")
    with unit_of_work(actor) as uow:
        count = importers.import_returns(
            uow, preview, file_name=upload.name, progress=lambda done, total: bar.progress(done / total, text=f"{done:,} of {total:,}")
        )
        uow.commit()
    st.success(f"Imported {count:,} return(s) from {md(upload.name)}. They wait for triage on the Returns page.")
