"""Personas: ElevenLabs (voice) and Tavus (video) configurations in ``provider_configs``.

``config_data`` is validated on every write by a pydantic model per provider; unknown keys are kept
(``extra="allow"``) so a setting added in the provider's dashboard is never dropped by the console.
Rows written by other tools may use the providers' own key names (``first_message``, ``custom_greeting``
...): ``persona_style`` reads those leniently, so every stored persona can talk in the chat lab.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select, update

from db.uow import UnitOfWork
from dokani import audit, limits
from dokani.errors import Conflict, Invalid, NotAllowed, NotFound, field_problems
from dokani.models import ProviderConfig

PROVIDERS = ("elevenlabs", "tavus")
PROVIDER_LABELS = {"elevenlabs": "ElevenLabs (voice)", "tavus": "Tavus (video)"}
TONES = ("friendly", "formal", "concise", "empathetic")
ESCALATIONS = ("offer_human", "transfer_immediately", "resolve_first")
ESCALATION_LABELS = {
    "offer_human": "offer a human teammate",
    "transfer_immediately": "hand over at once",
    "resolve_first": "try to resolve first, then hand over",
}
EDIT_ROLES = ("owner", "admin", "tester")
_ID = r"^[A-Za-z0-9_\-]{4,80}$"


class PersonaStyle(BaseModel):
    """What shapes the agent's wording, common to both providers."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    persona_name: str = Field(..., min_length=1, max_length=60, description="the name the agent introduces itself by")
    greeting: str = Field("", max_length=400, description="first words of a conversation; {name} is replaced")
    tone: Literal["friendly", "formal", "concise", "empathetic"] = "friendly"
    sign_off: str = Field("", max_length=200)
    escalation: Literal["offer_human", "transfer_immediately", "resolve_first"] = "offer_human"
    language: str = Field("en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")

    @field_validator("persona_name")
    @classmethod
    def _no_braces(cls, value: str) -> str:
        if "{" in value or "}" in value:
            raise ValueError("the name cannot contain { or }")
        return value


class ElevenLabsConfig(PersonaStyle):
    voice_id: str = Field(..., pattern=_ID, description="ElevenLabs voice id")
    agent_id: str | None = Field(None, pattern=_ID)
    model_id: str = Field("eleven_turbo_v2_5", min_length=1, max_length=80)
    stability: float = Field(0.5, ge=0, le=1)
    similarity_boost: float = Field(0.75, ge=0, le=1)


class TavusConfig(PersonaStyle):
    replica_id: str = Field(..., pattern=_ID, description="Tavus replica id")
    persona_id: str | None = Field(None, pattern=_ID)
    video_quality: Literal["low", "standard", "high"] = "standard"
    max_call_duration_s: int = Field(600, ge=30, le=3600)


CONFIG_MODELS: dict[str, type[PersonaStyle]] = {"elevenlabs": ElevenLabsConfig, "tavus": TavusConfig}


class Persona(BaseModel):
    id: UUID
    provider: str
    config_name: str
    config_data: dict[str, Any]
    is_active: bool
    is_default: bool
    usage_count: int
    last_used_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def style(self) -> PersonaStyle:
        return persona_style(self.config_name, self.config_data)

    @property
    def label(self) -> str:
        return f"{self.config_name} · {PROVIDER_LABELS.get(self.provider, self.provider)}"


def _persona(row: ProviderConfig) -> Persona:
    return Persona(
        id=row.id,
        provider=row.provider,
        config_name=row.config_name,
        config_data=dict(row.config_data or {}),
        is_active=bool(row.is_active),
        is_default=bool(row.is_default),
        usage_count=int(row.usage_count or 0),
        last_used_at=row.last_used_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_STYLE_ALIASES = {
    "persona_name": ("persona_name", "name", "agent_name", "display_name"),
    "greeting": ("greeting", "first_message", "custom_greeting", "welcome_message"),
    "tone": ("tone", "style", "personality"),
    "sign_off": ("sign_off", "closing", "farewell", "closing_message"),
    "escalation": ("escalation", "escalation_behaviour", "escalation_behavior", "escalation_policy"),
    "language": ("language", "lang"),
}


def persona_style(config_name: str, config_data: dict[str, Any] | None) -> PersonaStyle:
    """The wording settings of any stored persona; missing or unusable values fall back to defaults."""
    data = config_data or {}
    found: dict[str, Any] = {}
    for field, keys in _STYLE_ALIASES.items():
        for key in keys:
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                found[field] = value.strip()
                break
    if isinstance(found.get("tone"), str):
        tone = found["tone"].lower()
        found["tone"] = next((t for t in TONES if t in tone), "friendly")
    if found.get("escalation") not in ESCALATIONS:
        found.pop("escalation", None)
    found.setdefault("persona_name", config_name[:60] or "Assistant")
    try:
        return PersonaStyle.model_validate(found)
    except ValidationError:
        return PersonaStyle(persona_name=(config_name or "Assistant")[:60].replace("{", "").replace("}", "") or "Assistant")


def validate_config(provider: str, config_data: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """(clean config, {}) or (None, {field: problem}); field names as the form shows them."""
    model = CONFIG_MODELS.get(provider)
    if model is None:
        return None, {"provider": f"unknown provider {provider!r} (known: {', '.join(PROVIDERS)})"}
    if not isinstance(config_data, dict):
        return None, {"config_data": "the configuration must be an object of settings"}
    stored = limits.tree_problems(config_data)  # NUL bytes, NaN, 30-digit numbers: refused here, not by Postgres
    if stored:
        return None, {limits.dotted(path): problem for path, problem in stored}
    try:
        clean = model.model_validate(config_data)
    except ValidationError as err:
        return None, field_problems(err, "config_data")
    if (problem := limits.name_problem(clean.persona_name)) is not None:
        return None, {"persona_name": problem}
    return clean.model_dump(mode="json", exclude_none=True), {}


def member_role(uow: UnitOfWork) -> str | None:
    """The acting user's role in the current business, read from Postgres (never trusted from the UI)."""
    return uow.session.execute(
        select(func.dokani.member_role(uow.actor.business_id))
    ).scalar()


def require_role(uow: UnitOfWork, allowed: tuple[str, ...], doing: str) -> None:
    role = member_role(uow)
    if role not in allowed:
        raise NotAllowed(f"Your role ({role or 'none'}) cannot {doing}; ask an owner, admin or tester.")


def list_personas(uow: UnitOfWork, provider: str | None = None, active_only: bool = False) -> list[Persona]:
    query = select(ProviderConfig).where(
        ProviderConfig.business_id == uow.actor.business_id, ProviderConfig.provider.in_(PROVIDERS)
    )
    if provider:
        query = query.where(ProviderConfig.provider == provider)
    if active_only:
        query = query.where(ProviderConfig.is_active.is_not(False))
    query = query.order_by(ProviderConfig.is_default.desc().nulls_last(), ProviderConfig.config_name, ProviderConfig.id)
    return [_persona(r) for r in uow.session.scalars(query)]


def get_persona(uow: UnitOfWork, name_or_id: str | UUID) -> Persona:
    """A persona of the current business by id, or by exact (case-insensitive) name."""
    row = _row(uow, name_or_id)
    return _persona(row)


def _row(uow: UnitOfWork, name_or_id: str | UUID, lock: bool = False) -> ProviderConfig:
    query = select(ProviderConfig).where(
        ProviderConfig.business_id == uow.actor.business_id, ProviderConfig.provider.in_(PROVIDERS)
    )
    as_id: UUID | None = None
    if isinstance(name_or_id, UUID):
        as_id = name_or_id
    else:
        try:
            as_id = UUID(str(name_or_id))
        except ValueError:
            as_id = None
    if as_id is not None:
        query = query.where(ProviderConfig.id == as_id)
    else:
        limits.check_text(str(name_or_id), "persona", 400)  # typed on the CLI: no NUL byte reaches the query
        query = query.where(func.lower(ProviderConfig.config_name) == str(name_or_id).strip().lower())
    if lock:
        query = query.with_for_update()
    rows = list(uow.session.scalars(query.limit(2)))
    if not rows:
        raise NotFound(f"No persona {name_or_id!s} in this business.")
    if len(rows) > 1:
        raise Invalid(f"Several personas are named {name_or_id!s}; use the persona's id.")
    return rows[0]


def _snapshot(row: ProviderConfig) -> dict[str, Any]:
    return {
        "provider": row.provider, "config_name": row.config_name, "config_data": row.config_data,
        "is_active": row.is_active, "is_default": row.is_default,
    }


def _check_name(uow: UnitOfWork, name: str, exclude: UUID | None = None, kept: str | None = None) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise Invalid("The persona needs a name.", {"config_name": "required"})
    limits.check_text(name, "config_name", 400)  # a NUL byte must not reach the uniqueness query
    if name != kept:  # one limit (dokani.limits), the one every later chat and suite run relies on
        limits.check_name(name, "config_name", "persona name")
    query = select(ProviderConfig.id).where(
        ProviderConfig.business_id == uow.actor.business_id, func.lower(ProviderConfig.config_name) == name.lower()
    )
    if exclude is not None:
        query = query.where(ProviderConfig.id != exclude)
    if uow.session.execute(query.limit(1)).first():
        raise Conflict(f"A persona named {name} already exists.")
    return name


def create_persona(uow: UnitOfWork, provider: str, config_name: str, config_data: dict[str, Any]) -> Persona:
    require_role(uow, EDIT_ROLES, "create personas")
    clean, problems = validate_config(provider, config_data)
    if clean is None:
        raise Invalid("The persona settings are not valid.", problems)
    name = _check_name(uow, config_name)
    row = ProviderConfig(
        business_id=uow.actor.business_id, provider=provider, config_name=name, config_data=clean,
        is_active=True, is_default=False,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.session.refresh(row)
    audit.record(uow, "persona.create", "provider_configs", row.id, None, _snapshot(row))
    uow.commit()
    return _persona(row)


def update_persona(
    uow: UnitOfWork,
    persona_id: UUID,
    *,
    expected_updated_at: datetime | None,
    config_name: str,
    config_data: dict[str, Any],
    is_active: bool = True,
) -> Persona:
    """Save an edit; `expected_updated_at` is what the editor loaded (someone else's save in between is a Conflict)."""
    require_role(uow, EDIT_ROLES, "edit personas")
    row = _row(uow, persona_id, lock=True)
    if row.updated_at != expected_updated_at:
        raise Conflict(f"{row.config_name} was changed by someone else since you opened it; reload and edit again.")
    merged = {**(row.config_data or {}), **config_data}
    clean, problems = validate_config(row.provider, merged)
    if clean is None:
        raise Invalid("The persona settings are not valid.", problems)
    name = _check_name(uow, config_name, exclude=row.id, kept=row.config_name)
    before = _snapshot(row)
    row.config_name = name
    row.config_data = clean
    row.is_active = is_active
    if not is_active and row.is_default:
        row.is_default = False
    row.updated_at = func.now()
    uow.session.flush()
    uow.session.refresh(row)
    audit.record(uow, "persona.update", "provider_configs", row.id, before, _snapshot(row))
    uow.commit()
    return _persona(row)


def set_default(uow: UnitOfWork, persona_id: UUID) -> Persona:
    """Make this persona the default of its provider; only ``is_default`` changes, on this row and the old default."""
    require_role(uow, EDIT_ROLES, "choose the default persona")
    row = _row(uow, persona_id, lock=True)
    if row.is_active is False:
        raise Invalid(f"{row.config_name} is inactive; activate it before making it the default.")
    previous = list(
        uow.session.scalars(
            select(ProviderConfig.id).where(
                ProviderConfig.business_id == row.business_id,
                ProviderConfig.provider == row.provider,
                ProviderConfig.is_default.is_(True),
                ProviderConfig.id != row.id,
            ).with_for_update()
        )
    )
    if previous:
        uow.session.execute(update(ProviderConfig).where(ProviderConfig.id.in_(previous)).values(is_default=False))
    uow.session.execute(update(ProviderConfig).where(ProviderConfig.id == row.id).values(is_default=True))
    audit.record(
        uow, "persona.set_default", "provider_configs", row.id,
        {"is_default": bool(row.is_default), "previous_default": [str(p) for p in previous]}, {"is_default": True},
    )
    uow.commit()
    uow.session.refresh(row)
    return _persona(row)


def record_usage(uow: UnitOfWork, persona_id: UUID) -> None:
    """One more use of the persona (a chat reply, a suite scenario); atomic in SQL, part of the caller's transaction."""
    uow.session.execute(
        update(ProviderConfig)
        .where(ProviderConfig.id == persona_id)
        .values(usage_count=func.coalesce(ProviderConfig.usage_count, 0) + 1, last_used_at=func.now())
    )
