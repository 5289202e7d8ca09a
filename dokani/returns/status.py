"""The status vocabulary of a return request and its legal transitions.

``pending_triage`` (new) -> ``pending_review`` (needs a human) -> ``approved`` | ``denied`` | ``escalated``;
``escalated`` -> ``approved`` | ``denied``; ``approved`` -> ``completed``. The triage engine may also settle a
new return itself (``pending_triage`` -> ``approved`` | ``denied``) where the policy allows it.

The database does not constrain statuses (an adopted database may hold others); these services refuse
every transition that is not listed here.
"""
from __future__ import annotations

from typing import Literal

PENDING_TRIAGE = "pending_triage"
PENDING_REVIEW = "pending_review"
APPROVED = "approved"
DENIED = "denied"
ESCALATED = "escalated"
COMPLETED = "completed"

STATUSES: tuple[str, ...] = (PENDING_TRIAGE, PENDING_REVIEW, ESCALATED, APPROVED, DENIED, COMPLETED)
NEEDS_DECISION: tuple[str, ...] = (PENDING_REVIEW, ESCALATED)
OPEN: tuple[str, ...] = (PENDING_TRIAGE, PENDING_REVIEW, ESCALATED)

LABELS = {
    PENDING_TRIAGE: "New (awaiting triage)",
    PENDING_REVIEW: "Needs review",
    ESCALATED: "Escalated",
    APPROVED: "Approved",
    DENIED: "Denied",
    COMPLETED: "Completed",
}

# Transitions a person may make, by action.
Action = Literal["approve", "deny", "escalate", "complete"]
ACTION_TARGET: dict[str, str] = {"approve": APPROVED, "deny": DENIED, "escalate": ESCALATED, "complete": COMPLETED}
HUMAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING_REVIEW: frozenset({APPROVED, DENIED, ESCALATED}),
    ESCALATED: frozenset({APPROVED, DENIED}),
    APPROVED: frozenset({COMPLETED}),
}
# Transitions the triage engine makes.
TRIAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING_TRIAGE: frozenset({PENDING_REVIEW, APPROVED, DENIED}),
}
ACTIONS_NEEDING_REASON = frozenset({"deny", "escalate"})
DECIDING_ROLES = frozenset({"owner", "admin", "reviewer"})


def label(status: str | None) -> str:
    return LABELS.get(status or "", status or "unknown")


def may_human_move(current: str | None, target: str) -> bool:
    return target in HUMAN_TRANSITIONS.get(current or "", frozenset())


def may_triage_move(current: str | None, target: str) -> bool:
    return target in TRIAGE_TRANSITIONS.get(current or "", frozenset())


def actions_for(status: str | None) -> list[str]:
    """The actions a reviewer can take on a return in this status."""
    allowed = HUMAN_TRANSITIONS.get(status or "", frozenset())
    return [a for a, target in ACTION_TARGET.items() if target in allowed]
