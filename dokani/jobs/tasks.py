"""What a worker runs. Tasks are registered on a blueprint (``tasks``) that ``queue.queue_app`` adds under the
namespace ``dokani``; they run synchronously in the worker's threads.

- ``run_job``: one ``background_jobs`` row, as the member who queued it (row-level security applies: a member
  removed since cannot have work done in their name). Domain errors become the job's failure reason.
- ``apply_due_policies`` (every minute): scheduled policy versions take effect on time, without anyone opening the
  Policies page.
- ``weekly_snapshots`` (Monday 00:15 UTC) and ``monthly_snapshots`` (the 1st, 00:30 UTC): the analytics snapshot of
  the period just ended, for every business (``python -m dokani snapshot``).
- ``retry_stalled_jobs`` (every minute, and when a worker starts): queue jobs whose worker stopped sending
  heartbeats (killed, machine lost) again; their job rows were never marked done, so the work runs once more from
  the start and nothing half-written remains (each job writes its result in one transaction).
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Callable
from uuid import UUID

import procrastinate

from db.uow import Actor, unit_of_work
from dokani.errors import DokaniError
from dokani.jobs import records

log = logging.getLogger("dokani.jobs")
tasks = procrastinate.Blueprint()
STALLED_AFTER_SECONDS = 30.0  # a worker beats every 10 s; three missed beats and its jobs are queued again
PROGRESS_EVERY_SECONDS = 0.5


class Reporter:
    """Progress callback for a job: writes at most every PROGRESS_EVERY_SECONDS (and the last step)."""

    def __init__(self, actor: Actor, job_id: int, attempt: int):
        self.actor, self.job_id, self.attempt = actor, job_id, attempt
        self._last = 0.0

    def __call__(self, done: int, total: int | None, note: str | None = None) -> None:
        now = time.monotonic()
        if now - self._last < PROGRESS_EVERY_SECONDS and done != total:
            return
        self._last = now
        with unit_of_work(self.actor) as uow:
            records.report_progress(uow, self.job_id, self.attempt, done, total, note)


def _backtest(actor: Actor, job: records.JobRecord, progress: Reporter) -> None:
    from dokani.policies import backtest

    p = job.params
    when = {k: datetime.fromisoformat(p[k]) if p.get(k) else None for k in ("since", "until")}

    def done(uow, stored) -> None:
        records.finish(uow, job.id, {
            "backtest_id": stored.id, "policy_version": stored.policy_version,
            "baseline_version": stored.baseline_version, "returns_evaluated": stored.returns_evaluated,
            "outcomes_changed": stored.outcomes_changed, "refund_value_change": stored.refund_value_change})

    with unit_of_work(actor) as uow:
        backtest.backtest_policy(uow, p["policy_id"], baseline_policy_id=p.get("baseline_policy_id"),
                                 since=when["since"], until=when["until"], progress=progress, also=done)


def _suite_run(actor: Actor, job: records.JobRecord, progress: Reporter) -> None:
    from uuid import NAMESPACE_URL, uuid5

    from dokani.lab import suite_files
    from dokani.lab import suites

    p = job.params
    try:
        suite = suite_files.parse_suite(p["suite_text"], p["suite_name"])
    except suite_files.SuiteFileError as err:
        raise DokaniError(f"{p['suite_name']} cannot be run: " + "; ".join(err.lines)) from err
    run_id = str(uuid5(NAMESPACE_URL, f"dokani:background_jobs:{job.id}"))  # the same on every attempt
    with unit_of_work(actor) as uow:
        if job.attempts > 1:
            suites.discard_partial_run(uow, run_id)
        summary = suites.run_suite(uow, suite, p["persona_id"], p.get("policy_version"), run_id=run_id,
                                   progress=lambda done, total, name: progress(done, total, name))
        records.finish(uow, job.id, {"run_id": summary.run_id, "suite": summary.suite, "passed": summary.passed,
                                     "scenarios": summary.scenarios, "policy_version": summary.policy_version,
                                     "persona_name": summary.persona_name})
        uow.commit()


def _risk_recompute(actor: Actor, job: records.JobRecord, progress: Reporter) -> None:
    from dokani.jobs.risk_recompute import run_risk_recompute

    run_risk_recompute(actor, job, progress)


def _returns_import(actor: Actor, job: records.JobRecord, progress: Reporter) -> None:
    from dokani.jobs.imports import run_returns_import

    run_returns_import(actor, job, progress)


def _calls_import(actor: Actor, job: records.JobRecord, progress: Reporter) -> None:
    from dokani.jobs.imports import run_calls_import

    run_calls_import(actor, job, progress)


def _triage_pending(actor: Actor, job: records.JobRecord, progress: Reporter) -> None:
    from dokani.jobs.triage import run_triage

    run_triage(actor, job, progress)


def _returns_export(actor: Actor, job: records.JobRecord, progress: Reporter) -> None:
    from dokani.jobs.exports import run_returns_export

    run_returns_export(actor, job, progress)


RUNNERS: dict[str, Callable[[Actor, records.JobRecord, Reporter], None]] = {
    "backtest": _backtest, "suite_run": _suite_run, "risk_recompute": _risk_recompute,
    "returns_import": _returns_import, "calls_import": _calls_import, "returns_export": _returns_export,
    "triage_pending": _triage_pending}


def run_recorded_job(actor: Actor, job_id: int, queue_job_id: int | None = None) -> records.JobRecord | None:
    """Run job `job_id` as `actor`; its row ends succeeded (result) or failed (reason). Returns the final row,
    or None when the job had already finished (a retried queue entry: nothing is done twice)."""
    with unit_of_work(actor) as uow:
        job = records.start(uow, job_id, queue_job_id)
    if job is None:
        log.info("job %s not started: it already finished, or who queued it may no longer act for the business",
                 job_id)
        return None
    runner = RUNNERS.get(job.kind)
    try:
        if runner is None:
            raise DokaniError(f"This console cannot run {job.kind} jobs.")
        runner(actor, job, Reporter(actor, job.id, job.attempts))
    except DokaniError as err:
        with unit_of_work(actor) as uow:
            records.fail(uow, job_id, str(err))
    except Exception as err:
        log.exception("job %s failed", job_id)
        with unit_of_work(actor) as uow:
            records.fail(uow, job_id, f"The job stopped on an unexpected error ({type(err).__name__}); nothing "
                                      "of it was stored. Retry it; if it fails again, the worker's log says more.")
        raise
    with unit_of_work(actor) as uow:
        return records.get_job(uow, job_id)


@tasks.task(name="run_job", pass_context=True)
def run_job(context, job_id: int, business_id: str, user_id: str, email: str | None, role: str) -> None:
    actor = Actor(user_id=UUID(user_id), business_id=UUID(business_id), role=role, email=email)
    run_recorded_job(actor, job_id, context.job.id)


@tasks.task(name="apply_webhook_event", retry=procrastinate.RetryStrategy(max_attempts=4, exponential_wait=5))
def apply_webhook_event(business_id: str, event_id: int) -> str:
    """A verified webhook event the receiver stored: applied as ``dokani_webhook`` for its business."""
    from dokani.calls.webhooks import apply_stored_event

    return apply_stored_event(UUID(business_id), event_id)


def acting_owners(businesses_sql: str, params: dict | None = None) -> list[Actor]:
    """Who the worker acts as for each business `businesses_sql` selects (one ``business_id`` column): its first
    owner (else admin). Read with the owner connection, like the CLI's ``policies apply-due``: the worker serves
    every business."""
    from sqlalchemy import text

    from db.engine import owner_engine

    sql = f"""
        SELECT DISTINCT ON (m.business_id) m.business_id, m.user_id, m.role, m.email
        FROM business_members m
        WHERE m.role IN ('owner', 'admin') AND m.business_id IN ({businesses_sql})
        ORDER BY m.business_id, m.role DESC, m.created_at
    """
    with owner_engine().connect() as conn:
        rows = conn.execute(text(sql), params or {}).all()
    return [Actor(user_id=r.user_id, business_id=r.business_id, role=r.role, email=r.email) for r in rows]


def businesses_with_due_versions() -> list[Actor]:
    """Who acts for each business with a scheduled version now due."""
    return acting_owners("SELECT business_id FROM policies WHERE state = 'scheduled' AND effective_date <= now()")


def _for_each(actors: list[Actor], work: Callable, what: str) -> int:
    """`work(uow)` as each actor, in a unit of work of its own; the sum of what it returns. A business whose work
    is refused is logged and left for the next run (e.g. a page applied the same schedule at the same moment)."""
    total = 0
    for actor in actors:
        try:
            with unit_of_work(actor) as uow:
                total += work(uow)
        except DokaniError as err:
            log.info("%s for %s: %s", what, actor.business_id, err)
    return total


def apply_due_policy_versions() -> int:
    """Activate every due scheduled version of every business; the number activated."""
    from dokani.policies import lifecycle

    return _for_each(businesses_with_due_versions(), lambda uow: len(lifecycle.apply_due_schedules(uow)),
                     "apply-due")


@tasks.periodic(cron="* * * * *", periodic_id="apply_due_policies")
@tasks.task(name="apply_due_policies", queueing_lock="apply_due_policies")
def apply_due_policies(timestamp: int) -> int:
    return apply_due_policy_versions()


def refresh_stale_policy_metrics() -> int:
    """Recompute the policy metrics of every business whose figures are older than a few minutes; how many."""
    from dokani.policies import metrics

    def refresh(uow) -> int:
        metrics.refresh_metrics(uow)
        return 1  # one business's metrics

    due = acting_owners(metrics.STALE_BUSINESSES_SQL, {"stale": metrics.STALE_AFTER})
    return _for_each(due, refresh, "policy metrics")


@tasks.periodic(cron="* * * * *", periodic_id="refresh_policy_metrics")
@tasks.task(name="refresh_policy_metrics", queueing_lock="refresh_policy_metrics")
def refresh_policy_metrics(timestamp: int) -> int:
    return refresh_stale_policy_metrics()


def take_snapshots(kind: str) -> int:
    """The last complete week's or month's analytics snapshot of every business (issue 10); the number taken."""
    from dokani.analytics.cli import snapshot_businesses
    from dokani.analytics.snapshots import SnapshotOutcome

    taken = 0
    for name, outcome in snapshot_businesses(kind):
        if isinstance(outcome, SnapshotOutcome):
            taken += 1
        else:
            log.info("%s snapshot for %s: %s", kind, name, outcome)
    return taken


@tasks.periodic(cron="15 0 * * 1", periodic_id="weekly_snapshots")  # Monday 00:15 UTC: the week just ended
@tasks.task(name="weekly_snapshots", queueing_lock="weekly_snapshots")
def weekly_snapshots(timestamp: int) -> int:
    return take_snapshots("week")


@tasks.periodic(cron="30 0 1 * *", periodic_id="monthly_snapshots")  # the 1st, 00:30 UTC: the month just ended
@tasks.task(name="monthly_snapshots", queueing_lock="monthly_snapshots")
def monthly_snapshots(timestamp: int) -> int:
    return take_snapshots("month")


async def retry_stalled(app: procrastinate.App, seconds_since_heartbeat: float = STALLED_AFTER_SECONDS) -> int:
    """Queue again every job whose worker stopped beating; the number queued again."""
    await app.job_manager.prune_stalled_workers(seconds_since_heartbeat)
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat))
    for job in stalled:
        log.warning("job %s (%s) lost its worker; queued again", job.id, job.task_name)
        await app.job_manager.retry_job(job)
    return len(stalled)


@tasks.periodic(cron="* * * * *", periodic_id="retry_stalled_jobs")
@tasks.task(name="retry_stalled_jobs", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context, timestamp: int) -> int:
    return await retry_stalled(context.app)
