"""The triage engine: deterministic and explainable.

``evaluate(facts, rules)`` turns one return's facts and a policy version's rules into a recommendation
(``auto_approve`` / ``auto_deny`` / ``human_review``), a confidence, and every clause that was checked
with its inputs, so a reviewer can see exactly why. No I/O here: facts come from ``dokani.triage.facts``.
"""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field

from dokani.policies.rules import PolicyRules
from dokani.risk.bands import BAND_MIDPOINT

Recommendation = Literal["auto_approve", "auto_deny", "human_review"]
Outcome = Literal["pass", "violation", "flag", "info"]

ENGINE_ID = "dokani-triage/1"

# Customer words -> reason code. First match wins, in this order (specific before general).
REASON_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("wrong_item", ("wrong item", "wrong size sent", "wrong colour", "wrong color", "not what i ordered", "different item", "sent the wrong")),
    ("damaged", ("damaged", "broken", "cracked", "shattered", "dented", "torn", "arrived smashed", "scratched")),
    ("defective", ("defective", "stopped working", "doesn't work", "does not work", "faulty", "won't turn on", "malfunction", "broke after")),
    ("not_as_described", ("not as described", "looks different", "different from the picture", "misleading", "not as pictured", "quality is poor")),
    ("doesnt_fit", ("doesn't fit", "does not fit", "too small", "too big", "too tight", "too loose", "size")),
    ("late_delivery", ("late", "arrived after", "took too long", "delayed")),
    ("changed_mind", ("changed my mind", "no longer need", "don't need", "don't want", "found it cheaper", "gift")),
]
_IMAGE = re.compile(r"\.(jpe?g|png|webp|heic|gif)(\?|$)", re.I)
_VIDEO = re.compile(r"\.(mp4|mov|webm)(\?|$)", re.I)


class ListMatch(BaseModel):
    """A live risk-list entry naming this customer or this order (``dokani.risk.lists``)."""

    list: Literal["trusted", "watchlist", "blocklist"]
    match: Literal["email", "order"] = "email"
    value: str = ""
    note: str | None = None
    expires_at: str | None = None


class CustomerHistory(BaseModel):
    previous_returns: int = 0
    previous_denied: int = 0
    recent_returns_30d: int = 0
    profile_risk_score: float | None = None
    return_frequency: int | None = None
    fraud_indicators: dict[str, Any] = Field(default_factory=dict)
    lists: list[ListMatch] = Field(default_factory=list)
    band_override: Literal["low", "medium", "high"] | None = None
    override_reason: str | None = None
    override_expires: datetime | None = None


class ReturnFacts(BaseModel):
    order_value: float = 0.0
    days_since_purchase: int | None = None
    product_category: str | None = None
    reason_text: str | None = None
    evidence_urls: list[str] = Field(default_factory=list)
    fraud_flags: dict[str, Any] = Field(default_factory=dict)
    order_known: bool = True
    history: CustomerHistory = Field(default_factory=CustomerHistory)


class Clause(BaseModel):
    """One rule clause the engine checked, with the inputs it looked at."""

    rule: str
    outcome: Outcome
    detail: str
    inputs: dict[str, Any] = Field(default_factory=dict)


class TriageResult(BaseModel):
    recommendation: Recommendation
    confidence: float
    reason_code: str
    risk_score: float
    risk_factors: list[str]
    policy_violations: list[str]
    fraud_flags: dict[str, Any]
    rules_fired: list[Clause]
    reasoning: str

    @property
    def status(self) -> str:
        """The status a triaged return moves to."""
        return {"auto_approve": "approved", "auto_deny": "denied"}.get(self.recommendation, "pending_review")


def reason_pattern(phrases: tuple[str, ...]) -> str:
    """Any of a reason's keywords, at the start of a word ("late" in "arrived late", not in "insulated").

    The same pattern runs in Python and in Postgres (``dokani.returns.filters.reason_code_sql``), so the
    queue's reason filter and the engine always agree.
    """
    return "(?:^|[^a-z])(" + "|".join(re.escape(p) for p in phrases) + ")"


# One alternation per reason code: a code matches if any of its phrases does (code order decides).
_CODE_RE = [(code, re.compile(reason_pattern(phrases))) for code, phrases in REASON_KEYWORDS]


@lru_cache(maxsize=8192)  # backtests read the same words under two policies, and customers repeat themselves
def classify_reason(text: str | None) -> tuple[str, str | None]:
    """Reason code for the customer's words, and the phrase that decided it."""
    lowered = (text or "").lower()
    for code, pattern in _CODE_RE:
        found = pattern.search(lowered)
        if found:
            return code, found.group(1)
    return "other", None


def _evidence_kinds(urls: list[str]) -> set[str]:
    kinds: set[str] = set()
    for url in urls:
        if _IMAGE.search(url):
            kinds.add("photo")
        if _VIDEO.search(url):
            kinds.add("video")
        if "receipt" in url.lower() or url.lower().endswith(".pdf"):
            kinds.add("receipt")
    return kinds


def assess_risk(facts: ReturnFacts, rules: PolicyRules) -> tuple[float, list[str], dict[str, Any]]:
    """Risk 0..1 from the customer's history and this return; each contribution is named."""
    h = facts.history
    parts: list[tuple[str, float]] = [("baseline", 0.10)]
    if h.band_override is not None:  # a person set the band: it stands for the profile until it expires
        score = BAND_MIDPOINT[h.band_override]
        parts.append((f"risk band set to {h.band_override} by hand (counts as {score:.2f})", round(0.30 * score, 3)))
    elif h.profile_risk_score is not None:
        parts.append((f"risk profile score {h.profile_risk_score:.2f}", round(0.30 * h.profile_risk_score, 3)))
    if h.previous_returns:
        parts.append((f"{h.previous_returns} earlier return{'' if h.previous_returns == 1 else 's'}", min(0.20, 0.04 * h.previous_returns)))
    if h.recent_returns_30d >= 2:
        parts.append((f"{h.recent_returns_30d} returns in the last 30 days", min(0.15, 0.05 * h.recent_returns_30d)))
    if h.previous_denied:
        parts.append((f"{h.previous_denied} earlier return{'' if h.previous_denied == 1 else 's'} denied", min(0.15, 0.05 * h.previous_denied)))
    indicators = [k for k, v in h.fraud_indicators.items() if v]
    if indicators:
        parts.append((f"profile fraud indicators: {', '.join(sorted(indicators))}", min(0.20, 0.07 * len(indicators))))
    flags = {k: v for k, v in facts.fraud_flags.items() if v}
    if flags:
        parts.append((f"fraud flags on this return: {', '.join(sorted(flags))}", min(0.30, 0.15 * len(flags))))
    if facts.product_category in rules.high_risk_categories:
        parts.append((f"high-risk category {facts.product_category}", 0.10))
    if facts.order_value > rules.auto_escalation_threshold:
        parts.append((f"order value {facts.order_value:.2f} above {rules.auto_escalation_threshold:.2f}", 0.05))
    if not facts.order_known:
        parts.append(("order not found", 0.10))
    score = round(min(1.0, max(0.0, sum(w for _, w in parts))), 3)
    factors = [f"{name} (+{weight:.2f})" for name, weight in parts if name != "baseline"]
    return score, factors, flags


class _Checks:
    """What the policy clauses found so far: every clause in the order checked, the violations, and whether one of
    them is hard (the policy itself settles it: window, final sale, reason)."""

    __slots__ = ("clauses", "violations", "hard")

    def __init__(self) -> None:
        self.clauses: list[Clause] = []
        self.violations: list[str] = []
        self.hard = False


def evaluate(facts: ReturnFacts, rules: PolicyRules) -> TriageResult:
    """Recommend what to do with one return under `rules`, explaining every clause."""
    checks = _Checks()
    _check_window(facts, rules, checks)
    reason = _check_reason(facts, rules, checks)
    _check_evidence(facts, rules, checks)
    risk, factors, flags = assess_risk(facts, rules)
    policy_flags = sorted(f for f in flags if f in rules.fraud_flags)
    _note_risk(facts, rules, risk, policy_flags, checks)
    lists = {m.list: m for m in facts.history.lists}
    _note_override(facts.history, checks)
    recommendation, confidence, why = _recommend(facts.order_value, rules, risk, reason, policy_flags, checks,
                                                 trusted="trusted" in lists and "watchlist" not in lists)
    recommendation, confidence, why = _apply_lists(lists, recommendation, confidence, why, checks)

    reasoning = f"{recommendation.replace('_', ' ')}: {why}."
    if factors:
        reasoning += " Risk factors: " + "; ".join(factors) + "."
    return TriageResult(
        recommendation=recommendation,
        confidence=round(min(0.99, max(0.5, confidence)), 3),
        reason_code=reason,
        risk_score=risk,
        risk_factors=factors,
        policy_violations=checks.violations,
        fraud_flags=flags,
        rules_fired=checks.clauses,
        reasoning=reasoning,
    )


def _check_window(facts: ReturnFacts, rules: PolicyRules, checks: _Checks) -> None:
    """The return window of the category, and final sale."""
    category = facts.product_category
    window = rules.window_for(category)
    if facts.days_since_purchase is None:
        checks.clauses.append(Clause(rule="return_window", outcome="flag", detail="purchase date unknown", inputs={"window_days": window}))
    elif facts.days_since_purchase > window:
        checks.violations.append("outside_return_window")
        checks.hard = True
        checks.clauses.append(Clause(rule="return_window", outcome="violation",
                                     detail=f"{facts.days_since_purchase} days since purchase, window is {window}",
                                     inputs={"days_since_purchase": facts.days_since_purchase, "window_days": window, "category": category}))
    else:
        checks.clauses.append(Clause(rule="return_window", outcome="pass",
                                     detail=f"{facts.days_since_purchase} of {window} days",
                                     inputs={"days_since_purchase": facts.days_since_purchase, "window_days": window}))

    if rules.is_final_sale(category):
        checks.violations.append("final_sale")
        checks.hard = True
        checks.clauses.append(Clause(rule="category_overrides.final_sale", outcome="violation",
                                     detail=f"{category} is final sale", inputs={"category": category}))


def _check_reason(facts: ReturnFacts, rules: PolicyRules, checks: _Checks) -> str:
    """The customer's words read as a reason code, against the reasons the policy accepts; returns the code."""
    reason, phrase = classify_reason(facts.reason_text)
    if reason in rules.acceptable_reasons:
        checks.clauses.append(Clause(rule="acceptable_reasons", outcome="pass", detail=f"reason '{reason}' is accepted",
                                     inputs={"reason": reason, "matched": phrase}))
    elif reason == "other":
        checks.clauses.append(Clause(rule="acceptable_reasons", outcome="flag", detail="reason not recognised: a person should read it",
                                     inputs={"reason": reason}))
    else:
        checks.violations.append("reason_not_accepted")
        checks.hard = True
        checks.clauses.append(Clause(rule="acceptable_reasons", outcome="violation", detail=f"reason '{reason}' is not accepted",
                                     inputs={"reason": reason, "matched": phrase, "accepted": rules.acceptable_reasons}))
    return reason


def _check_evidence(facts: ReturnFacts, rules: PolicyRules, checks: _Checks) -> None:
    have = _evidence_kinds(facts.evidence_urls)
    missing = [e for e in rules.required_evidence if e not in have]
    if missing:
        checks.violations.extend(f"missing_evidence:{m}" for m in missing)
        checks.clauses.append(Clause(rule="required_evidence", outcome="violation", detail=f"missing {', '.join(missing)}",
                                     inputs={"required": rules.required_evidence, "provided": sorted(have)}))
    elif rules.required_evidence:
        checks.clauses.append(Clause(rule="required_evidence", outcome="pass", detail=f"has {', '.join(sorted(have))}",
                                     inputs={"required": rules.required_evidence, "provided": sorted(have)}))


def _note_risk(facts: ReturnFacts, rules: PolicyRules, risk: float, policy_flags: list[str], checks: _Checks) -> None:
    """The fraud flags the policy watches, a high-risk category, and the risk against the thresholds."""
    category = facts.product_category
    if policy_flags:
        checks.clauses.append(Clause(rule="fraud_flags", outcome="flag", detail=f"flags the policy watches: {', '.join(policy_flags)}",
                                     inputs={"flags": policy_flags}))
    if category in rules.high_risk_categories:
        checks.clauses.append(Clause(rule="high_risk_categories", outcome="flag", detail=f"{category} is a high-risk category",
                                     inputs={"category": category}))
    t = rules.risk_thresholds
    checks.clauses.append(Clause(rule="risk_thresholds", outcome="info",
                                 detail=f"risk {risk:.2f} (approve ≤ {t.auto_approve_max:.2f}, deny ≥ {t.auto_deny_min:.2f})",
                                 inputs={"risk_score": risk, "auto_approve_max": t.auto_approve_max, "auto_deny_min": t.auto_deny_min}))


def _note_override(h: CustomerHistory, checks: _Checks) -> None:
    if h.band_override is None:
        return
    until = f" until {h.override_expires:%Y-%m-%d %H:%M} UTC" if h.override_expires else ""
    checks.clauses.append(Clause(rule="risk_band_override", outcome="info",
                                 detail=f"risk band set to {h.band_override} by hand{until}: {h.override_reason or ''}".rstrip(": "),
                                 inputs={"band": h.band_override, "computed_profile_score": h.profile_risk_score}))


def _list_detail(m: ListMatch) -> str:
    what = "email" if m.match == "email" else "order"
    until = f", until {m.expires_at[:16].replace('T', ' ')} UTC" if m.expires_at else ""
    return f"{what} {m.value} is on the {m.list}{until}" + (f": {m.note}" if m.note else "")


def _apply_lists(lists: dict[str, ListMatch], rec: Recommendation, confidence: float, why: str,
                 checks: _Checks) -> tuple[Recommendation, float, str]:
    """The blocklist refuses; the watchlist sends every return to a person; trust was applied in `_recommend`."""
    clauses = checks.clauses
    if "blocklist" in lists:
        m = lists["blocklist"]
        checks.violations.append("blocklisted")
        clauses.append(Clause(rule="risk_lists.blocklist", outcome="violation", detail=_list_detail(m),
                              inputs={"match": m.match, "value": m.value, "note": m.note}))
        return "auto_deny", 0.95, "refused: " + _list_detail(m)
    if "watchlist" in lists:
        m = lists["watchlist"]
        clauses.append(Clause(rule="risk_lists.watchlist", outcome="flag",
                              detail=_list_detail(m) + f"; a person reviews it (the engine alone: {rec.replace('_', ' ')})",
                              inputs={"value": m.value, "note": m.note, "engine_alone": rec}))
        if rec != "human_review":
            return "human_review", 0.8, "on the watchlist: a person reviews every return of this customer"
        return rec, confidence, why + "; the customer is on the watchlist"
    if "trusted" in lists and not any(c.rule == "risk_lists.trusted" for c in clauses):
        m = lists["trusted"]
        clauses.append(Clause(rule="risk_lists.trusted", outcome="info",
                              detail=_list_detail(m) + "; the policy still decides (it objects here)",
                              inputs={"value": m.value, "note": m.note}))
    return rec, confidence, why


def _recommend(value: float, rules: PolicyRules, risk: float, reason: str, policy_flags: list[str],
               checks: _Checks, trusted: bool = False) -> tuple[Recommendation, float, str]:
    """The recommendation, its confidence and why: the first case that holds, in this order (deny on risk first).

    A trusted customer is not denied on risk, and skips the review a high risk or a value above the auto-approve
    threshold would ask for; violations, watched fraud flags and the escalation threshold still hold.
    """
    t = rules.risk_thresholds
    violations, clauses = checks.violations, checks.clauses
    if risk >= t.auto_deny_min and not trusted:
        confidence = 0.6 + 0.4 * (risk - t.auto_deny_min) / max(1e-9, 1 - t.auto_deny_min)
        return "auto_deny", confidence, f"risk {risk:.2f} is at or above the auto-deny threshold {t.auto_deny_min:.2f}"
    if checks.hard and not policy_flags and value <= rules.auto_escalation_threshold:
        why = "the policy excludes this return: " + ", ".join(v for v in violations if not v.startswith("missing_evidence"))
        return "auto_deny", 0.9 - 0.3 * risk, why
    if policy_flags:
        confidence = 0.6 + 0.3 * min(1.0, risk / max(t.auto_deny_min, 1e-9))
        return "human_review", confidence, "fraud flags need a person: " + ", ".join(policy_flags)
    if value > rules.auto_escalation_threshold:
        why = f"order value {value:.2f} is above the escalation threshold {rules.auto_escalation_threshold:.2f}"
        clauses.append(Clause(rule="auto_escalation_threshold", outcome="flag", detail=why,
                              inputs={"order_value": value, "threshold": rules.auto_escalation_threshold}))
        return "human_review", 0.85, why
    if violations or checks.hard or reason == "other":
        return "human_review", 0.7, "needs a person: " + (", ".join(violations) if violations else "reason not recognised")
    if value <= rules.auto_approve_threshold and risk <= t.auto_approve_max:
        confidence = 0.7 + 0.3 * (1 - risk / max(t.auto_approve_max, 1e-9))
        why = f"within policy, value {value:.2f} ≤ {rules.auto_approve_threshold:.2f} and risk {risk:.2f} ≤ {t.auto_approve_max:.2f}"
        clauses.append(Clause(rule="auto_approve_threshold", outcome="pass", detail=why,
                              inputs={"order_value": value, "threshold": rules.auto_approve_threshold}))
        return "auto_approve", confidence, why
    above_value = value > rules.auto_approve_threshold
    if trusted:
        why = ("trusted customer: manual review skipped, the policy has no objection "
               f"(value {value:.2f}, risk {risk:.2f})")
        clauses.append(Clause(rule="risk_lists.trusted", outcome="pass", detail=why,
                              inputs={"order_value": value, "risk_score": risk,
                                      "escalation_threshold": rules.auto_escalation_threshold}))
        return "auto_approve", 0.8, why
    why = (f"order value {value:.2f} is above the auto-approve threshold {rules.auto_approve_threshold:.2f}"
           if above_value else f"risk {risk:.2f} is above the auto-approve limit {t.auto_approve_max:.2f}")
    clauses.append(Clause(rule="auto_approve_threshold" if above_value else "risk_thresholds", outcome="flag", detail=why,
                          inputs={"order_value": value, "threshold": rules.auto_approve_threshold, "risk_score": risk}))
    return "human_review", 0.65, why
