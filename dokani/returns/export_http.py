"""``GET /exports/returns.csv``: the queue's CSV export streamed from Postgres, for any number of rows.

The console's own route (beside sign-in), so a 250,000-row export never sits in the page's memory: rows are
read with a server-side cursor and sent as they come. Who is asking comes only from the session cookie; the
business (``business``) and the filter (``filter``, the queue's ``ReturnQueueFilter`` as base64 JSON) come from
the link the Returns page makes, and row-level security decides what the person may read.

``GET /exports/jobs/<job id>.csv``: the CSV an export job stored (``dokani.jobs.exports``), streamed back one
stored chunk per round trip, to the same members.
"""
from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode
from uuid import UUID

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from db.uow import unit_of_work
from dokani.returns.filters import ReturnQueueFilter

PATH = "/exports/returns.csv"
JOB_PATH = "/exports/jobs/{job_id}.csv"  # a finished export job's file (dokani.jobs.exports)
BAD_LINK = "This export link is not valid: open the Returns page and export again."


def export_link(business_id: UUID, f: ReturnQueueFilter) -> str:
    encoded = base64.urlsafe_b64encode(f.model_dump_json().encode()).decode()
    return f"{PATH}?{urlencode({'business': str(business_id), 'filter': encoded})}"


def _filter(encoded: str | None) -> ReturnQueueFilter:
    try:
        raw = base64.b64decode((encoded or "").encode(), altchars=b"-_", validate=True)
        return ReturnQueueFilter.model_validate_json(raw or b"{}")
    except (ValidationError, binascii.Error, ValueError):
        raise ValueError(BAD_LINK) from None


def _rows(actor, f: ReturnQueueFilter):
    from dokani.returns.queue import iter_csv

    with unit_of_work(actor) as uow:
        yield from iter_csv(uow, f)


async def _member(request: Request, business: str | None):
    """(actor, None) for the signed-in member of `business`, else (None, the answer to send)."""
    import anyio

    from dokani.accounts import members
    from dokani.accounts.sessions import COOKIE, verify_session

    user = await anyio.to_thread.run_sync(verify_session, request.cookies.get(COOKIE))
    if user is None:
        return None, PlainTextResponse("Sign in to the console to export returns.", status_code=401)
    try:
        business_id = UUID(business or "")
    except ValueError:
        return None, PlainTextResponse(BAD_LINK, status_code=400)
    options = await anyio.to_thread.run_sync(members.memberships, user.user_id, user.email)
    membership = next((m for m in options if m.business_id == business_id), None)
    if membership is None:
        return None, PlainTextResponse("You are not a member of that business.", status_code=403)
    return members.actor_for(user.user_id, membership, user.email), None


async def export_returns_route(request: Request) -> Response:
    actor, refused = await _member(request, request.query_params.get("business"))
    if refused is not None:
        return refused
    try:
        f = _filter(request.query_params.get("filter"))
    except ValueError:
        return PlainTextResponse(BAD_LINK, status_code=400)
    return StreamingResponse(_rows(actor, f), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="returns.csv"',
                                      "Cache-Control": "no-store"})


def job_export_link(business_id: UUID, job_id: int) -> str:
    """Where a finished export job's CSV is downloaded from (streamed from ``job_files``, chunk by chunk)."""
    return f"{JOB_PATH.format(job_id=job_id)}?{urlencode({'business': str(business_id)})}"


async def export_job_route(request: Request) -> Response:
    import anyio

    from dokani.errors import DokaniError
    from dokani.jobs.exports import export_chunks, export_file

    actor, refused = await _member(request, request.query_params.get("business"))
    if refused is not None:
        return refused
    try:
        job_id = int(request.path_params["job_id"])
        stored = await anyio.to_thread.run_sync(export_file, actor, job_id)
    except (ValueError, DokaniError):
        stored = None
    if stored is None:
        return PlainTextResponse("That export is not ready or no longer stored: export again from the Returns page.",
                                 status_code=404)
    return StreamingResponse(export_chunks(actor, stored.id), media_type=stored.content_type,
                             headers={"Content-Disposition": f'attachment; filename="{stored.file_name}"',
                                      "Content-Length": str(stored.size_bytes), "Cache-Control": "no-store"})


def export_routes() -> list[Route]:
    return [Route(PATH, export_returns_route, methods=["GET"]),
            Route("/exports/jobs/{job_id:int}.csv", export_job_route, methods=["GET"])]
