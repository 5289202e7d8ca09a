"""Policy rules widgets: the rules as a read-only table, the draft editor as a form and as JSON, field problems
next to their fields, and the usage and compliance figures as labelled rows."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from dokani.policies.rules import KNOWN_CATEGORIES, KNOWN_EVIDENCE, KNOWN_REASONS, PolicyRules
from dokani.ui import format as fmt
from dokani.ui.text import md

KNOWN_FIELDS = set(PolicyRules.model_fields)

LABELS = {
    "return_window_days": "Return window (days)",
    "auto_approve_threshold": "Auto-approve up to (order value, \\$)",
    "auto_escalation_threshold": "Escalate to a person above (order value, \\$)",
    "risk_thresholds": "Risk thresholds",
    "risk_thresholds.auto_approve_max": "Auto-approve only if risk ≤",
    "risk_thresholds.auto_deny_min": "Auto-deny if risk ≥",
    "max_call_duration": "Max call duration (seconds)",
    "required_evidence": "Required evidence",
    "acceptable_reasons": "Acceptable reasons",
    "high_risk_categories": "High-risk categories",
    "fraud_flags": "Fraud flags that stop auto-approval",
    "allow_voice_calls": "Allow voice calls",
    "allow_video_calls": "Allow video calls",
    "record_calls": "Record calls",
    "category_overrides": "Per-category overrides",
    "version": "Version name",
    "json": "Rules as JSON",
    "rules": "Rules",
    "": "Rules",
}
ERROR_ICON = ":material/error:"


def label_of(field: str) -> str:
    """The label an admin sees for a rules field (``a.b`` paths fall back to their first part)."""
    if field in LABELS:
        return LABELS[field]
    head, _, rest = field.partition(".")
    return f"{LABELS[head]} › {rest}" if head in LABELS and rest else field


def problem_text(field: str, message: str) -> str:
    return f"{label_of(field)}: {md(message)}"  # messages can quote typed names (flags, categories)


def _problem(problems: dict[str, str], *fields: str) -> None:
    for key, message in problems.items():
        if any(key == f or key.startswith(f + ".") for f in fields):
            st.error(problem_text(key, message), icon=ERROR_ICON)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "none"
    if isinstance(value, dict):
        if not value:
            return "none"
        return "; ".join(f"{k}: {_shown(v) if not isinstance(v, dict) else json.dumps(v, ensure_ascii=False)}"
                         for k, v in value.items())
    return str(value)


def readonly_frame(rules: dict) -> pd.DataFrame:
    """The known fields as (setting, value) rows, labelled as in the editor; overrides get a row each."""
    rows = []
    for field in PolicyRules.model_fields:
        if field not in rules:
            continue
        value = rules[field]
        if field == "risk_thresholds" and isinstance(value, dict):
            for sub in ("auto_approve_max", "auto_deny_min"):
                if sub in value:
                    rows.append({"setting": LABELS[f"risk_thresholds.{sub}"], "value": _shown(value[sub])})
            continue
        if field == "category_overrides" and isinstance(value, dict):
            if not value:
                rows.append({"setting": LABELS[field], "value": "none"})
            for category, o in value.items():
                o = o if isinstance(o, dict) else {}
                parts = []
                if o.get("return_window_days") is not None:
                    parts.append(f"window {o['return_window_days']} days")
                if o.get("restocking_fee_pct") is not None:
                    parts.append(f"restocking fee {o['restocking_fee_pct']:g}%")
                if o.get("final_sale"):
                    parts.append("final sale")
                rows.append({"setting": f"Override · {category}", "value": ", ".join(parts) or "general rules"})
            continue
        rows.append({"setting": LABELS.get(field, field), "value": _shown(value)})
    return pd.DataFrame(rows, columns=["setting", "value"])


def show_rules_readonly(rules: dict) -> None:
    """A version's rules as a labelled, read-only table (every row visible), then any keys the engine ignores."""
    summary = readonly_frame(rules)
    other = {k: v for k, v in rules.items() if k not in KNOWN_FIELDS}
    if not summary.empty:
        st.dataframe(summary, hide_index=True, width="stretch", height=35 * (len(summary) + 1) + 3,
                     key="rules_readonly", column_config={
                         "setting": st.column_config.TextColumn("setting", width="medium"),
                         "value": st.column_config.TextColumn("value", width="large")})
    else:
        st.info("This version has none of the fields the triage engine reads; the engine uses its defaults.")
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
    _limits(out, rules, key, problems)
    _lists(out, rules, key, problems)
    _calls(out, rules, key)
    out["category_overrides"] = _overrides(rules, key)
    _problem(problems, "category_overrides")
    other = {k: v for k, v in rules.items() if k not in KNOWN_FIELDS}
    if other:
        st.caption("Other keys in this version (kept as they are when you save):")
        st.json(other, expanded=False)
    return out


def _limits(out: dict, rules: dict, key: str, problems: dict[str, str]) -> None:
    """Window, value thresholds, risk thresholds and call length."""
    c = st.columns(3)
    with c[0]:
        out["return_window_days"] = int(st.number_input(
            "Return window (days)", value=int(_number(rules.get("return_window_days"), 30)), step=1,
            key=f"{key}_window"))
        _problem(problems, "return_window_days")
    with c[1]:
        out["auto_approve_threshold"] = st.number_input(
            "Auto-approve up to (order value, \\$)", value=_number(rules.get("auto_approve_threshold"), 75.0), step=5.0,
            format="%.2f", key=f"{key}_approve")
        _problem(problems, "auto_approve_threshold")
    with c[2]:
        out["auto_escalation_threshold"] = st.number_input(
            "Escalate to a person above (order value, \\$)", value=_number(rules.get("auto_escalation_threshold"), 500.0),
            step=10.0, format="%.2f", key=f"{key}_escalate")
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
    _problem(problems, "risk_thresholds")
    if "" in problems or "rules" in problems:
        st.error(md(problems.get("") or problems.get("rules")), icon=ERROR_ICON)


def _lists(out: dict, rules: dict, key: str, problems: dict[str, str]) -> None:
    """Evidence, reasons, high-risk categories (known values plus any the version holds) and fraud flags."""
    for label, field, known in (("Required evidence", "required_evidence", KNOWN_EVIDENCE),
                                ("Acceptable reasons", "acceptable_reasons", KNOWN_REASONS),
                                ("High-risk categories", "high_risk_categories", KNOWN_CATEGORIES)):
        current = _listish(rules.get(field))
        options = list(dict.fromkeys([*known, *current]))
        out[field] = st.multiselect(label, options, default=current, key=f"{key}_{field}")
        _problem(problems, field)
    flags = st.text_input("Fraud flags that stop auto-approval (comma separated)",
                          value=", ".join(map(str, _listish(rules.get("fraud_flags")))), key=f"{key}_flags")
    out["fraud_flags"] = [f.strip() for f in flags.split(",") if f.strip()]
    _problem(problems, "fraud_flags")


def _calls(out: dict, rules: dict, key: str) -> None:
    c = st.columns(3)
    out["allow_voice_calls"] = c[0].checkbox("Allow voice calls", value=bool(rules.get("allow_voice_calls", True)),
                                             key=f"{key}_voice")
    out["allow_video_calls"] = c[1].checkbox("Allow video calls", value=bool(rules.get("allow_video_calls", False)),
                                             key=f"{key}_video")
    out["record_calls"] = c[2].checkbox("Record calls", value=bool(rules.get("record_calls", True)), key=f"{key}_record")


def _overrides(rules: dict, key: str) -> dict[str, dict]:
    """The per-category overrides table; unknown keys inside an override are kept."""
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
        o = dict(previous.get(category) or {})
        for field in ("return_window_days", "restocking_fee_pct"):
            value = row.get(field)
            o[field] = None if value is None or pd.isna(value) else (int(value) if field == "return_window_days" else float(value))
        o["final_sale"] = bool(row.get("final_sale")) if not pd.isna(row.get("final_sale")) else False
        overrides[category] = o
    return overrides


def rules_json_editor(rules: dict, key: str, problems: dict[str, str]) -> str:
    text = st.text_area("Rules as JSON", value=json.dumps(rules, indent=2, ensure_ascii=False), height=420,
                        key=f"{key}_json")
    for field, message in problems.items():
        st.error(problem_text(field, message), icon=ERROR_ICON)
    return text


def _stamp(value: Any) -> str:
    if not value:
        return fmt.NO_DATA
    try:
        return fmt.when(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def breakdown_frame(usage: dict, field: str, label: str) -> pd.DataFrame:
    """One of the ``by_status`` / ``by_recommendation`` counts as rows, largest first."""
    values = usage.get(field) if isinstance(usage.get(field), dict) else {}
    rows = sorted(values.items(), key=lambda kv: -kv[1])
    return pd.DataFrame(rows, columns=[label, "returns"])


def usage_frame(usage: dict) -> pd.DataFrame:
    """``usage_statistics`` as labelled rows (figures missing from the row say "no data")."""
    ms = usage.get("avg_processing_ms")
    rows = [
        ("Returns triaged under it", fmt.number(usage.get("returns"))),
        ("First / last return", f"{_stamp(usage.get('first_used'))} – {_stamp(usage.get('last_used'))}"),
        ("Settled automatically", fmt.number(usage.get("automated"))),
        ("Automation rate", fmt.share(usage.get("automation_rate"))),
        ("Refunded value", fmt.money(usage.get("refunded_value"))),
        ("Average processing time", fmt.NO_DATA if ms is None else (f"{ms:,.0f} ms" if ms < 1000 else fmt.duration_s(ms / 1000))),
    ]
    return pd.DataFrame(rows, columns=["usage", "value"])


def compliance_frame(compliance: dict) -> pd.DataFrame:
    """``compliance_metrics`` as labelled rows."""
    rows = [
        ("Decided after an automatic recommendation", fmt.number(compliance.get("decided"))),
        ("… where the decision agreed", fmt.number(compliance.get("agreed"))),
        ("Agreement rate", fmt.share(compliance.get("agreement_rate"))),
        ("Approvals that could be checked", fmt.number(compliance.get("approved_checked"))),
        ("… outside the window or final sale", fmt.number(compliance.get("violations"))),
        ("Compliance rate", fmt.share(compliance.get("compliance_rate"))),
    ]
    return pd.DataFrame(rows, columns=["compliance", "value"])
