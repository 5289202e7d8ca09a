"""One vocabulary: what every code the database holds is called where a person reads it.

Statuses, AI recommendations, audit actions, policy violations, call and job states, SLA states, reason codes,
risk bands and security events: pages, exports and messages say them with ``say(kind, code)``. A code this
module does not know (an adopted database may hold others) is shown in words, never as ``snake_case``.
"""
from __future__ import annotations

from dokani.returns.status import LABELS as STATUS_LABELS

VOCABULARY: dict[str, dict[str, str]] = {
    "status": STATUS_LABELS,
    "recommendation": {"auto_approve": "Approve", "auto_deny": "Deny", "human_review": "Needs a person"},
    "audit": {
        "approve": "Approved", "deny": "Denied", "escalate": "Escalated", "complete": "Completed",
        "triage": "Triaged by the AI", "policy.draft_created": "Draft created", "policy.draft_saved": "Draft saved",
        "policy.draft_deleted": "Draft deleted", "policy.schedule_cancelled": "Scheduled activation cancelled",
        "policy.activated": "Version activated", "policy.rolled_back": "Rolled back to this version",
        "policy.scheduled": "Activation scheduled", "policy.schedule_applied": "Scheduled activation took effect",
        "policy.retired": "Version retired", "import": "Imported", "resolve": "Resolved",
        "member.invited": "Invited", "member.removed": "Removed from the team", "member.role_changed": "Role changed",
        "member.password_reset_link": "Password reset link made", "risk.list_added": "Put on a list",
        "risk.list_removed": "Taken off a list", "risk.band_overridden": "Risk band overridden",
        "risk.band_override_cleared": "Risk band override cleared", "risk.recomputed": "Risk scores recomputed",
        "call.link_corrected": "Call link corrected", "persona.create": "Persona created",
        "persona.update": "Persona changed", "persona_test.suite_run": "Scenario suite run",
        "policy.backtested": "Backtest run", "policy.metrics_refreshed": "Usage figures refreshed",
    },
    "violation": {
        "missing_required_evidence": "Required evidence is missing",
        "outside_return_window": "Outside the return window",
        "final_sale": "Final-sale item",
        "reason_not_accepted": "The policy does not accept this reason",
        "blocklisted": "Customer or order is on the blocklist",
    },
    "call_status": {"initiated": "Started", "in_progress": "In progress", "completed": "Completed",
                    "failed": "Failed", "ended": "Ended", "active": "Active", "escalated": "Escalated"},
    "job_state": {"queued": "Waiting for a worker", "running": "Running", "succeeded": "Done", "failed": "Failed",
                  "cancelled": "Cancelled"},
    "sla": {"overdue": "Overdue", "due_soon": "Due soon", "on_time": "On time", "closed": "Closed"},
    "reason": {"wrong_item": "Wrong item", "damaged": "Damaged", "defective": "Defective",
               "not_as_described": "Not as described", "doesnt_fit": "Doesn't fit", "late_delivery": "Late delivery",
               "changed_mind": "Changed mind", "other": "Other"},
    "risk_band": {"low": "Low", "medium": "Medium", "high": "High"},
}


def words(code: str) -> str:
    """An unknown code in words: ``policy.rolled_back`` -> "Policy rolled back"."""
    text = code.replace(".", " ").replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:] if text else "—"


def say(kind: str, code: str | None, empty: str = "—") -> str:
    """What `code` of `kind` is called on every page and export."""
    if code is None or code == "":
        return empty
    if kind == "violation" and str(code).startswith("missing_evidence:"):  # the engine names what is missing
        return "Missing evidence: " + words(str(code).split(":", 1)[1]).lower()
    return VOCABULARY.get(kind, {}).get(code) or words(str(code))


def count(n: int, word: str, plural: str | None = None) -> str:
    """"1 return", "2 returns", "1,204 returns": singular and plural right."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"
