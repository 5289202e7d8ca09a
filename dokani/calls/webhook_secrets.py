"""Per-business webhook secrets: the ElevenLabs HMAC secret and the Tavus URL token. Owners and admins only.

The ElevenLabs secret is kept as given (the signature check needs it); the Tavus token only as its SHA-256 (the
URL is shown once, when set). Row-level security hides both from everyone but owners and admins.
"""
from __future__ import annotations

import hashlib
import secrets as random
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani import audit
from dokani.errors import Invalid, NotAllowed

PROVIDERS = ("elevenlabs", "tavus")
CAN_MANAGE = ("owner", "admin")
MIN_LENGTH = 16
TAVUS_PATH = "/webhooks/tavus/"
ELEVENLABS_PATH = "/webhooks/elevenlabs"


class SecretSet(BaseModel):
    provider: str
    secret: str  # shown once: the ElevenLabs secret, or the Tavus token
    path: str  # where the provider must send its events

    def describe(self, base_url: str = "") -> str:
        if self.provider == "tavus":
            return f"Tavus callback URL: {base_url}{self.path}"
        return f"ElevenLabs webhook URL: {base_url}{self.path}\nHMAC secret: {self.secret}"


class SecretInfo(BaseModel):
    provider: str
    hint: str
    set_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_secret(uow: UnitOfWork, provider: str, secret: str | None = None) -> SecretSet:
    """Set or rotate; the previous secret stops working at once."""
    if uow.actor.role not in CAN_MANAGE:
        raise NotAllowed("Only owners and admins can set webhook secrets.")
    if provider not in PROVIDERS:
        raise Invalid(f"provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")
    if secret is not None:
        secret = secret.strip()
        if len(secret) < MIN_LENGTH or any(c.isspace() or ord(c) < 32 for c in secret):
            raise Invalid(f"a webhook secret needs at least {MIN_LENGTH} characters and no spaces")
    value = secret or (("wsec_" + random.token_hex(32)) if provider == "elevenlabs" else random.token_urlsafe(32))
    el = provider == "elevenlabs"
    uow.session.execute(
        text("""
            INSERT INTO call_webhook_secrets (business_id, provider, secret, token_sha256, hint, set_by)
            VALUES (:b, :p, :s, :h, :hint, :u)
            ON CONFLICT (business_id, provider) DO UPDATE SET secret = EXCLUDED.secret,
              token_sha256 = EXCLUDED.token_sha256, hint = EXCLUDED.hint, set_by = EXCLUDED.set_by,
              set_at = now() AT TIME ZONE 'utc'
        """), {"b": uow.actor.business_id, "p": provider, "s": value if el else None,
               "h": None if el else token_hash(value), "hint": f"…{value[-4:]}", "u": uow.actor.user_id})
    audit.record(uow, "calls.webhook_secret_set", "call_webhook_secrets", f"{uow.actor.business_id}/{provider}",
                 after={"provider": provider, "hint": f"…{value[-4:]}"})
    return SecretSet(provider=provider, secret=value, path=ELEVENLABS_PATH if el else TAVUS_PATH + value)


def list_secrets(uow: UnitOfWork) -> list[SecretInfo]:
    if uow.actor.role not in CAN_MANAGE:
        return []
    rows = uow.session.execute(
        text("SELECT provider, hint, set_at FROM call_webhook_secrets WHERE business_id = :b ORDER BY provider"),
        {"b": uow.actor.business_id}).mappings().all()
    return [SecretInfo(**r) for r in rows]
