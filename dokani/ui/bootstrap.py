"""First start: migrate, and seed a small demo set into an empty embedded database."""
from __future__ import annotations

import streamlit as st

from db.url import configured_url


@st.cache_resource(show_spinner=False)
def _prepared(url_key: str) -> bool:
    from db.engine import owner_url
    from db.migrate import upgrade
    from db.seed import SeedSize, database_is_empty, seed_database

    url = owner_url()
    upgrade(url)
    if url_key == "embedded" and database_is_empty(url):
        with st.status("Setting up a demo database for you…", expanded=True) as status:
            # if_empty: checked again under the seeder's lock, in case `make run`'s CLI seed raced us.
            seed_database(url, seed=7, size=SeedSize.small(), progress=False, if_empty=True)
            status.update(label="Demo data ready", state="complete")
    return True


def ensure_demo_database() -> None:
    """Once per server process and database: migrations applied, demo data present when embedded."""
    _prepared(configured_url() or "embedded")
