"""Imports of large files as jobs: a file checked whole in the request is stored (``job_files``) and imported by a
worker, all or nothing.

- ``queue_returns_import``: a returns CSV that passed ``csv_import.preview_returns_csv`` and
  ``check_open_returns``; ``queue_calls_import``: ElevenLabs / Tavus event files that passed ``read_events`` and
  ``check_resolvable``. The same file(s) queued twice while the first is live are one job.
- The runners check the stored file again (the database may have changed since), import it in one transaction
  with the job's progress, mark the job done and drop the stored input in that same transaction: a worker killed
  mid-way leaves nothing, and the job picked up again imports once. A returns file imported already is refused by
  the open-returns check (each order once); an event imported already changes nothing (the ``call_events`` ledger).
"""
from __future__ import annotations

import hashlib
import logging

from sqlalchemy.exc import DBAPIError

from db.uow import Actor, unit_of_work
from dokani.errors import DokaniError, Invalid, NotAllowed
from dokani.jobs import files, records
from dokani.jobs.enqueue import queue
from dokani.jobs.records import JobRecord

log = logging.getLogger("dokani.jobs")
RETURNS_KIND, CALLS_KIND = "returns_import", "calls_import"
REFUSED = ("The database refused the import; nothing was imported. Retry it; if it fails again, the worker's log "
           "says more.")


def returns_lock(data: bytes) -> str:
    """One live import of the same bytes per business."""
    return f"returns_import:{files.sha256(data)}"


def calls_lock(uploads: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in sorted(uploads):
        digest.update(files.sha256(data).encode())
    return f"calls_import:{digest.hexdigest()}"


def _queue_with_files(actor: Actor, kind: str, title: str, uploads: list[tuple[str, bytes]], content_type: str,
                      lock_key: str, params: dict) -> tuple[JobRecord, bool]:
    with unit_of_work(actor) as uow:
        live = records.latest_job(uow, kind, lock_key)
        if live is not None and live.live:
            return live, False
        stored = [files.store(uow, "input", name, data, content_type=content_type) for name, data in uploads]
        uow.commit()
    job, created = queue(actor, kind, title, {**params, "file_ids": [f.id for f in stored],
                                              "file_names": [f.file_name for f in stored]}, lock_key)
    if not created or job.params.get("file_ids") != [f.id for f in stored]:
        with unit_of_work(actor) as uow:  # the same work was queued meanwhile: keep only its copy
            for f in stored:
                files.delete(uow, f.id)
            uow.commit()
    return job, created


def queue_returns_import(actor: Actor, file_name: str, data: bytes) -> tuple[JobRecord, bool]:
    """Queue the import of a checked returns CSV (owners and admins)."""
    from dokani.returns.csv_import import CAN_IMPORT

    if actor.role not in CAN_IMPORT:
        raise NotAllowed("Only owners and admins can import returns.")
    return _queue_with_files(actor, RETURNS_KIND, f"Import of {file_name[:120]}", [(file_name, data)], "text/csv",
                             returns_lock(data), {"file_name": file_name})


def queue_calls_import(actor: Actor, uploads: list[tuple[str, bytes]], source: str = "upload"
                       ) -> tuple[JobRecord, bool]:
    """Queue the import of checked event files (owners and admins)."""
    from dokani.calls.service import CAN_IMPORT

    if actor.role not in CAN_IMPORT:
        raise NotAllowed("Only owners and admins can import calls.")
    names = ", ".join(n for n, _ in uploads)
    return _queue_with_files(actor, CALLS_KIND, f"Import of {len(uploads)} event file(s): {names[:100]}", uploads,
                             "application/json", calls_lock(uploads), {"source": source})


def run_returns_import(actor: Actor, job: JobRecord, progress) -> None:
    from dokani.returns import csv_import

    file_id = job.params["file_ids"][0]
    name = job.params["file_name"]
    try:
        with unit_of_work(actor) as uow:
            preview = csv_import.preview_returns_csv(files.read(uow, file_id))
            progress(0, len(preview.rows), "checked")
            count = csv_import.import_returns(uow, preview, file_name=name,
                                              progress=lambda done, total: progress(done, total))
            files.delete(uow, file_id)
            records.finish(uow, job.id, {"imported": count, "file_name": name})
            uow.commit()
    except DBAPIError as err:
        log.exception("returns import job %s refused by the database", job.id)
        raise DokaniError(REFUSED) from err
    except Invalid as err:  # e.g. an order opened since the file was checked: say which
        detail = err.problems.get("file")
        raise Invalid(f"{err} {detail}." if detail else str(err), err.problems) from err


def run_calls_import(actor: Actor, job: JobRecord, progress) -> None:
    from dokani.calls.service import import_call_files

    try:
        with unit_of_work(actor) as uow:
            uploads = [(name, files.read(uow, fid)) for fid, name in zip(job.params["file_ids"],
                                                                         job.params["file_names"])]
            summary = import_call_files(uow, uploads, source=job.params.get("source", "upload"),
                                        progress=lambda done, total: progress(done, total))
            for fid in job.params["file_ids"]:
                files.delete(uow, fid)
            records.finish(uow, job.id, {"imported": summary.imported, "duplicates": summary.duplicates,
                                         "calls": len(set(summary.calls)), "summary": summary.describe()})
            uow.commit()
    except DBAPIError as err:
        log.exception("calls import job %s refused by the database", job.id)
        raise DokaniError(REFUSED) from err
