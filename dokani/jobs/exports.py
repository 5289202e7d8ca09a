"""CSV exports as jobs: the queue's filtered returns written by a worker into ``job_files`` (chunked), offered
for download when done (the Returns page; ``/exports/jobs/<job id>.csv`` streams it back chunk by chunk).

The streamed route ``/exports/returns.csv`` stays for direct downloads; this one serves people the route cannot
recognise (single sign-on sessions carry no console cookie) and exports too long for one request. The same
filter exported twice while the first is live is one job; the file and the job's result are committed together,
and a new export of the same filter drops the files of the earlier ones.
"""
from __future__ import annotations

import hashlib

from db.uow import Actor, unit_of_work
from dokani.jobs import files, records
from dokani.jobs.enqueue import queue
from dokani.jobs.records import JobRecord
from dokani.returns.filters import ReturnQueueFilter

KIND = "returns_export"
BATCH = 1000


def export_lock(f: ReturnQueueFilter) -> str:
    return f"returns_export:{hashlib.sha256(f.model_dump_json().encode()).hexdigest()[:32]}"


def queue_returns_export(actor: Actor, f: ReturnQueueFilter) -> tuple[JobRecord, bool]:
    return queue(actor, KIND, "Export of the return queue (CSV)", {"filter": f.model_dump(mode="json")},
                 export_lock(f))


def run_returns_export(actor: Actor, job: JobRecord, progress) -> None:
    from dokani.returns.queue import iter_csv, queue_page

    f = ReturnQueueFilter.model_validate(job.params.get("filter") or {})
    with unit_of_work(actor) as uow:
        total = queue_page(uow, f, page_size=1).total
        progress(0, total)
        state = {"batches": 0}

        def pieces():
            for piece in iter_csv(uow, f, batch=BATCH):
                yield piece.encode("utf-8")
                state["batches"] += 1
                progress(min(total, state["batches"] * BATCH), total)

        stored = files.store(uow, "output", "returns.csv", pieces(), content_type="text/csv; charset=utf-8")
        _drop_earlier_files(uow, job)
        records.finish(uow, job.id, {"file_id": stored.id, "rows": total, "bytes": stored.size_bytes,
                                     "file_name": "returns.csv"})
        uow.commit()


def _drop_earlier_files(uow, job: JobRecord) -> None:
    """The files of earlier exports of the same filter: superseded by this one (their links say so)."""
    from sqlalchemy import text

    earlier = uow.session.execute(text(
        "SELECT (result->>'file_id')::bigint FROM background_jobs WHERE business_id = :b AND kind = :k "
        "AND lock_key = :l AND id <> :id AND state = 'succeeded' AND result ? 'file_id'"),
        {"b": uow.actor.business_id, "k": KIND, "l": job.lock_key, "id": job.id}).scalars().all()
    for file_id in earlier:
        files.delete(uow, file_id)


def export_file(actor: Actor, job_id: int) -> files.JobFile | None:
    """The stored CSV of a finished export job of this business, or None (not an export, not done, gone)."""
    with unit_of_work(actor) as uow:
        job = records.get_job(uow, job_id)
        if job.kind != KIND or job.state != "succeeded" or not (job.result or {}).get("file_id"):
            return None
        try:
            return files.info(uow, job.result["file_id"])
        except Exception:
            return None


def export_chunks(actor: Actor, file_id: int):
    """The stored CSV, chunk by chunk, in one unit of work (for a streamed response)."""
    with unit_of_work(actor) as uow:
        yield from files.chunks(uow, file_id)


def export_bytes(actor: Actor, file_id: int) -> bytes:
    with unit_of_work(actor) as uow:
        return files.read(uow, file_id)
