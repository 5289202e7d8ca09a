"""Rows for policy tests on `empty_db`: a demo business with its members, policy versions, returns.

Written through the owner connection (test set-up only; the code under test runs as the app role).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import psycopg

from db.demo import business, users_of

BASE_RULES = {
    "return_window_days": 30,
    "auto_approve_threshold": 100.0,
    "auto_escalation_threshold": 500.0,
    "required_evidence": [],
    "acceptable_reasons": ["damaged", "defective", "wrong_item", "not_as_described", "doesnt_fit", "changed_mind"],
    "high_risk_categories": [],
    "fraud_flags": [],
    "risk_thresholds": {"auto_approve_max": 0.5, "auto_deny_min": 0.9},
    "allow_voice_calls": True,
    "allow_video_calls": False,
    "record_calls": True,
    "max_call_duration": 900,
    "category_overrides": {},
}


def make_business(url: str, key: str = "atlas") -> None:
    b = business(key)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                     (b.owner_id, f"owner@{key}.example"))
        conn.execute(
            "INSERT INTO public.profiles (id, business_name, website, subscription_plan, business_id) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (b.owner_id, b.name, b.website, b.plan, b.business_id),
        )
        for u in users_of(key):
            conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s) ON CONFLICT DO NOTHING", (u.user_id, u.email))
            conn.execute(
                "INSERT INTO public.business_members (business_id, user_id, role, display_name, email) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (b.business_id, u.user_id, u.role, u.display_name, u.email),
            )


def add_policy(url: str, key: str, version: str, rules: dict | None = None, *, active: bool = False,
               effective: datetime | None = None, state: str | None = None) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "INSERT INTO public.policies (business_id, version, is_active, effective_date, rules, state) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (business(key).business_id, version, active, effective, json.dumps(rules or BASE_RULES), state),
        ).fetchone()[0]


def add_return(url: str, key: str, *, value: float, days: int, category: str = "apparel",
               reason: str = "It arrived damaged", status: str = "approved", recommendation: str | None = "auto_approve",
               version: str | None = None, email: str = "c@example.com", created: datetime | None = None) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "INSERT INTO public.return_requests (business_id, order_id, customer_email, reason_for_return, status, "
            "ai_recommendation, policy_version_used, days_since_purchase, order_value, product_category, created_at, "
            "evidence_urls) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
            (business(key).business_id, f"ORD-{datetime.now().timestamp()}", email, reason, status, recommendation,
             version, days, value, category, created or datetime.now() - timedelta(days=1), ["https://x/p.jpg"]),
        ).fetchone()[0]


def one(url: str, sql: str, *params):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()
