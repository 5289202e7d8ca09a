"""The engine over many returns at once: the recommendation of each, as ``engine.evaluate`` gives it, without
evaluating every return.

The engine is deterministic over facts, and its recommendation reads only a few things of them: which side of each
threshold the order value is on, whether the days since purchase exceed the category's window, the category, the
reason code, the kinds of evidence, the fraud flags, whether the order is known, the risk lists named and, through
the risk score, the customer's history. Returns that agree on those get the same recommendation, so
``BatchEvaluator`` sorts each return into such a class and runs ``evaluate`` once per class, on the first return
of it (its full facts), per policy:

1. the **risk class**: what the risk score is made of (the profile's contribution or a hand-set band, the history
   counts up to the point where their contribution stops growing, how many fraud indicators and flags, whether the
   category is high-risk under the policy, which side of the escalation threshold the value is on, whether the
   order is known); the score is ``engine.assess_risk`` of the class's first return;
2. the **decision class**: what the policy's clauses make of the return (outside the window, final sale, reason
   accepted / not recognised, evidence missing, a watched fraud flag, the risk lists naming it, the value against
   both thresholds) and which side of the policy's risk thresholds the score is.

``tests/unit/test_triage_batch.py`` checks with hypothesis that every return gets exactly what ``evaluate`` gives
it. Change the engine's inputs, and ``_risk_key`` / ``_decision_key`` must name them too.
"""
from __future__ import annotations

from typing import Any, Sequence

from dokani.policies.rules import PolicyRules
from dokani.triage.engine import Recommendation, _evidence_kinds, assess_risk, classify_reason, evaluate
from dokani.triage.facts import ReturnWithFacts, json_object, order_facts, to_facts

# Beyond these counts a history item adds no more risk (its contribution reached its cap), so they are one class.
_PREVIOUS_CAP, _RECENT_CAP, _DENIED_CAP = 6, 4, 4


class _Row:
    """What the classes are made of, read once from a facts row."""

    __slots__ = ("row", "value", "days", "category", "reason", "kinds", "flags", "lists", "history", "_facts")

    def __init__(self, row: Any, memo: "_Memo"):
        self.row = row
        self.value, self.days, self.category = order_facts(row)
        text = row.reason_for_return
        reason = memo.reasons.get(text)
        if reason is None:
            reason = memo.reasons[text] = classify_reason(text)[0]
        self.reason = reason
        urls = row.evidence_urls
        urls = tuple(urls) if urls else ()
        kinds = memo.kinds.get(urls)
        if kinds is None:
            kinds = memo.kinds[urls] = frozenset(_evidence_kinds(list(urls)))
        self.kinds = kinds
        raw = row.fraud_flags
        flags = memo.flags.get(raw)
        if flags is None:
            flags = memo.flags[raw] = tuple(sorted(k for k, v in json_object(raw).items() if v))
        self.flags = flags
        raw = row.fraud_indicators
        indicators = memo.indicators.get(raw)
        if indicators is None:
            indicators = memo.indicators[raw] = sum(1 for v in json_object(raw).values() if v)
        lists = row.lists
        self.lists = frozenset(m["list"] for m in lists) if lists else frozenset()
        band = row.override_band
        score = row.profile_risk_score
        profile = ("band", band) if band is not None else (None if score is None else round(0.30 * float(score), 3))
        # What the risk score reads besides the policy: profile, history up to its caps, indicators, flags, order.
        self.history = (
            profile,
            min(int(row.previous_returns or 0), _PREVIOUS_CAP),
            min(int(row.returns_30d or 0), _RECENT_CAP),
            min(int(row.previous_denied or 0), _DENIED_CAP),
            indicators, len(flags), bool(row.order_known),
        )
        self._facts: ReturnWithFacts | None = None

    @property
    def facts(self) -> ReturnWithFacts:
        if self._facts is None:
            self._facts = to_facts(self.row)
        return self._facts


class _Memo:
    """What repeats across returns: reason codes by words, evidence kinds by links, flags and indicators by value."""

    def __init__(self) -> None:
        self.reasons: dict = {}
        self.kinds: dict = {}
        self.flags: dict = {}
        self.indicators: dict = {}


class _Policy:
    """One policy's reading of the classes: risk by risk class, recommendation by decision class, and what each
    category, reason code, set of evidence kinds and set of flags means under it."""

    def __init__(self, rules: PolicyRules):
        self.rules = rules
        self.risk: dict = {}
        self.decision: dict = {}
        self.category: dict = {}
        self.reason: dict = {}
        self.missing: dict = {}
        self.watched: dict = {}

    def of_category(self, category: str | None) -> tuple[int, bool, bool]:
        found = self.category.get(category)
        if found is None:
            r = self.rules
            found = self.category[category] = (r.window_for(category), r.is_final_sale(category),
                                               category in r.high_risk_categories)
        return found


class BatchEvaluator:
    """Recommendations of many returns under several policies, ``evaluate`` run once per class of returns."""

    def __init__(self, policies: Sequence[PolicyRules]):
        self.policies = list(policies)
        self._memo = _Memo()
        self._each = [_Policy(p) for p in self.policies]
        self.evaluations = 0  # how many times `evaluate` ran (the rest were classes already seen)
        self.risk_assessments = 0

    def read(self, row: Any) -> _Row:
        """One row of ``dokani.triage.facts.iter_rows``, ready to be classed."""
        return _Row(row, self._memo)

    def recommend(self, item: _Row) -> tuple[Recommendation, ...]:
        """The recommendation of one return under each policy, in the order given."""
        return tuple([self._recommend(item, p) for p in self._each])

    def _recommend(self, item: _Row, p: _Policy) -> Recommendation:
        rules = p.rules
        value = item.value
        window, final_sale, high_risk = p.of_category(item.category)
        above_escalation = value > rules.auto_escalation_threshold
        risk_key = (item.history, high_risk, above_escalation)
        risk = p.risk.get(risk_key)
        if risk is None:
            self.risk_assessments += 1
            risk = p.risk[risk_key] = assess_risk(item.facts.facts, rules)[0]
        reason = p.reason.get(item.reason)
        if reason is None:  # accepted, and whether it was recognised at all
            reason = p.reason[item.reason] = (item.reason in rules.acceptable_reasons, item.reason == "other")
        missing = p.missing.get(item.kinds)
        if missing is None:
            missing = p.missing[item.kinds] = any(e not in item.kinds for e in rules.required_evidence)
        watched = p.watched.get(item.flags)
        if watched is None:
            watched = p.watched[item.flags] = any(f in rules.fraud_flags for f in item.flags)
        days = item.days
        t = rules.risk_thresholds
        key = (None if days is None else days > window, final_sale, reason, missing, watched, item.lists,
               above_escalation, value > rules.auto_approve_threshold, risk >= t.auto_deny_min,
               risk <= t.auto_approve_max)
        found = p.decision.get(key)
        if found is None:
            self.evaluations += 1
            found = p.decision[key] = evaluate(item.facts.facts, rules).recommendation
        return found


def recommend_many(rows: Sequence[Any], policies: Sequence[PolicyRules]) -> list[tuple[Recommendation, ...]]:
    """The recommendation of each facts row (``iter_rows``) under each policy: what ``evaluate`` gives each."""
    evaluator = BatchEvaluator(policies)
    return [evaluator.recommend(evaluator.read(r)) for r in rows]
