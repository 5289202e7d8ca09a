"""``background_jobs``: one row per job of a business, what its page shows (state, progress, result, error).

States: ``queued`` -> ``running`` -> ``succeeded`` | ``failed``. A job picked up again after its worker died goes
``running`` again with one more attempt and its progress from zero; its result is written in the same transaction
as the work's own rows, so a job is either done completely or not at all. Every read and write runs through the
member's unit of work: row-level security (revision 0012) decides, and queries name the business too.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from db.uow import UnitOfWork
from dokani.errors import NotFound
from dokani.models import BackgroundJob

LIVE = ("queued", "running")


class JobRecord(BaseModel):
    id: int
    kind: str
    title: str
    params: dict[str, Any]
    lock_key: str
    state: str
    progress_done: int
    progress_total: int | None
    progress_note: str | None
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    retry_of: int | None
    requested_by: UUID
    requested_by_email: str | None
    requested_role: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def live(self) -> bool:
        return self.state in LIVE

    @property
    def share_done(self) -> float | None:
        if not self.progress_total:
            return None
        return min(1.0, self.progress_done / self.progress_total)


def _record(row: BackgroundJob) -> JobRecord:
    return JobRecord.model_validate(row, from_attributes=True)


def create_job(uow: UnitOfWork, kind: str, title: str, params: dict, lock_key: str,
               retry_of: int | None = None) -> tuple[JobRecord, bool]:
    """Insert a queued job and commit; (job, True). When the same work (``lock_key``) is already queued or
    running in this business, nothing is inserted: (that job, False)."""
    actor = uow.actor
    stmt = (
        insert(BackgroundJob)
        .values(business_id=actor.business_id, kind=kind, title=title, params=params, lock_key=lock_key,
                retry_of=retry_of, requested_by=actor.user_id, requested_by_email=actor.email,
                requested_role=actor.role)
        .on_conflict_do_nothing(index_elements=["business_id", "lock_key"], index_where=BackgroundJob.state.in_(LIVE))
        .returning(BackgroundJob.id)
    )
    new_id = uow.session.execute(stmt).scalar()
    uow.commit()
    if new_id is not None:
        return get_job(uow, new_id), True
    live = uow.session.scalar(select(BackgroundJob).where(
        BackgroundJob.business_id == actor.business_id, BackgroundJob.lock_key == lock_key,
        BackgroundJob.state.in_(LIVE)))
    if live is None:  # it finished between the two statements: queue it now
        return create_job(uow, kind, title, params, lock_key, retry_of)
    return _record(live), False


def get_job(uow: UnitOfWork, job_id: int) -> JobRecord:
    row = uow.session.scalar(select(BackgroundJob).where(
        BackgroundJob.id == job_id, BackgroundJob.business_id == uow.actor.business_id))
    if row is None:
        raise NotFound(f"Job #{job_id} does not exist in this business.")
    uow.session.refresh(row)
    return _record(row)


def latest_job(uow: UnitOfWork, kind: str, lock_key: str) -> JobRecord | None:
    """The most recent job of this work (e.g. the backtests of one version), whatever its state."""
    row = uow.session.scalar(
        select(BackgroundJob)
        .where(BackgroundJob.business_id == uow.actor.business_id, BackgroundJob.kind == kind,
               BackgroundJob.lock_key == lock_key)
        .order_by(BackgroundJob.created_at.desc(), BackgroundJob.id.desc()).limit(1))
    return _record(row) if row is not None else None


def _set(uow: UnitOfWork, job_id: int, *conditions, **values) -> bool:
    done = uow.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.business_id == uow.actor.business_id, *conditions)
        .values(updated_at=func.now(), **values)
    ).rowcount
    return bool(done)


def start(uow: UnitOfWork, job_id: int, queue_job_id: int | None) -> JobRecord | None:
    """Mark the job running (one more attempt, progress from zero) and commit; None when it already finished
    (a queue job retried after its work was committed: nothing is done twice)."""
    started = _set(uow, job_id, BackgroundJob.state.in_(LIVE), state="running", attempts=BackgroundJob.attempts + 1,
                   progress_done=0, progress_total=None, progress_note=None, error=None, started_at=func.now(),
                   queue_job_id=queue_job_id)
    uow.commit()
    return get_job(uow, job_id) if started else None


def report_progress(uow: UnitOfWork, job_id: int, attempt: int, done: int, total: int | None,
                    note: str | None = None) -> None:
    """Progress of the running attempt (a stale attempt's late report changes nothing); commits."""
    _set(uow, job_id, BackgroundJob.state == "running", BackgroundJob.attempts == attempt,
         progress_done=done, progress_total=total, progress_note=note)
    uow.commit()


def finish(uow: UnitOfWork, job_id: int, result: dict) -> None:
    """Mark the job succeeded, in the caller's transaction (the one that writes the work's rows)."""
    _set(uow, job_id, state="succeeded", result=result, finished_at=func.now(),
         progress_done=func.coalesce(BackgroundJob.progress_total, BackgroundJob.progress_done))


def fail(uow: UnitOfWork, job_id: int, reason: str) -> None:
    """Mark the job failed with a reason a member can act on; commits."""
    _set(uow, job_id, BackgroundJob.state.in_(LIVE), state="failed", error=reason, finished_at=func.now())
    uow.commit()
