"""The engine over many returns at once: the recommendation of each, as ``engine.evaluate`` gives it, without
evaluating every return.

The engine is deterministic over facts, and its recommendation reads only a few things of them: which side of each
threshold the order value is on, whether the days since purchase exceed the category's window, the category, the
reason code, the kinds of evidence, the fraud flags, whether the order is known, the risk lists named and, through
the risk score, the customer's history. Returns that agree on those get the same recommendation, so they are
sorted into classes and ``evaluate`` runs once per class, on the first return of it (its full facts), per policy:

1. the **risk class**: what the risk score is made of (the profile's contribution or a hand-set band, the history
   counts up to the point where their contribution stops growing, how many fraud indicators and flags, whether the
   category is high-risk under the policy, which side of the escalation threshold the value is on, whether the
   order is known); the score is ``engine.assess_risk`` of the class's first return;
2. the **decision class** (``_decision_key``): what the policy's clauses make of the return (outside the window,
   final sale, reason accepted / not recognised, evidence missing, a watched fraud flag, the risk lists naming it,
   the value against both thresholds) and which side of the policy's risk thresholds the score is.

Two ways in:

- ``BatchEvaluator`` reads facts rows (``dokani.triage.facts.iter_rows``) one by one, in Python;
- ``ClassEvaluator`` reads the classes Postgres already grouped (``dokani.triage.classes``: the same reading in SQL,
  risk score included) and fetches the full facts only of the returns it evaluates. Every one of those it reads
  again as ``BatchEvaluator`` does and compares with the class it stands for: a difference (the SQL reading and the
  engine drifted apart) raises ``ClassesDisagree``, and the caller replays return by return instead.

``tests/unit/test_triage_batch.py`` checks with hypothesis that every return gets exactly what ``evaluate`` gives
it; ``tests/integration/test_triage_classes.py`` that the SQL reading is the engine's, return by return. Change the
engine's inputs, and ``_Row``, ``_decision_key`` and ``dokani.triage.classes`` must name them too.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from dokani.policies.rules import PolicyRules
from dokani.triage.classes import EVIDENCE_BITS, Cuts, ReturnClass
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
            flags = memo.flags[raw] = _set_flags(raw)
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


def _set_flags(raw: Any) -> tuple[str, ...]:
    """The fraud flags a JSON object column sets, sorted (what the engine counts and matches)."""
    return tuple(sorted(k for k, v in json_object(raw).items() if v))


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

    def risk_code(self, risk: float) -> int:
        """Which side of the policy's risk thresholds a score is: 0 approvable, 2 denied, 1 between."""
        t = self.rules.risk_thresholds
        return 2 if risk >= t.auto_deny_min else 0 if risk <= t.auto_approve_max else 1

    def decision_key(self, days_over: bool | None, category: str | None, reason: str, kinds: frozenset,
                     flags: tuple[str, ...], lists: frozenset, above_escalation: bool, above_approve: bool,
                     risk_code: int) -> tuple:
        """What the policy's clauses make of a return: returns with equal keys get the same recommendation."""
        rules = self.rules
        final_sale = self.of_category(category)[1]
        accepted = self.reason.get(reason)
        if accepted is None:  # accepted, and whether it was recognised at all
            accepted = self.reason[reason] = (reason in rules.acceptable_reasons, reason == "other")
        missing = self.missing.get(kinds)
        if missing is None:
            missing = self.missing[kinds] = any(e not in kinds for e in rules.required_evidence)
        watched = self.watched.get(flags)
        if watched is None:
            watched = self.watched[flags] = any(f in rules.fraud_flags for f in flags)
        return (days_over, final_sale, accepted, missing, watched, lists, above_escalation, above_approve, risk_code)

    def read(self, item: _Row, risk: float) -> tuple:
        """The decision key of a facts row whose risk score under this policy is `risk`."""
        rules = self.rules
        window = self.of_category(item.category)[0]
        value = item.value
        return self.decision_key(None if item.days is None else item.days > window, item.category, item.reason,
                                 item.kinds, item.flags, item.lists, value > rules.auto_escalation_threshold,
                                 value > rules.auto_approve_threshold, self.risk_code(risk))


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
        high_risk = p.of_category(item.category)[2]
        risk_key = (item.history, high_risk, item.value > p.rules.auto_escalation_threshold)
        risk = p.risk.get(risk_key)
        if risk is None:
            self.risk_assessments += 1
            risk = p.risk[risk_key] = assess_risk(item.facts.facts, p.rules)[0]
        key = p.read(item, risk)
        found = p.decision.get(key)
        if found is None:
            self.evaluations += 1
            found = p.decision[key] = evaluate(item.facts.facts, p.rules).recommendation
        return found


def recommend_many(rows: Sequence[Any], policies: Sequence[PolicyRules]) -> list[tuple[Recommendation, ...]]:
    """The recommendation of each facts row (``iter_rows``) under each policy: what ``evaluate`` gives each."""
    evaluator = BatchEvaluator(policies)
    return [evaluator.recommend(evaluator.read(r)) for r in rows]


class ClassesDisagree(RuntimeError):
    """A return evaluated for its class does not read as the class says: the SQL reading is not the engine's."""


FactsOf = Callable[[Iterable[int]], dict[int, Any]]  # facts rows (``iter_rows``'s) of the returns with these ids


class ClassEvaluator:
    """Recommendations of classes of returns (``dokani.triage.classes``) under several policies, evaluating the
    engine once per decision class on the full facts of one return of it, each checked against its class."""

    def __init__(self, policies: Sequence[PolicyRules]):
        self.policies = list(policies)
        self.cuts = Cuts.of(self.policies)
        self._memo = _Memo()
        self._each = [_Policy(p) for p in self.policies]
        self.evaluations = 0
        self.checked = 0  # representatives read again and compared with their class

    def recommend(self, classes: Sequence[ReturnClass], facts_of: FactsOf) -> list[tuple[Recommendation, ...]]:
        """The recommendation of each class under each policy, in the order given. `facts_of` is called at most
        twice: for the classes whose risk Postgres left to the engine, then for one return per decision class."""
        read = [self._features(c) for c in classes]
        fetched: dict[int, _Row] = {}

        def fetch(ids: set[int]) -> None:
            wanted = ids - fetched.keys()
            if wanted:
                for i, row in facts_of(sorted(wanted)).items():
                    fetched[i] = _Row(row, self._memo)

        odd = {c.representative for c in classes if c.risk_inputs is not None}
        fetch(odd)
        codes = []
        for c in classes:
            if c.risk_inputs is None:
                codes.append(c.risk_codes)
            else:  # the engine scores this class: every return of it has the same risk inputs
                item = fetched[c.representative]
                codes.append(tuple(p.risk_code(assess_risk(item.facts.facts, p.rules)[0]) for p in self._each))
        keys = [tuple(self._key(p, i, f, code[i]) for i, p in enumerate(self._each)) for f, code in zip(read, codes)]
        first: dict[tuple[int, tuple], int] = {}  # (policy, decision key) -> the class whose return stands for it
        for n, ks in enumerate(keys):
            for i, k in enumerate(ks):
                first.setdefault((i, k), n)
        fetch({classes[n].representative for n in first.values()})
        for n in sorted(set(first.values()) | {n for n, c in enumerate(classes) if c.risk_inputs is not None}):
            self._check(classes[n], fetched[classes[n].representative], keys[n])
        for (i, k), n in first.items():
            p = self._each[i]
            self.evaluations += 1
            p.decision[k] = evaluate(fetched[classes[n].representative].facts.facts, p.rules).recommendation
        return [tuple(p.decision[k] for p, k in zip(self._each, ks)) for ks in keys]

    def _features(self, c: ReturnClass) -> tuple:
        """Category, reason code, evidence kinds, flags set and lists of a class."""
        memo = self._memo
        reason = c.reason
        if reason is None:
            reason = memo.reasons.get(c.words)
            if reason is None:
                reason = memo.reasons[c.words] = classify_reason(c.words)[0]
        if c.evidence is not None:
            kinds = frozenset(k for k, bit in EVIDENCE_BITS.items() if c.evidence & bit)
        else:
            kinds = frozenset(_evidence_kinds(list(c.links or ())))
        flags = tuple(sorted(c.flags)) if c.flags is not None else _set_flags(c.raw_flags)
        return c.category, reason, kinds, flags, frozenset(c.lists), c

    def _key(self, p: _Policy, i: int, features: tuple, code: int) -> tuple:
        category, reason, kinds, flags, lists, c = features
        rules = p.rules
        window = p.of_category(category)[0]
        cuts = self.cuts
        days_over = None if c.days_side < 0 else cuts.days_over(c.days_side, window)
        return p.decision_key(days_over, category, reason, kinds, flags, lists,
                              cuts.value_over(c.value_side, rules.auto_escalation_threshold),
                              cuts.value_over(c.value_side, rules.auto_approve_threshold), code)

    def _check(self, c: ReturnClass, item: _Row, keys: tuple) -> None:
        """The representative reads, return by return, as its class says (decision key and risk score)."""
        self.checked += 1
        for i, p in enumerate(self._each):
            risk = assess_risk(item.facts.facts, p.rules)[0]
            low, high = c.risk_ranges[i]
            in_range = c.risk_inputs is not None or (low is not None and low <= round(risk * 1000) <= high)
            if not in_range or p.read(item, risk) != keys[i]:
                raise ClassesDisagree(
                    f"return {item.row.id} reads {p.read(item, risk)} (risk {risk}) under policy {i}, its class "
                    f"{keys[i]} (risk {low}..{high})")
