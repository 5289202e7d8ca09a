"""Starlette routes of the webhook receiver (mounted by ``dokani.server.create_app``).

``POST /webhooks/elevenlabs`` (signed) and ``POST /webhooks/tavus/<token>``. The body is read up to a bound and
refused beyond it (413) before anything else; a sender that is not verified gets 401 and writes nothing. A
verified event is stored and queued, and answered 202 at once (200 when it was processed before, 422 when it is
not an event this console understands); a worker applies it (``webhooks.apply_stored_event``).
"""
from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MAX_BODY = {"elevenlabs": 25 * 1024 * 1024, "tavus": 1024 * 1024}  # ElevenLabs audio events carry the MP3
PREFIX = "/webhooks/"


class TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, message: str, event_id: int | None = None) -> Response:
    body = {"status": message} | ({"event_id": event_id} if event_id else {})
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def _receive(request: Request, provider: str, find_business) -> Response:
    from dokani.calls import webhooks

    try:
        body = await _body(request, MAX_BODY[provider])
    except TooLarge:
        return _answer(413, "body too large")
    try:
        business_id = await anyio.to_thread.run_sync(find_business, body)
        if business_id is None:
            return _answer(401, "unauthorised")
        receipt = await anyio.to_thread.run_sync(webhooks.receive, provider, business_id, body)
    except Exception:
        webhooks.log.exception("webhook receiver failed")
        return _answer(503, "temporarily unavailable; retry")
    return _answer(receipt.status_code, receipt.message, receipt.event_id)


async def elevenlabs_route(request: Request) -> Response:
    from dokani.calls import webhooks

    header = request.headers.get("elevenlabs-signature")
    return await _receive(request, "elevenlabs", lambda body: webhooks.elevenlabs_business(header, body))


async def tavus_route(request: Request) -> Response:
    from dokani.calls import webhooks

    token = request.path_params.get("token", "")
    return await _receive(request, "tavus", lambda body: webhooks.tavus_business(token))


def webhook_routes() -> list[Route]:
    return [
        Route("/webhooks/elevenlabs", elevenlabs_route, methods=["POST"]),
        Route("/webhooks/tavus/{token}", tavus_route, methods=["POST"]),
    ]
