"""Field-by-field differences between two policy versions' rules.

Nested objects are flattened to dotted paths (``risk_thresholds.auto_deny_min``,
``category_overrides.electronics.final_sale``); lists are compared as values, and for lists of names
the added and removed entries are spelled out. Keys only one side has show as added / removed.
"""
from __future__ import annotations

import json
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel

Change = Literal["same", "changed", "added", "removed"]
_MISSING = object()


class FieldDiff(BaseModel):
    field: str
    left: Any = None
    right: Any = None
    change: Change
    detail: str = ""


def flatten(rules: dict | None, prefix: str = "") -> dict[str, Any]:
    """{dotted path: leaf value}; empty objects stay as a leaf so they are not lost."""
    out: dict[str, Any] = {}
    for key in sorted((rules or {}).keys(), key=str):
        value = rules[key]
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _list_detail(left: Any, right: Any) -> str:
    if not (isinstance(left, list) and isinstance(right, list)):
        return ""
    if not all(isinstance(v, (str, int, float)) for v in left + right):
        return ""
    added = [v for v in right if v not in left]
    removed = [v for v in left if v not in right]
    parts = []
    if added:
        parts.append("added " + ", ".join(map(str, added)))
    if removed:
        parts.append("removed " + ", ".join(map(str, removed)))
    return "; ".join(parts) or "same entries, different order"


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def diff_rules(left: dict | None, right: dict | None, *, include_same: bool = False) -> list[FieldDiff]:
    a, b = flatten(left), flatten(right)
    rows: list[FieldDiff] = []
    for path in sorted(set(a) | set(b)):
        lv, rv = a.get(path, _MISSING), b.get(path, _MISSING)
        if lv is _MISSING:
            rows.append(FieldDiff(field=path, right=rv, change="added"))
        elif rv is _MISSING:
            rows.append(FieldDiff(field=path, left=lv, change="removed"))
        elif _equal(lv, rv):
            if include_same:
                rows.append(FieldDiff(field=path, left=lv, right=rv, change="same"))
        else:
            rows.append(FieldDiff(field=path, left=lv, right=rv, change="changed", detail=_list_detail(lv, rv)))
    return rows


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def diff_frame(left: dict | None, right: dict | None, left_name: str, right_name: str,
               *, include_same: bool = False) -> pd.DataFrame:
    """Side by side: field | <left version> | <right version> | change | detail."""
    rows = diff_rules(left, right, include_same=include_same)
    return pd.DataFrame(
        [
            {"field": r.field, left_name: "" if r.change == "added" else _show(r.left),
             right_name: "" if r.change == "removed" else _show(r.right), "change": r.change, "detail": r.detail}
            for r in rows
        ],
        columns=["field", left_name, right_name, "change", "detail"],
    )
