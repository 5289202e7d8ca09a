"""The queue's filter widgets never have a default and a value set through session state at once (issue #16:
after a bulk approve, the server log showed Streamlit's warning about ``queue_created``)."""
from __future__ import annotations

import logging

import pytest
from streamlit.elements.lib import policies

from tests.app.conftest import no_exceptions, open_page


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def streamlit_warnings(monkeypatch):
    """What Streamlit logs at WARNING or above (its loggers do not propagate to the root logger)."""
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)  # Streamlit says it once per process
    handler = _Warnings()
    logger = logging.getLogger("streamlit")
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def _duplicated(messages: list[str]) -> list[str]:
    return [m for m in messages if "default value but also had its value set via the Session State API" in m]


def _button(at, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def test_a_bulk_approve_leaves_no_widget_state_warning(fresh_db, streamlit_warnings):
    at = open_page("returns", slug="reviewer")
    at.session_state["queue_table_0"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    _button(at, "Approve 2 selected").click().run()
    no_exceptions(at)
    assert any("2 returns approved" in s.value for s in at.success)
    at.run()  # and the rerun after it
    assert _duplicated(streamlit_warnings) == []


def test_a_bulk_approve_from_a_drill_down_link_leaves_no_widget_state_warning(fresh_db, streamlit_warnings):
    at = open_page("returns", slug="reviewer", query={"status": "pending_review", "from": "2025-01-01"})
    no_exceptions(at)
    at.session_state["queue_table_0"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    _button(at, "Approve 2 selected").click().run()
    no_exceptions(at)
    assert any("2 returns approved" in s.value for s in at.success)
    at.run()
    assert _duplicated(streamlit_warnings) == []
