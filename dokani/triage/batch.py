"""The engine over many returns at once: the recommendation of each, as ``engine.evaluate`` gives it, without
evaluating every return.

The engine is deterministic over facts, and its recommendation reads only a few things of them: which side of each
threshold the order value is on, whether the days since purchase exceed the category's window, the category, the
reason code, the kinds of evidence, the fraud flags, whether the order is known, the risk lists named and, through
the risk score, the customer's history. Returns that agree on those get the same recommendation, so
``BatchEvaluator`` sorts each return into such a class and runs ``evaluate`` once per class, on the first return
of it (its full facts), per policy:

1. the **risk class**: what the risk score is made of (the profile's contribution or a hand-set band, the history
   counts up to the point where their contribution stops growing, how many fraud indicators and flags, the
   category, which side of the escalation threshold the value is on, whether the order is known); the score is
   ``engine.assess_risk`` of the class's first return;
2. the **decision class**: the policy-relevant facts plus which side of the policy's risk thresholds the score is.

``tests/unit/test_triage_batch.py`` checks with hypothesis that every return gets exactly what ``evaluate`` gives
it. Change the engine's inputs, and ``_risk_key`` / ``_decision_key`` must name them too.
"""
from __future__ import annotations

from typing import Any, Sequence

from dokani.policies.rules import PolicyRules
from dokani.triage.engine import Recommendation, _evidence_kinds, assess_risk, classify_reason, evaluate
from dokani.triage.facts import ReturnWithFacts, order_facts, to_facts

# Beyond these counts a history item adds no more risk (its contribution reached its cap), so they are one class.
_PREVIOUS_CAP, _RECENT_CAP, _DENIED_CAP = 6, 4, 4


class _Row:
    """What the classes are made of, read once from a facts row."""

    __slots__ = ("row", "value", "days", "category", "reason", "kinds", "flags", "known", "lists", "risk_base",
                 "_facts")

    def __init__(self, row: Any, reasons: dict, kinds: dict):
        self.row = row
        self.value, self.days, self.category = order_facts(row)
        text = row.reason_for_return
        reason = reasons.get(text)
        if reason is None:
            reason = reasons[text] = classify_reason(text)[0]
        self.reason = reason
        urls = tuple(row.evidence_urls or ())
        kind = kinds.get(urls)
        if kind is None:
            kind = kinds[urls] = frozenset(_evidence_kinds(list(urls)))
        self.kinds = kind
        flags = row.fraud_flags
        self.flags = tuple(sorted(k for k, v in flags.items() if v)) if flags else ()
        self.known = bool(row.order_known)
        lists = row.lists
        self.lists = frozenset(m["list"] for m in lists) if lists else frozenset()
        band = row.override_band
        score = row.profile_risk_score
        profile = ("band", band) if band is not None else (None if score is None else round(0.30 * float(score), 3))
        indicators = row.fraud_indicators
        self.risk_base = (
            profile,
            min(int(row.previous_returns or 0), _PREVIOUS_CAP),
            min(int(row.returns_30d or 0), _RECENT_CAP),
            min(int(row.previous_denied or 0), _DENIED_CAP),
            sum(1 for v in indicators.values() if v) if indicators else 0,
            len(self.flags), self.category, self.known,
        )
        self._facts: ReturnWithFacts | None = None

    @property
    def facts(self) -> ReturnWithFacts:
        if self._facts is None:
            self._facts = to_facts(self.row)
        return self._facts


class BatchEvaluator:
    """Recommendations of many returns under several policies, ``evaluate`` run once per class of returns."""

    def __init__(self, policies: Sequence[PolicyRules]):
        self.policies = list(policies)
        self._reasons: dict = {}
        self._kinds: dict = {}
        self._risk: list[dict] = [{} for _ in self.policies]
        self._decision: list[dict] = [{} for _ in self.policies]
        self.evaluations = 0  # how many times `evaluate` ran (the rest were classes already seen)

    def read(self, row: Any) -> _Row:
        """One row of ``dokani.triage.facts.iter_rows``, ready to be classed."""
        return _Row(row, self._reasons, self._kinds)

    def recommend(self, item: _Row) -> tuple[Recommendation, ...]:
        """The recommendation of one return under each policy, in the order given."""
        return tuple(self._recommend(item, i) for i in range(len(self.policies)))

    def _recommend(self, item: _Row, i: int) -> Recommendation:
        rules = self.policies[i]
        value = item.value
        above_escalation = value > rules.auto_escalation_threshold
        risk_key = (item.risk_base, above_escalation)
        risk = self._risk[i].get(risk_key)
        if risk is None:
            risk = self._risk[i][risk_key] = assess_risk(item.facts.facts, rules)[0]
        t = rules.risk_thresholds
        days = item.days
        outside = None if days is None else days > rules.window_for(item.category)
        key = (item.category, outside, item.reason, item.kinds, item.flags, item.known, item.lists,
               above_escalation, value > rules.auto_approve_threshold,
               risk >= t.auto_deny_min, risk <= t.auto_approve_max)
        found = self._decision[i].get(key)
        if found is None:
            self.evaluations += 1
            found = self._decision[i][key] = evaluate(item.facts.facts, rules).recommendation
        return found


def recommend_many(rows: Sequence[Any], policies: Sequence[PolicyRules]) -> list[tuple[Recommendation, ...]]:
    """The recommendation of each facts row (``iter_rows``) under each policy: what ``evaluate`` gives each."""
    evaluator = BatchEvaluator(policies)
    return [evaluator.recommend(evaluator.read(r)) for r in rows]
