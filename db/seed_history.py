"""The demo's return history, made by the product's own engines.

When each return arrived (fifteen months of a shop's returns: busier on Mondays, quieter at weekends, a mild peak after
the holidays), when it was triaged and under which policy version (the one in force on that date, read from
``policy_activations``), what the triage engine (``dokani.triage.engine.evaluate``) made of it, and what a plausible
reviewer then did: the same columns and audit rows the console writes for triage and for each decision.

The engine is deterministic over its facts, so evaluations are memoised by the facts it reads (the reason code and
phrase the engine reads the words as, the kinds of evidence): a hit returns the very result the engine gave for
those facts. What the seed cannot replay is the customer's risk profile as it was on the day (the scorer scores
"now"): triage sees the customer's history (earlier returns, denials, returns in 30 days) but no profile score,
as the engine does for a customer who was never scored.
"""
from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from db import seed_content as C
from dokani.policies.rules import LoadedPolicy, validate_rules
from dokani.triage.engine import ENGINE_ID, CustomerHistory, ReturnFacts, TriageResult, classify_reason, evaluate
from dokani.triage.facts import ReturnWithFacts
from dokani.triage.service import SuspiciousPattern, _details, suspicious_patterns

HISTORY_DAYS = 456  # the last twelve months, and the three before them (older history the scorer weighs less)
# A shop's rhythm: month of year (after-holiday returns in January, gifts in December), day of week (Monday first:
# the weekend's parcels are opened), hour of day (UTC, a European shop).
SEASON = [1.35, 1.05, 0.95, 0.9, 0.9, 0.85, 0.9, 0.95, 0.95, 1.0, 1.1, 1.25]
WEEKDAY = [1.3, 1.2, 1.05, 1.0, 0.95, 0.75, 0.75]
HOUR = [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2, 1.3, 1.3, 1.2, 1.2, 1.25, 1.2, 1.1, 1.05, 1.0, 1.0,
        0.95, 0.8, 0.55, 0.3]
ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
AT = "@@EVALUATED_AT@@"


def arrival_ages(rng: random.Random, n: int, anchor: datetime) -> list[float]:
    """Ages in hours (before ``anchor``) of ``n`` returns over the last ``HISTORY_DAYS`` days, oldest first."""
    epoch = datetime(1970, 1, 1)
    anchor_h = (anchor - epoch).total_seconds() / 3600
    anchor_day = int(anchor_h // 24)
    day_weight = []
    for k in range(HISTORY_DAYS + 2):  # k calendar days before the anchor's day
        day = epoch + timedelta(days=anchor_day - k)
        trend = 0.85 + 0.3 * (1 - k / (HISTORY_DAYS + 1))  # a shop that grows a little
        day_weight.append(SEASON[day.month - 1] * WEEKDAY[day.weekday()] * trend)
    top = max(day_weight) * max(HOUR)
    rand = rng.random
    ages: list[float] = []
    while len(ages) < n:
        age = HISTORY_DAYS * 24.0 * rand()
        t = anchor_h - age
        dn = int(t // 24)
        if rand() * top < day_weight[anchor_day - dn] * HOUR[int(t - dn * 24)]:
            ages.append(age)
    ages.sort(reverse=True)
    return ages


@dataclass(frozen=True)
class Period:
    started: datetime
    policy: LoadedPolicy


class PolicyTimeline:
    """The version of a business's policy in force at any moment, from ``policy_activations`` (migration 0008)."""

    def __init__(self, conn, business_id):
        rows = conn.execute(
            "SELECT a.started_at, p.id, p.version, p.rules, p.is_active FROM policy_activations a "
            "JOIN policies p ON p.id = a.policy_id WHERE a.business_id = %s ORDER BY a.started_at, a.id",
            (business_id,)).fetchall()
        self.periods: list[Period] = []
        for started, pid, version, raw, active in rows:
            rules, problems = validate_rules(raw)
            if rules is None:
                raise ValueError(f"seeded policy {version} does not validate: {problems}")
            self.periods.append(Period(started, LoadedPolicy(id=pid, version=version, rules=rules, is_active=active)))
        self.starts = [p.started for p in self.periods]

    def at(self, when: datetime) -> LoadedPolicy | None:
        i = bisect.bisect_right(self.starts, when) - 1
        return self.periods[i].policy if i >= 0 else None


def _esc(value: str) -> str:
    """A value for a COPY text line (backslash, tab, line breaks escaped); the common case has none of them."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(ESC)
    return value


def _json(value: Any) -> str:
    """JSON for a COPY text line (datetimes in ISO form): JSON has no raw control characters, so only backslashes
    double. orjson writes it compact and in UTF-8; the columns are jsonb, which stores the same value either way."""
    text = orjson.dumps(value).decode()
    return text.replace("\\", "\\\\") if "\\" in text else text


class Triaged:
    """One evaluation of the engine and the text the seed writes for it (COPY-escaped, JSON ready)."""

    __slots__ = ("result", "policy", "patterns", "rec", "confidence", "risk", "reasoning", "violations", "factors",
                 "details", "hard", "policy_flags", "above_escalation", "missing_evidence", "reason")

    def __init__(self, result: TriageResult, policy: LoadedPolicy, patterns: list[SuspiciousPattern]):
        self.result, self.policy, self.patterns = result, policy, patterns
        self.rec = result.recommendation
        self.confidence = f"{result.confidence}"
        self.risk = f"{result.risk_score}"
        self.reasoning = _esc(result.reasoning)
        self.violations = _json(result.policy_violations)
        self.factors = _json(result.risk_factors)
        details = _details(result, policy, patterns)
        details["evaluated_at"] = AT
        self.details = _json(details)
        rules = policy.rules
        self.hard = bool({"outside_return_window", "reason_not_accepted", "final_sale"} & set(result.policy_violations))
        self.policy_flags = sorted(f for f in result.fraud_flags if f in rules.fraud_flags)
        self.above_escalation = any(c.rule == "auto_escalation_threshold" for c in result.rules_fired)
        self.missing_evidence = any(v.startswith("missing_evidence") for v in result.policy_violations)
        self.reason = result.reason_code


class TriageMemo:
    """``evaluate`` per distinct set of facts the engine reads; ``calls`` counts real evaluations."""

    def __init__(self):
        self.cache: dict[tuple, Triaged] = {}
        self.calls = 0

    def facts(self, value: float, days: int | None, category: str, text: str, urls: list[str], flags: dict,
              known: bool, prev: int, denied: int, recent: int) -> ReturnFacts:
        return ReturnFacts(order_value=value, days_since_purchase=days, product_category=category, reason_text=text,
                           evidence_urls=urls, fraud_flags=flags, order_known=known,
                           history=CustomerHistory(previous_returns=prev, previous_denied=denied,
                                                   recent_returns_30d=recent))

    def triage(self, policy: LoadedPolicy, value: float, days: int | None, category: str, text: str,
               evidence: tuple[bool, bool], urls: list[str], flags_key: tuple, known: bool, prev: int, denied: int,
               recent: int) -> Triaged:
        key = (policy.id, value, days, category, classify_reason(text), evidence, flags_key, known, prev, denied,
               recent)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        self.calls += 1
        facts = self.facts(value, days, category, text, urls, {f: True for f in flags_key}, known, prev, denied, recent)
        result = evaluate(facts, policy.rules)
        item = ReturnWithFacts(id=0, public_id=None, created_at=None, status="pending_triage", customer_email="",
                               order_id="", ai_recommendation=None, policy_version_used=None, order_value=value,
                               facts=facts)
        out = self.cache[key] = Triaged(result, policy, suspicious_patterns(item, result, policy))
        return out


# --- what people did with it ------------------------------------------------------------------------------------


@dataclass
class Decision:
    """A return's history after triage: its final status and the columns and audit steps that led there."""

    status: str
    decided_at: datetime | None = None  # admin_decision_at: the last decision a person made
    approved_at: datetime | None = None
    denied_at: datetime | None = None
    notes: str | None = None
    escalation: str | None = None


def review_choice(rng: random.Random, t: Triaged, prev: int, denied_before: int,
                  n_evidence: int) -> tuple[str, str | None]:
    """What a reviewer does with a return the engine sent to a person, and the note they write (None: no note)."""
    rand = rng.random
    roll = rand()
    flags = t.policy_flags
    if t.hard:
        action = "deny" if roll < 0.75 else "approve" if roll < 0.95 else "escalate"
    elif flags:
        action = "escalate" if roll < 0.35 else "deny" if roll < 0.7 else "approve"
    elif t.above_escalation:
        action = "escalate" if roll < 0.3 else "approve" if roll < 0.9 else "deny"
    elif t.missing_evidence:
        action = "approve" if roll < 0.55 else "deny" if roll < 0.9 else "escalate"
    else:
        action = "approve" if roll < 0.83 else "deny" if roll < 0.93 else "escalate"
    violations = t.result.policy_violations
    if action == "deny":
        if "outside_return_window" in violations:
            return action, C.DENY_NOTES["outside_return_window"]
        if "reason_not_accepted" in violations:
            return action, C.DENY_NOTES["reason_not_accepted"]
        if "evidence_reused" in flags and n_evidence:
            return action, C.DENY_NOTES["evidence_reused"]
        if t.missing_evidence:
            return action, C.DENY_NOTES["missing_evidence"]
        if t.reason in C.WORN_REASONS:
            return action, C.DENY_NOTES["worn"]
        return action, C.DENY_NOTES["other"]
    if action == "escalate":
        if t.above_escalation:
            return action, C.ESCALATION_NOTES["value"]
        if "evidence_reused" in flags and n_evidence:
            return action, C.ESCALATION_NOTES["evidence_reused"]
        if flags:
            return action, C.ESCALATION_NOTES["flags"].format(flags=", ".join(flags))
        if denied_before:
            return action, C.ESCALATION_NOTES["disputes"]
        if t.reason == "damaged":
            return action, C.ESCALATION_NOTES["carrier"]
        if prev >= 3:
            return action, C.ESCALATION_NOTES["repeat"]
        return action, C.ESCALATION_NOTES["other"]
    if rand() < 0.5:  # an approval's note is optional: about half of reviewers write one
        return action, None
    if t.hard:
        return action, C.APPROVE_NOTES["exception"]
    if t.reason in ("damaged", "defective") and n_evidence:
        return action, C.APPROVE_NOTES["photos"]
    if n_evidence:
        return action, C.APPROVE_NOTES["evidence"]
    return action, C.APPROVE_NOTES["window"]


class AuditWriter:
    """COPY lines of ``audit_log`` for one business, as ``dokani.audit`` writes them (sorted by time at the end)."""

    COLUMNS = "business_id, actor_id, actor_email, action, entity, entity_id, before, after, note, created_at"

    def __init__(self, business_id):
        self.bid = str(business_id)
        self.rows: list[tuple[datetime, int, str]] = []
        self.who: dict[str, str] = {}

    def add(self, at: datetime, seq: int, actor, action: str, rid: int, before: dict, after: dict,
            note: str | None) -> None:
        who = self.who.get(actor.email)
        if who is None:
            who = self.who[actor.email] = f"{self.bid}\t{actor.user_id}\t{actor.email}\t"
        n = "\\N" if note is None else _esc(note)
        self.rows.append((at, seq, f"{who}{action}\treturn_requests\t{rid}\t{_json(before)}\t{_json(after)}\t{n}\t"
                                   f"{at}\n"))

    def lines(self):
        self.rows.sort(key=lambda r: (r[0], r[1]))
        for _, _, line in self.rows:
            yield line


def snapshot(d: Decision) -> dict:
    """The columns a decision's audit row keeps (``dokani.returns.decisions._SNAPSHOT``)."""
    return {"status": d.status, "admin_notes": d.notes, "admin_decision_at": d.decided_at,
            "approved_at": d.approved_at, "denied_at": d.denied_at, "escalation_reason": d.escalation}


def _copy(d: Decision) -> Decision:
    return Decision(d.status, d.decided_at, d.approved_at, d.denied_at, d.notes, d.escalation)


def settle(rng: random.Random, t: Triaged, triaged_at: datetime, anchor: datetime, review_after: datetime | None,
           prev: int, denied_before: int, n_evidence: int, audit: AuditWriter, rid: int, reviewer, second,
           seq: int) -> Decision:
    """Everything after triage, up to ``anchor``: the engine's own decision or a person's, a second look at an
    escalation, the item received back (completed). ``review_after``: reviews before this moment only (a backlog)."""
    rand = rng.random
    hour = timedelta(hours=1)
    if t.rec == "auto_approve":
        d = Decision("approved", approved_at=triaged_at)
    elif t.rec == "auto_deny":
        d = Decision("denied", denied_at=triaged_at)
    else:
        d = Decision("pending_review")
        # a review queue: most within a working day, some after a weekend or a busy week
        wait = (2 + 22 * rand() ** 2) if rand() < 0.5 else (24 + 96 * rand() ** 1.5)
        at = triaged_at + wait * hour
        if at <= anchor and (review_after is None or at < review_after):
            action, note = review_choice(rng, t, prev, denied_before, n_evidence)
            before = snapshot(d)
            d = _apply(d, action, note, at)
            audit.add(at, seq, reviewer, action, rid, before, snapshot(d), note)
            if d.status == "escalated":  # the owner (or the fraud team) takes a second look, days later
                at2 = at + (48 + 24 * 40 * rand() ** 1.5) * hour
                if at2 <= anchor:
                    if rand() < 0.6:
                        action2, note2 = "approve", C.APPROVE_NOTES["second_look"] if rand() < 0.7 else None
                    else:
                        action2, note2 = "deny", C.DENY_NOTES["second_look"]
                    before = snapshot(d)
                    d = _apply(d, action2, note2, at2)
                    audit.add(at2, seq, second, action2, rid, before, snapshot(d), note2)
    if d.status == "approved":  # the parcel comes back to the warehouse: someone marks the return completed
        start = d.approved_at
        back = start + (72 + 24 * 14 * rand()) * hour
        if back <= anchor:
            before = snapshot(d)
            d = _copy(d)
            d.status = "completed"
            audit.add(back, seq, reviewer, "complete", rid, before, snapshot(d), None)
    return d


def _apply(d: Decision, action: str, note: str | None, at: datetime) -> Decision:
    """A person's decision, with the columns ``dokani.returns.decisions`` sets for it."""
    out = _copy(d)
    out.decided_at = at
    if note:
        out.notes = note
    if action == "approve":
        out.status, out.approved_at = "approved", at
    elif action == "deny":
        out.status, out.denied_at = "denied", at
    elif action == "escalate":
        out.status, out.escalation = "escalated", note
    return out


def triage_audit(audit: AuditWriter, at: datetime, seq: int, actor, rid: int, t: Triaged, status_after: str) -> None:
    """The audit row of a triage run (``dokani.triage.service._write``)."""
    r = t.result
    audit.add(at, seq, actor, "triage", rid,
              {"status": "pending_triage", "ai_recommendation": None, "policy_version_used": None},
              {"status": status_after, "ai_recommendation": r.recommendation, "confidence": r.confidence,
               "risk_score": r.risk_score, "policy_version_used": t.policy.version},
              f"{ENGINE_ID} under policy {t.policy.version} (console)")
