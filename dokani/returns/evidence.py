"""What the customer sent with a return: evidence links, and the conversation log as turns.

Both are customer-supplied: an evidence URL is a link only when it is http(s), and a conversation log of
any JSON shape becomes plain speaker/text turns. The UI renders all of it as text.
"""
from __future__ import annotations

import json
import os
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel


class EvidenceItem(BaseModel):
    url: str
    kind: Literal["image", "video", "document", "link", "unsafe"]
    inline: bool = False  # an image the reviewer's browser may load: from our storage (see `storage_hosts`)

    @property
    def is_web(self) -> bool:
        return self.kind != "unsafe"


class TranscriptTurn(BaseModel):
    speaker: str
    text: str
    at: str | None = None


_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".gif", ".webp")
_VIDEO_EXT = (".mp4", ".mov", ".webm")


def classify_evidence(url: str) -> EvidenceItem:
    """Only http(s) URLs are links or images; anything else (javascript:, data:, file:) is shown as text."""
    raw = (url or "").strip()
    try:
        parts = urlsplit(raw)
    except ValueError:
        return EvidenceItem(url=raw, kind="unsafe")
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return EvidenceItem(url=raw, kind="unsafe")
    path = parts.path.lower()
    if path.endswith(_IMAGE_EXT):
        return EvidenceItem(url=raw, kind="image")
    if path.endswith(_VIDEO_EXT):
        return EvidenceItem(url=raw, kind="video")
    if path.endswith(".pdf") or "receipt" in path:
        return EvidenceItem(url=raw, kind="document")
    return EvidenceItem(url=raw, kind="link")


def storage_hosts() -> set[str]:
    """Hosts whose images are shown inline: ``DOKANI_EVIDENCE_HOSTS`` (comma-separated), nothing by default.

    Any other image is a plain link: an inline preview would make the reviewer's browser fetch whatever URL a
    customer typed (tracking pixels, internal addresses)."""
    return {h.strip().lower() for h in os.environ.get("DOKANI_EVIDENCE_HOSTS", "").split(",") if h.strip()}


def with_inline_previews(items: list[EvidenceItem], uploaded_urls: set[str]) -> list[EvidenceItem]:
    """Mark the images that may be previewed: from a configured storage host, or one of the business's uploads."""
    hosts = storage_hosts()
    out = []
    for item in items:
        inline = False
        if item.kind == "image":
            host = (urlsplit(item.url).hostname or "").lower()
            inline = item.url in uploaded_urls or host in hosts
        out.append(item.model_copy(update={"inline": inline}))
    return out


_SPEAKER_KEYS = ("speaker", "role", "sender", "from", "author", "who")
_TEXT_KEYS = ("text", "content", "message", "body", "utterance")
_TIME_KEYS = ("timestamp", "at", "time", "created_at", "ts")


def transcript_of(log: Any) -> list[TranscriptTurn]:
    """The conversation log (whatever JSON shape it was stored in) as speaker/text turns."""
    if log is None:
        return []
    if isinstance(log, str):
        try:
            log = json.loads(log)
        except ValueError:
            return [TranscriptTurn(speaker="log", text=log)]
    if isinstance(log, dict):
        for key in ("messages", "turns", "transcript", "conversation", "history"):
            if isinstance(log.get(key), list):
                return transcript_of(log[key])
        return [TranscriptTurn(speaker=str(k), text=v if isinstance(v, str) else json.dumps(v)) for k, v in log.items()]
    turns: list[TranscriptTurn] = []
    for item in log if isinstance(log, list) else [log]:
        if isinstance(item, dict):
            speaker = next((str(item[k]) for k in _SPEAKER_KEYS if item.get(k) not in (None, "")), "unknown")
            body = next((item[k] for k in _TEXT_KEYS if item.get(k) is not None), None)
            at = next((str(item[k]) for k in _TIME_KEYS if item.get(k) not in (None, "")), None)
            if body is None:
                body = json.dumps({k: v for k, v in item.items() if k not in _SPEAKER_KEYS + _TIME_KEYS})
            turns.append(TranscriptTurn(speaker=speaker, text=body if isinstance(body, str) else json.dumps(body), at=at))
        else:
            turns.append(TranscriptTurn(speaker="unknown", text=str(item)))
    return turns

