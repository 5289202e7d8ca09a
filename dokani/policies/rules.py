"""The return-policy rules model (``policies.rules``): what a policy version says, validated.

Unknown keys in a stored row are kept (``extra="allow"``) and written back unchanged, so a rule
added by another tool is never dropped by the console.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from dokani import limits
from dokani.errors import Invalid, field_problems

KNOWN_CATEGORIES = ("apparel", "footwear", "accessories", "electronics", "home", "beauty", "sports", "toys")
KNOWN_REASONS = (
    "damaged", "defective", "wrong_item", "not_as_described", "doesnt_fit", "changed_mind", "late_delivery", "other",
)
KNOWN_EVIDENCE = ("photo", "video", "receipt")
_FLAG_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _only_known(values: list[str], known: tuple[str, ...], what: str) -> list[str]:
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)} (known: {', '.join(known)})")
    return values


class RiskThresholds(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    auto_approve_max: float = Field(0.35, ge=0, le=1, description="risk at or below which auto-approval is allowed")
    auto_deny_min: float = Field(0.85, ge=0, le=1, description="risk at or above which the engine denies")

    @model_validator(mode="after")
    def _ordered(self) -> "RiskThresholds":
        if self.auto_approve_max >= self.auto_deny_min:
            raise ValueError("auto_approve_max must be lower than auto_deny_min")
        return self


class CategoryOverride(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    return_window_days: int | None = Field(None, ge=0, le=3650)
    restocking_fee_pct: float | None = Field(None, ge=0, le=100)
    final_sale: bool = False


class PolicyRules(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    return_window_days: int = Field(30, ge=0, le=3650)
    auto_approve_threshold: float = Field(75.0, ge=0, le=limits.MAX_DECIMAL, description="order value up to which auto-approval is allowed")
    auto_escalation_threshold: float = Field(500.0, ge=0, le=limits.MAX_DECIMAL, description="order value above which a human must review")
    required_evidence: list[str] = Field(default_factory=lambda: ["photo"])
    acceptable_reasons: list[str] = Field(default_factory=lambda: [r for r in KNOWN_REASONS if r != "other"])
    high_risk_categories: list[str] = Field(default_factory=list)
    fraud_flags: list[str] = Field(default_factory=list, description="flags on a return that stop auto-approval")
    risk_thresholds: RiskThresholds = Field(default_factory=RiskThresholds)
    allow_voice_calls: bool = True
    allow_video_calls: bool = False
    record_calls: bool = True
    max_call_duration: int = Field(900, gt=0, le=86400, description="seconds")
    category_overrides: dict[str, CategoryOverride] = Field(default_factory=dict)

    @field_validator("required_evidence")
    @classmethod
    def _evidence(cls, value: list[str]) -> list[str]:
        return _only_known(value, KNOWN_EVIDENCE, "evidence type")

    @field_validator("acceptable_reasons")
    @classmethod
    def _reasons(cls, value: list[str]) -> list[str]:
        return _only_known(value, KNOWN_REASONS, "reason")

    @field_validator("high_risk_categories", "category_overrides")
    @classmethod
    def _categories(cls, value):
        _only_known(list(value), KNOWN_CATEGORIES, "category")
        return value

    @field_validator("fraud_flags")
    @classmethod
    def _flags(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _FLAG_NAME.match(v)]
        if bad:
            raise ValueError(f"fraud flag names are snake_case words: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _threshold_order(self) -> "PolicyRules":
        if self.auto_approve_threshold > self.auto_escalation_threshold:
            raise ValueError("auto_approve_threshold must not exceed auto_escalation_threshold")
        return self

    # What the engine reads for one category.
    def window_for(self, category: str | None) -> int:
        override = self.category_overrides.get(category or "")
        if override and override.return_window_days is not None:
            return override.return_window_days
        return self.return_window_days

    def is_final_sale(self, category: str | None) -> bool:
        override = self.category_overrides.get(category or "")
        return bool(override and override.final_sale)

    def restocking_fee_pct(self, category: str | None) -> float:
        override = self.category_overrides.get(category or "")
        return float(override.restocking_fee_pct or 0) if override else 0.0

    def to_json(self) -> dict[str, Any]:
        """The stored form: every key, unknown ones included."""
        return self.model_dump(mode="json")


def validate_rules(raw: dict | str) -> tuple[PolicyRules | None, dict[str, str]]:
    """Parse and validate rules; return (rules, {}) or (None, {field: message}).

    Messages name the field the way an admin sees it (``risk_thresholds.auto_deny_min``) and,
    for malformed JSON, the line and column.
    """
    if isinstance(raw, str):  # size, depth, NaN/Infinity/1e999 and 20-digit integers refused while parsing
        try:
            raw = limits.load_json(raw, "the rules")
        except Invalid as err:
            return None, err.problems
    if not isinstance(raw, dict):
        return None, {"json": "the rules must be a JSON object ({...})"}
    stored = {limits.dotted(p): m for p, m in limits.tree_problems(raw)}  # NUL bytes etc., unknown keys included
    try:
        model = PolicyRules.model_validate(raw)
    except ValidationError as err:
        return None, {**stored, **field_problems(err, "rules")}
    return (None, stored) if stored else (model, {})


@dataclass(frozen=True)
class LoadedPolicy:
    id: int
    version: str
    rules: PolicyRules
    is_active: bool


def load_policy(session: Session, business_id, version: str | None = None) -> LoadedPolicy | None:
    """The active policy of a business, or the named version; None when there is none."""
    from dokani.models import Policy

    query = select(Policy).where(Policy.business_id == business_id)
    if version is None:
        query = query.where(Policy.is_active.is_(True))
    else:
        query = query.where(Policy.version == version)
    row = session.scalars(query.order_by(Policy.created_at.desc(), Policy.id.desc()).limit(1)).first()
    if row is None:
        return None
    rules, problems = validate_rules(row.rules)
    if rules is None:
        raise Invalid(f"policy {row.version} has rules the engine cannot evaluate", problems)
    return LoadedPolicy(id=row.id, version=row.version, rules=rules, is_active=bool(row.is_active))
