"""Dokani console: domain and services (no Streamlit here), one package per capability.

Capabilities: ``returns`` (queue, review, decisions, CSV import), ``triage`` (the engine and its write-back),
``policies`` (rules, versions, diff, backtest), ``lab`` (chat test agent, sessions, personas, suites),
``calls`` (AI voice/video calls), ``risk`` (risk profiles, security events), ``analytics`` (KPIs),
``accounts`` (who signs in, memberships). ``ui`` mirrors them and is the only code that imports Streamlit.

Shared by every capability, at this level: ``models`` (typed ORM of every table), ``payloads`` (pydantic
models of JSONB payloads), ``errors`` (domain errors the UI turns into messages), ``audit`` (the audit
trail), ``cli`` (``python -m dokani``).
"""
