"""Backtest a policy version: replay it over a business's past returns with the shared triage engine.

Each return in the chosen period is decided twice by the shared engine on the same facts: once under the baseline
version (the active one unless another is chosen; for the active version itself, the one it replaced) and once
under the candidate. Postgres groups the returns into classes that decide alike under both
(``dokani.triage.classes``), and ``dokani.triage.batch.ClassEvaluator`` runs ``evaluate`` once per decision class
on the full facts (``dokani.triage.facts``) of one return of it, checked against its class; should a check fail,
the backtest replays return by return (``by_class=False``, also the reference the tests compare with).
The result counts the outcomes that change (approve / deny / review, in every direction), the refund value that
changes, keeps a sample of the returns that flip, and is stored in ``policy_backtests`` so the version list can show
the latest one.

Refund value of an outcome: ``order_value × (1 − restocking_fee_pct / 100)`` of the return's category
when the engine approves it automatically, 0 when it denies it or leaves it to a person. The refund value
change is the sum over all replayed returns of (candidate refund − baseline refund).
"""
from __future__ import annotations

import heapq
import logging
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Sequence

from pydantic import BaseModel
from sqlalchemy import select, text

from db.uow import UnitOfWork
from dokani import audit
from dokani.errors import Invalid, NotFound
from dokani.models import Policy, PolicyBacktest
from dokani.policies.rules import PolicyRules, validate_rules
from dokani.triage.batch import BatchEvaluator, ClassEvaluator, ClassesDisagree
from dokani.triage.classes import read_classes
from dokani.triage.facts import count_returns, iter_rows, order_facts, period_filter, rows_by_id

OUTCOMES = ("approve", "deny", "review")
_OUTCOME = {"auto_approve": "approve", "auto_deny": "deny", "human_review": "review"}
_RECORDED = {"approved": "approve", "completed": "approve", "denied": "deny"}
REVIEW_LINK = "/returns?return={public_id}"
Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)


class BacktestFlip(BaseModel):
    return_id: int
    public_id: str
    order_id: str
    created_at: datetime | None
    category: str | None
    order_value: float
    before: str
    after: str
    refund_change: float
    review_link: str


class BacktestResult(BaseModel):
    id: int | None = None
    policy_id: int
    policy_version: str
    baseline_id: int
    baseline_version: str
    period_start: datetime | None
    period_end: datetime | None
    returns_evaluated: int
    outcomes_changed: int
    refund_value_change: float
    before_counts: dict[str, int]
    after_counts: dict[str, int]
    transitions: dict[str, int]  # "approve→review": n, only the changed pairs
    recorded_decisions: int  # returns with a recorded approve/deny decision
    disagree_with_recorded: int  # ... where the candidate's outcome differs from that decision
    flips: list[BacktestFlip]
    created_at: datetime | None = None
    created_by_email: str | None = None

    @property
    def changed_share(self) -> float | None:
        return self.outcomes_changed / self.returns_evaluated if self.returns_evaluated else None


def _rules_of(row: Policy) -> PolicyRules:
    model, problems = validate_rules(row.rules if isinstance(row.rules, (dict, str)) else {})
    if model is None:
        raise Invalid(f"Version {row.version} has rules the engine cannot evaluate; fix them before a backtest.", problems)
    return model


def _load(uow: UnitOfWork, policy_id: int) -> Policy:
    row = uow.session.scalar(select(Policy).where(Policy.id == policy_id, Policy.business_id == uow.actor.business_id))
    if row is None:
        raise NotFound(f"Policy version #{policy_id} does not exist in this business.")
    return row


def _baseline_for(uow: UnitOfWork, candidate: Policy, baseline_policy_id: int | None) -> Policy:
    """The version to compare with: the one named, else the default (``default_baseline``); never the candidate."""
    if baseline_policy_id is None:
        rows = list(uow.session.scalars(select(Policy).where(Policy.business_id == uow.actor.business_id)))
        baseline_policy_id = default_baseline(rows, candidate.id)
        if baseline_policy_id is None:
            raise Invalid("There is no active version to compare with; choose a baseline version.",
                          {"baseline": "required when no version is active"})
    if baseline_policy_id == candidate.id:
        raise Invalid(f"A backtest compares {candidate.version} with another version; choose a different baseline.",
                      {"baseline": "must not be the version under test"})
    return _load(uow, baseline_policy_id)


def default_baseline(versions: Sequence[Any], candidate_id: int) -> int | None:
    """The id of what a backtest of `candidate_id` compares with unless told otherwise: the business's active
    version; for the active version itself, the one retired last (the one it replaced); None without an active
    version. `versions` are ``PolicyVersion``s or ``Policy`` rows (anything with id, state and retired_at)."""
    active = next((v for v in versions if v.state == "active"), None)
    if active is None:
        return None
    if active.id != candidate_id:
        return active.id
    retired = sorted((v for v in versions if v.state == "retired" and v.id != candidate_id),
                     key=lambda v: (v.retired_at or datetime.min, v.id))
    return retired[-1].id if retired else None


class _Tally:
    """What the replay has counted so far: outcomes under each version, changes, refunds, a sample of flips."""

    def __init__(self, base_rules: PolicyRules, cand_rules: PolicyRules, sample_size: int):
        self.rules = (base_rules, cand_rules)
        self.sample_size = sample_size
        self.before: Counter[str] = Counter()
        self.after: Counter[str] = Counter()
        self.transitions: Counter[str] = Counter()
        self.flips: list[BacktestFlip] = []
        self.refund_change = Decimal(0)
        self.recorded = self.disagree = self.done = 0
        self._fees: dict[tuple[int, str | None], Decimal] = {}

    def share(self, which: int, category: str | None) -> Decimal:
        """What of the order value a refund under version `which` (0 baseline, 1 candidate) pays in `category`."""
        found = self._fees.get((which, category))
        if found is None:
            fee = self.rules[which].restocking_fee_pct(category)
            found = self._fees[(which, category)] = 1 - Decimal(repr(float(fee))) / 100
        return found

    def _refund(self, outcome: str, value: Decimal, which: int, category: str | None) -> Decimal:
        return value * self.share(which, category) if outcome == "approve" else Decimal(0)

    def count(self, before: str, after: str, n: int, value: Decimal, category: str | None,
              approved: int, denied: int) -> None:
        """`n` returns of `category` worth `value` together, `approved` / `denied` of them decided so by a person."""
        self.before[before] += n
        self.after[after] += n
        self.refund_change += self._refund(after, value, 1, category) - self._refund(before, value, 0, category)
        self.recorded += approved + denied
        self.disagree += (approved if after != "approve" else 0) + (denied if after != "deny" else 0)
        if before != after:
            self.transitions[f"{before}→{after}"] += n
        self.done += n

    def flip(self, row, before: str, after: str) -> None:
        """One return in the sample of those that flip (a facts row)."""
        value, _, category = order_facts(row)
        exact = Decimal(repr(value))
        delta = self._refund(after, exact, 1, category) - self._refund(before, exact, 0, category)
        self.flips.append(BacktestFlip(
            return_id=row.id, public_id=str(row.public_id), order_id=row.order_id,
            created_at=row.created_at, category=category, order_value=value,
            before=before, after=after, refund_change=round(float(delta), 2),
            review_link=REVIEW_LINK.format(public_id=row.public_id),
        ))

    def add(self, evaluator: BatchEvaluator, row) -> None:
        """One row of ``dokani.triage.facts.iter_rows`` (the replay return by return)."""
        item = evaluator.read(row)
        base, cand = evaluator.recommend(item)
        before, after = _OUTCOME[base], _OUTCOME[cand]
        decided = _RECORDED.get(row.status or "")
        self.count(before, after, 1, Decimal(repr(item.value)), item.category,
                   int(decided == "approve"), int(decided == "deny"))
        if before != after and len(self.flips) < self.sample_size:
            self.flip(row, before, after)


def _replay_classes(uow: UnitOfWork, tally: _Tally, since, until, progress: Progress | None) -> None:
    """Postgres groups the returns into classes that decide alike (``dokani.triage.classes``); the engine
    evaluates one return per decision class (``ClassEvaluator``); the flips sample is the first flipping returns
    in time order (each class lists its returns and when they were asked for)."""
    session, business_id = uow.session, uow.actor.business_id
    row_filter, params = period_filter("r", since, until)
    total = 0
    if progress:  # an index-only count, so the bar has its length before the grouping runs
        total = count_returns(session, business_id, since=since, until=until)
        progress(0, total)
    classes = read_classes(session, business_id, tally.rules, row_filter, params)
    total = max(total, sum(c.n for c in classes))
    evaluator = ClassEvaluator(tally.rules)
    recommendations = evaluator.recommend(classes, lambda ids: rows_by_id(session, business_id, list(ids)))
    flipping = []
    step, reported = max(1, total // 100), 0
    for c, (base, cand) in zip(classes, recommendations):
        before, after = _OUTCOME[base], _OUTCOME[cand]
        tally.count(before, after, c.n, c.value, c.category, c.recorded_approved, c.recorded_denied)
        if before != after:
            flipping.append((c, before, after))
        if progress and (tally.done - reported >= step or tally.done == total):
            reported = tally.done
            progress(tally.done, total)
    first = heapq.nsmallest(tally.sample_size, ((at, i, n) for n, (c, _, _) in enumerate(flipping)
                                                for at, i in zip(c.at, c.ids)))
    rows = rows_by_id(session, business_id, [i for _, i, _ in first])
    for _, i, n in first:
        tally.flip(rows[i], *flipping[n][1:])


def _replay_rows(uow: UnitOfWork, tally: _Tally, since, until, progress: Progress | None) -> None:
    """Return by return (every facts row to Python): what the classes are checked against."""
    business_id = uow.actor.business_id
    total = count_returns(uow.session, business_id, since=since, until=until)
    step = max(1, total // 100)
    if progress:
        progress(0, total)
    evaluator = BatchEvaluator(tally.rules)
    for row in iter_rows(uow.session, business_id, since=since, until=until):
        tally.add(evaluator, row)
        if progress and (tally.done % step == 0 or tally.done == total):
            progress(tally.done, max(total, tally.done))


def backtest_policy(
    uow: UnitOfWork,
    policy_id: int,
    *,
    baseline_policy_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    sample_size: int = 50,
    store: bool = True,
    also: Callable[[UnitOfWork, BacktestResult], None] | None = None,
    by_class: bool = True,
) -> BacktestResult:
    """Replay `policy_id` over the business's returns created in [since, until) (all when both are None).

    `also(uow, stored)` runs in the transaction that stores the result, before it commits (a background job
    marks itself done there: the result and the job's state are written together or not at all). `by_class`
    False replays return by return (the reference the classes are tested against; also the fallback)."""
    if since is not None and until is not None and since >= until:
        raise Invalid("The period is empty: its start must be before its end.", {"period": "start after end"})
    candidate = _load(uow, policy_id)
    baseline = _baseline_for(uow, candidate, baseline_policy_id)
    base_rules, cand_rules = _rules_of(baseline), _rules_of(candidate)
    # The period's rows are grouped and sorted in memory; JIT compiling the query would cost more than it saves.
    uow.session.execute(text("SET LOCAL work_mem = '256MB'"))
    uow.session.execute(text("SET LOCAL jit = off"))
    tally = _Tally(base_rules, cand_rules, sample_size)
    if by_class:
        try:
            _replay_classes(uow, tally, since, until, progress)
        except ClassesDisagree:
            log.exception("backtest of policy %s: the classes disagree with the engine; replaying return by return",
                          policy_id)
            tally = _Tally(base_rules, cand_rules, sample_size)
            by_class = False
    if not by_class:
        _replay_rows(uow, tally, since, until, progress)
    result = BacktestResult(
        policy_id=candidate.id, policy_version=candidate.version,
        baseline_id=baseline.id, baseline_version=baseline.version,
        period_start=since, period_end=until,
        returns_evaluated=tally.done, outcomes_changed=sum(tally.transitions.values()),
        refund_value_change=round(float(tally.refund_change), 2),
        before_counts={o: tally.before.get(o, 0) for o in OUTCOMES},
        after_counts={o: tally.after.get(o, 0) for o in OUTCOMES},
        transitions=dict(sorted(tally.transitions.items())),
        recorded_decisions=tally.recorded, disagree_with_recorded=tally.disagree,
        flips=tally.flips,
    )
    return _store(uow, result, also) if store else result


def _store(uow: UnitOfWork, result: BacktestResult, also=None) -> BacktestResult:
    summary = result.model_dump(mode="json", exclude={"flips", "id", "created_at", "created_by_email"})
    row = PolicyBacktest(
        business_id=uow.actor.business_id, policy_id=result.policy_id, policy_version=result.policy_version,
        period_start=result.period_start, period_end=result.period_end,
        returns_evaluated=result.returns_evaluated, outcomes_changed=result.outcomes_changed,
        refund_value_change=result.refund_value_change, summary=summary,
        flips=[f.model_dump(mode="json") for f in result.flips],
        created_by=uow.actor.user_id, created_by_email=uow.actor.email,
    )
    uow.session.add(row)
    uow.session.flush()
    audit.record(uow, "policy.backtested", "policy_backtest", row.id, None,
                 {"policy_id": result.policy_id, "baseline": result.baseline_version,
                  "returns_evaluated": result.returns_evaluated, "outcomes_changed": result.outcomes_changed},
                 note=f"{result.policy_version} vs {result.baseline_version}")
    if also is not None:
        also(uow, result.model_copy(update={"id": row.id}))
    uow.commit()
    uow.session.refresh(row)
    return result.model_copy(update={"id": row.id, "created_at": row.created_at, "created_by_email": row.created_by_email})


def _from_row(row: PolicyBacktest) -> BacktestResult:
    summary = dict(row.summary or {})
    summary.update(id=row.id, created_at=row.created_at, created_by_email=row.created_by_email,
                   flips=row.flips or [], policy_id=row.policy_id, policy_version=row.policy_version)
    return BacktestResult.model_validate(summary)


def latest_backtests(uow: UnitOfWork) -> dict[int, BacktestResult]:
    """The most recent stored backtest of each version of the acting business."""
    rows = uow.session.scalars(
        select(PolicyBacktest)
        .where(PolicyBacktest.business_id == uow.actor.business_id)
        .order_by(PolicyBacktest.policy_id, PolicyBacktest.created_at.desc(), PolicyBacktest.id.desc())
        .distinct(PolicyBacktest.policy_id)
    )
    return {r.policy_id: _from_row(r) for r in rows}
