"""The optional activation gate "the version's latest scenario suite run passed", provided by the chat test lab
(``dokani.lab.suites.latest_suite_result``) when it is installed."""
from __future__ import annotations

import importlib
from typing import Any, Callable

from db.uow import UnitOfWork
from dokani.errors import NotAllowed
from dokani.models import Policy

SuiteGate = Callable[[UnitOfWork, str], Any]


def _suite_gate() -> SuiteGate | None:
    """``dokani.lab.suites.latest_suite_result`` when the chat test lab provides it, else None."""
    try:
        module = importlib.import_module("dokani.lab.suites")
    except ImportError:
        return None
    return getattr(module, "latest_suite_result", None)


def suite_gate_available() -> bool:
    """True when the chat test lab's scenario suites can gate activation."""
    return _suite_gate() is not None


def check_suite(uow: UnitOfWork, row: Policy, require_passing_suite: bool, override_note: str | None) -> str | None:
    """The optional gate "activation requires a passing scenario suite". Returns a note for the audit row."""
    if not require_passing_suite:
        return None
    gate = _suite_gate()
    if gate is None:
        return "suite gate requested but the scenario lab is not installed; not checked"
    result = gate(uow, row.version)
    # dokani.lab.suites.SuiteRunSummary.passed_all: every scenario of the latest run passed.
    passed = getattr(result, "passed_all", None)
    if passed is None and isinstance(result, dict):
        passed = result.get("passed_all")
    if passed:
        return "scenario suite passed"
    if override_note and override_note.strip():
        return f"suite gate overridden: {override_note.strip()}"
    state = "has no suite run" if result is None else "failed its latest suite run"
    raise NotAllowed(f"Version {row.version} {state}. Run the scenario suite, or give an override note.")
