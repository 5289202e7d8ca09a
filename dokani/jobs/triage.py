"""Triage of every new return as a job: queue it from the Returns page (``queue_triage``); a worker runs
``dokani.triage.service.triage_pending`` with the job's progress. Each batch commits with its audit rows, so a
worker stopped mid-way leaves the triaged ones triaged and the retried job takes the returns still waiting."""
from __future__ import annotations

from db.uow import Actor, unit_of_work
from dokani.errors import NotAllowed
from dokani.jobs import records
from dokani.jobs.enqueue import queue
from dokani.jobs.records import JobRecord
from dokani.returns.status import DECIDING_ROLES

KIND = "triage_pending"
LOCK = "triage_pending"  # one live triage of the new returns per business


def queue_triage(actor: Actor) -> tuple[JobRecord, bool]:
    if actor.role not in DECIDING_ROLES:
        raise NotAllowed(f"Your role ({actor.role}) cannot triage returns; owners, admins and reviewers can.")
    return queue(actor, KIND, "Triage of the new returns", {}, LOCK)


def run_triage(actor: Actor, job: JobRecord, progress) -> None:
    from dokani.triage.service import triage_pending

    with unit_of_work(actor) as uow:
        summary = triage_pending(uow, progress=progress, source="console")
    with unit_of_work(actor) as uow:
        records.finish(uow, job.id, {"triaged": summary.triaged, "skipped": summary.skipped,
                                     "seconds": summary.seconds, "summary": summary.describe()})
        uow.commit()
