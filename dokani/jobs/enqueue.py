"""Queue work as the signed-in member: a row in ``background_jobs`` (what the page shows) and a procrastinate job
(what a worker picks up). The same work queued twice while it is live is one job: ``background_jobs``' partial
unique index finds the live one, and procrastinate's ``queueing_lock`` refuses a second queue entry."""
from __future__ import annotations

from datetime import datetime

from procrastinate.exceptions import AlreadyEnqueued

from db.uow import Actor, unit_of_work
from dokani.errors import NotAllowed
from dokani.jobs import records
from dokani.jobs.records import JobRecord

RUN_JOB = "dokani:run_job"
CAN_QUEUE = ("owner", "admin", "reviewer", "tester")


def backtest_lock(policy_id: int) -> str:
    """One live backtest per version: asking again while it runs shows the running one."""
    return f"backtest:{policy_id}"


def queue_backtest(actor: Actor, policy_id: int, *, version_name: str, baseline_policy_id: int,
                   since: datetime | None = None, until: datetime | None = None) -> tuple[JobRecord, bool]:
    """Queue a backtest of `policy_id` against `baseline_policy_id` over returns created in [since, until)."""
    params = {"policy_id": policy_id, "baseline_policy_id": baseline_policy_id,
              "since": since.isoformat() if since else None, "until": until.isoformat() if until else None}
    return queue(actor, "backtest", f"Backtest of {version_name}", params, backtest_lock(policy_id))


def suite_lock(persona_id, policy_version: str | None, suite_name: str) -> str:
    """One live run of a suite per persona and version."""
    return f"suite_run:{persona_id}:{policy_version or 'active'}:{suite_name}"


def queue_suite_run(actor: Actor, *, suite_text: str, file_name: str, suite_name: str, persona_id,
                    policy_version: str | None) -> tuple[JobRecord, bool]:
    """Queue a scenario-suite run (the suite file's text travels with the job: a worker needs no upload)."""
    params = {"suite_text": suite_text, "suite_name": file_name, "persona_id": str(persona_id),
              "policy_version": policy_version}
    return queue(actor, "suite_run", f"Suite {suite_name}", params, suite_lock(persona_id, policy_version, suite_name))


def queue(actor: Actor, kind: str, title: str, params: dict, lock_key: str,
          retry_of: int | None = None) -> tuple[JobRecord, bool]:
    """(the job, True) when queued now; (the live job doing the same work, False) when it was already queued."""
    if actor.role not in CAN_QUEUE:
        raise NotAllowed(f"Your role ({actor.role}) cannot start background work; owners, admins, reviewers "
                         "and testers can.")
    with unit_of_work(actor) as uow:
        job, created = records.create_job(uow, kind, title, params, lock_key, retry_of=retry_of)
        if not created:
            return job, False
        try:
            _defer(actor, job, lock_key)
        except AlreadyEnqueued:
            records.fail(uow, job.id, "The same work is already waiting in the queue; this request was not added.")
            return records.get_job(uow, job.id), False
        except Exception as err:  # the queue is unreachable: say so on the job rather than leave it waiting
            records.fail(uow, job.id, f"The job could not be queued ({type(err).__name__}); try again in a moment.")
            return records.get_job(uow, job.id), True
        return job, True


def retry(actor: Actor, job_id: int) -> tuple[JobRecord, bool]:
    """Queue a failed job again with the same parameters (a new job that names the one it retries)."""
    with unit_of_work(actor) as uow:
        failed = records.get_job(uow, job_id)
    if failed.state != "failed":
        raise NotAllowed(f"Job #{job_id} is {failed.state}; only a failed job can be retried.")
    return queue(actor, failed.kind, failed.title, failed.params, failed.lock_key, retry_of=failed.id)


def _defer(actor: Actor, job: JobRecord, lock_key: str) -> None:
    from procrastinate.tasks import configure_task

    from dokani.jobs.queue import job_manager

    configure_task(name=RUN_JOB, job_manager=job_manager(),
                   queueing_lock=f"{actor.business_id}:{lock_key}").defer(
        job_id=job.id, business_id=str(actor.business_id), user_id=str(actor.user_id), email=actor.email,
        role=actor.role)


APPLY_WEBHOOK_EVENT = "dokani:apply_webhook_event"


def queue_webhook_event(business_id, event_id: int) -> bool:
    """Queue a stored, verified webhook event for a worker (``dokani.calls.webhooks.apply_stored_event``); False
    when it is already waiting in the queue (the provider sent it again)."""
    from procrastinate.tasks import configure_task

    from dokani.jobs.queue import job_manager

    try:
        configure_task(name=APPLY_WEBHOOK_EVENT, job_manager=job_manager(),
                       queueing_lock=f"webhook_event:{business_id}:{event_id}").defer(
            business_id=str(business_id), event_id=int(event_id))
    except AlreadyEnqueued:
        return False
    return True
