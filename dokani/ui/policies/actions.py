"""Policy page actions: each runs one service call in its own unit of work and reports back.

Successful actions leave a message for the next run (``flash``) and rerun, so the version list reflects
the change; domain errors (conflict, invalid, not allowed) are shown where the action was taken.
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

from db.uow import unit_of_work
from dokani.errors import DokaniError, Invalid
from dokani.ui.errors import show_domain_error
from dokani.ui.text import md  # noqa: F401 - re-exported: pages and chat widgets import it from here

FLASH = "policy_flash"
FLASH_ERROR = "policy_flash_error"
SELECTED = "policy_selected"
SELECT_NEXT = "policy_select_next"  # applied before the version picker is drawn on the next run


def flash(message: str) -> None:
    st.session_state[FLASH] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message, icon=":material/check_circle:")
    problem = st.session_state.pop(FLASH_ERROR, None)
    if problem:
        st.error(md(problem), icon=":material/error:")  # may quote a typed version name


def problems_key(policy_id: int) -> str:
    return f"policy_problems_{policy_id}"


def lock_key(policy_id: int) -> str:
    """The lock_version this session opened the draft at (what a save expects)."""
    return f"policy_lock_{policy_id}"


def run(actor, action: Callable, *, success: str | Callable | None = None, select: Callable | None = None,
        problems_for: int | None = None):
    """Run `action(uow)`; on success flash + rerun, on a domain error show it here and return None."""
    try:
        with unit_of_work(actor) as uow:
            result = action(uow)
    except Invalid as err:
        if problems_for is not None and err.problems:
            # Rerun so each message is drawn next to its field; the summary waits at the top of the page.
            st.session_state[problems_key(problems_for)] = err.problems
            st.session_state[FLASH_ERROR] = str(err)
            st.rerun()
        show_domain_error(err)
        return None
    except DokaniError as err:
        show_domain_error(err)
        return None
    if problems_for is not None:
        st.session_state.pop(problems_key(problems_for), None)
    if select is not None:
        st.session_state[SELECT_NEXT] = select(result)
    if success is not None:
        flash(success(result) if callable(success) else success)
        st.rerun()
    return result
