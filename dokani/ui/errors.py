"""Turn what can go wrong into clear messages on the page, never a traceback."""
from __future__ import annotations

import logging
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.exc import DBAPIError, OperationalError

from dokani.errors import Conflict, DatabaseUnavailable, DokaniError, Invalid, NotAllowed, NotFound
from dokani.ui.text import md

log = logging.getLogger("dokani.ui")

UNREACHABLE = (
    "**The database cannot be reached.** The console needs its Postgres server. "
    "Check that it is running and that `DATABASE_URL` points at it; this page comes back by itself as soon as "
    "the database answers again."
)
RECHECK_SECONDS = 3.0


def show_domain_error(err: DokaniError) -> None:
    # Messages quote what people typed (names, emails, notes): escaped, so they show verbatim, never as markdown.
    message = md(err)
    if isinstance(err, Conflict):
        st.warning(message, icon=":material/warning:")
    elif isinstance(err, Invalid):
        st.error(message, icon=":material/error:")
        for field, problem in err.problems.items():
            st.caption(f"{md(field)}: {md(problem)}")
    elif isinstance(err, (NotAllowed, NotFound)):
        st.error(message, icon=":material/lock:")
    elif isinstance(err, DatabaseUnavailable):
        st.error(UNREACHABLE, icon=":material/cloud_off:")
    else:
        st.error(message)


@contextmanager
def page_guard():
    """Wraps a whole page: domain errors become messages; database outages become one banner."""
    try:
        yield
    except DokaniError as err:
        show_domain_error(err)
    except OperationalError:
        log.exception("database unreachable")
        st.error(UNREACHABLE, icon=":material/cloud_off:")
        _until_the_database_answers()
    except DBAPIError:
        log.exception("database error")
        st.error("The database refused this request. Nothing was changed. Details are in the server log.")


def database_answers() -> bool:
    """One quick round trip as the app (a restarted server's dead pooled connections are replaced first)."""
    from sqlalchemy import text

    from db.engine import app_engine

    try:
        with app_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@st.fragment(run_every=RECHECK_SECONDS)
def _until_the_database_answers() -> None:
    """Under the outage banner: asks the database every few seconds and reruns the page once it answers, so the
    banner clears without a reload."""
    if database_answers():
        st.rerun()
    st.caption("Checking again every few seconds…")
