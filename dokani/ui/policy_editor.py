"""Policy version widgets: the version list, the rules as a form and as JSON, the draft editor."""
from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from dokani.policies import PolicyVersion
from dokani.policy_rules import KNOWN_CATEGORIES, KNOWN_EVIDENCE, KNOWN_REASONS, PolicyRules
from dokani.ui import format as fmt

STATE_BADGE = {"draft": "draft", "scheduled": "scheduled", "active": "active", "retired": "retired"}
KNOWN_FIELDS = set(PolicyRules.model_fields)


def version_table(versions: list[PolicyVersion], backtests: dict[int, Any]) -> pd.DataFrame:
    rows = []
    for v in versions:
        bt = backtests.get(v.id)
        rows.append({
            "version": v.version,
            "state": STATE_BADGE.get(v.state, v.state),
            # a draft has no effective date yet (whatever an imported row says)
            "effective": fmt.when(v.effective_date) if v.effective_date and v.state != "draft" else "—",
            "last changed by": v.last_changed_by or "no edits recorded",
            "changed at": fmt.when(v.last_changed_at) if v.last_changed_at else "—",
            "impact score": v.policy_impact_score,
            "returns": v.usage_statistics.get("returns"),
            "latest backtest": (f"{bt.outcomes_changed} of {bt.returns_evaluated} change vs {bt.baseline_version}"
                                if bt else "not run"),
        })
    return pd.DataFrame(rows)


def show_versions(versions: list[PolicyVersion], backtests: dict[int, Any]) -> None:
    st.dataframe(
        version_table(versions, backtests), hide_index=True, width="stretch", key="policy_versions_table",
        column_config={
            "impact score": st.column_config.ProgressColumn(
                "impact score", min_value=0, max_value=100, format="%.1f",
                help="0–100; empty while no return used the version. Formula under “How metrics are computed”."),
        },
    )


def _problem(problems: dict[str, str], *fields: str) -> None:
    for key, message in problems.items():
        if any(key == f or key.startswith(f + ".") for f in fields):
            st.error(f"{key}: {message}", icon="✋")


def show_rules_readonly(rules: dict) -> None:
    """A version's rules as a short form-like summary, then the full JSON."""
    known = {k: rules[k] for k in PolicyRules.model_fields if k in rules}
    other = {k: v for k, v in rules.items() if k not in KNOWN_FIELDS}
    summary = pd.DataFrame(
        [{"field": k, "value": json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)}
         for k, v in known.items()]
    )
    if not summary.empty:
        st.dataframe(summary, hide_index=True, width="stretch")
    if other:
        st.caption("Other keys in this version (not used by the engine, kept as they are):")
        st.json(other, expanded=True)


def _overrides_frame(rules: dict) -> pd.DataFrame:
    rows = []
    for category, o in (rules.get("category_overrides") or {}).items():
        o = o if isinstance(o, dict) else {}
        rows.append({"category": category, "return_window_days": o.get("return_window_days"),
                     "restocking_fee_pct": o.get("restocking_fee_pct"), "final_sale": bool(o.get("final_sale", False))})
    return pd.DataFrame(rows, columns=["category", "return_window_days", "restocking_fee_pct", "final_sale"])


def _listish(value: Any) -> list:
    return list(value) if isinstance(value, list) else []


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def rules_form(rules: dict, key: str, problems: dict[str, str]) -> dict:
    """Edit the known fields; returns the rules with every other key kept as it was."""
    out = dict(rules)
    c = st.columns(3)
    with c[0]:
        out["return_window_days"] = int(st.number_input(
            "Return window (days)", value=int(_number(rules.get("return_window_days"), 30)), step=1,
            key=f"{key}_window"))
        _problem(problems, "return_window_days")
    with c[1]:
        out["auto_approve_threshold"] = st.number_input(
            "Auto-approve up to (order value)", value=_number(rules.get("auto_approve_threshold"), 75.0), step=5.0,
            key=f"{key}_approve")
        _problem(problems, "auto_approve_threshold")
    with c[2]:
        out["auto_escalation_threshold"] = st.number_input(
            "Escalate to a person above (order value)", value=_number(rules.get("auto_escalation_threshold"), 500.0),
            step=10.0, key=f"{key}_escalate")
        _problem(problems, "auto_escalation_threshold")
    risk = rules.get("risk_thresholds") if isinstance(rules.get("risk_thresholds"), dict) else {}
    c = st.columns(3)
    with c[0]:
        approve_max = st.number_input("Auto-approve only if risk ≤", value=_number(risk.get("auto_approve_max"), 0.35),
                                      step=0.05, format="%.2f", key=f"{key}_risk_lo")
    with c[1]:
        deny_min = st.number_input("Auto-deny if risk ≥", value=_number(risk.get("auto_deny_min"), 0.85), step=0.05,
                                   format="%.2f", key=f"{key}_risk_hi")
    with c[2]:
        out["max_call_duration"] = int(st.number_input(
            "Max call duration (seconds)", value=int(_number(rules.get("max_call_duration"), 900)), step=60,
            key=f"{key}_call_len"))
        _problem(problems, "max_call_duration")
    out["risk_thresholds"] = {**risk, "auto_approve_max": approve_max, "auto_deny_min": deny_min}
    _problem(problems, "risk_thresholds", "")
    if "" in problems or "rules" in problems:
        st.error(problems.get("") or problems.get("rules"), icon="✋")

    def multi(label: str, field: str, known: tuple[str, ...]) -> None:
        current = _listish(rules.get(field))
        options = list(dict.fromkeys([*known, *current]))
        out[field] = st.multiselect(label, options, default=current, key=f"{key}_{field}")
        _problem(problems, field)

    multi("Required evidence", "required_evidence", KNOWN_EVIDENCE)
    multi("Acceptable reasons", "acceptable_reasons", KNOWN_REASONS)
    multi("High-risk categories", "high_risk_categories", KNOWN_CATEGORIES)
    flags = st.text_input("Fraud flags that stop auto-approval (comma separated)",
                          value=", ".join(map(str, _listish(rules.get("fraud_flags")))), key=f"{key}_flags")
    out["fraud_flags"] = [f.strip() for f in flags.split(",") if f.strip()]
    _problem(problems, "fraud_flags")
    c = st.columns(3)
    out["allow_voice_calls"] = c[0].checkbox("Allow voice calls", value=bool(rules.get("allow_voice_calls", True)),
                                             key=f"{key}_voice")
    out["allow_video_calls"] = c[1].checkbox("Allow video calls", value=bool(rules.get("allow_video_calls", False)),
                                             key=f"{key}_video")
    out["record_calls"] = c[2].checkbox("Record calls", value=bool(rules.get("record_calls", True)), key=f"{key}_record")
    st.caption("Per-category overrides (leave a cell empty to use the general rule). Known categories: "
               + ", ".join(KNOWN_CATEGORIES))
    edited = st.data_editor(
        _overrides_frame(rules), num_rows="dynamic", hide_index=True, width="stretch", key=f"{key}_overrides",
        column_config={
            "category": st.column_config.TextColumn("category"),
            "return_window_days": st.column_config.NumberColumn("window (days)", step=1),
            "restocking_fee_pct": st.column_config.NumberColumn("restocking fee %"),
            "final_sale": st.column_config.CheckboxColumn("final sale"),
        },
    )
    overrides: dict[str, dict] = {}
    previous = rules.get("category_overrides") if isinstance(rules.get("category_overrides"), dict) else {}
    for row in edited.to_dict("records"):
        category = str(row.get("category") or "").strip()
        if not category:
            continue
        o = dict(previous.get(category) or {})  # unknown keys inside an override are kept too
        for field in ("return_window_days", "restocking_fee_pct"):
            value = row.get(field)
            o[field] = None if value is None or pd.isna(value) else (int(value) if field == "return_window_days" else float(value))
        o["final_sale"] = bool(row.get("final_sale")) if not pd.isna(row.get("final_sale")) else False
        overrides[category] = o
    out["category_overrides"] = overrides
    _problem(problems, "category_overrides")
    other = {k: v for k, v in rules.items() if k not in KNOWN_FIELDS}
    if other:
        st.caption("Other keys in this version (kept as they are when you save):")
        st.json(other, expanded=False)
    return out


def rules_json_editor(rules: dict, key: str, problems: dict[str, str]) -> str:
    text = st.text_area("Rules as JSON", value=json.dumps(rules, indent=2, ensure_ascii=False), height=420,
                        key=f"{key}_json")
    if problems:
        for field, message in problems.items():
            st.error(f"{field or 'rules'}: {message}", icon="✋")
    return text
