"""Risk recompute as a job: queue it from the Risk page (``queue_risk_recompute``); a worker runs
``dokani.risk.scoring.recompute_business`` with the job's progress, and the job's result is committed in the same
transaction as the new scores, so a worker killed mid-way leaves the old scores and the retried job rescores once."""
from __future__ import annotations

from db.uow import Actor, UnitOfWork, unit_of_work
from dokani.errors import NotAllowed
from dokani.jobs import records
from dokani.jobs.enqueue import queue
from dokani.jobs.records import JobRecord

KIND = "risk_recompute"
LOCK = "risk_recompute"  # one live recompute per business


def queue_risk_recompute(actor: Actor) -> tuple[JobRecord, bool]:
    from dokani.risk.scoring import CAN_RECOMPUTE

    if actor.role not in CAN_RECOMPUTE:
        raise NotAllowed(f"Your role ({actor.role}) cannot recompute risk; owners, admins and reviewers can.")
    return queue(actor, KIND, "Risk recompute", {}, LOCK)


class _OneTransaction:
    """The caller's unit of work, whose ``commit`` only flushes: the job's own result row joins the work's
    transaction, committed once by the runner."""

    def __init__(self, uow: UnitOfWork):
        self._uow = uow

    def __getattr__(self, name):
        return getattr(self._uow, name)

    def commit(self) -> None:
        self._uow.session.flush()


def run_risk_recompute(actor: Actor, job: JobRecord, progress) -> None:
    from dokani.risk.scoring import recompute_business

    with unit_of_work(actor) as uow:
        summary = recompute_business(_OneTransaction(uow), progress=lambda done, total: progress(done, total))
        records.finish(uow, job.id, {"customers": summary.customers, "written": summary.written,
                                     "seconds": summary.seconds, "summary": summary.describe()})
        uow.commit()
