"""A small hand-built business for the analytics tests: every KPI can be counted by hand from the rows below.

November 2025 is the period, October 2025 the one before. ``HAND`` lists what a person counts.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import psycopg

from db.uow import Actor
from dokani.analytics.kpis import Period

NOVEMBER = Period(start=datetime(2025, 11, 1), end=datetime(2025, 12, 1))


def trace(*clauses: tuple[str, str]) -> str:
    return json.dumps({"engine": "dokani-triage/1",
                       "rules_fired": [{"rule": r, "outcome": o, "detail": "hand-built", "inputs": {}} for r, o in clauses]})


D = datetime
H = timedelta(hours=1)
# (key, created_at, status, recommendation, person decided after (h) or None, engine decided after (h), value,
#  order id, trace, is_test)
RETURNS = [
    ("r1", D(2025, 11, 4, 9), "approved", "auto_approve", 2, None, 100, "O1",
     trace(("return_window", "pass"), ("acceptable_reasons", "pass"), ("risk_thresholds", "info")), False),
    ("r2", D(2025, 11, 4, 10), "approved", "auto_deny", 4, None, 50, "O2",
     trace(("return_window", "violation"), ("fraud_flags", "flag")), False),
    ("r3", D(2025, 11, 11, 9), "denied", "auto_deny", 6, None, 70, "O3x", trace(("return_window", "violation")), False),
    ("r4", D(2025, 11, 11, 10), "denied", "human_review", 8, None, 30, "O4x", trace(("acceptable_reasons", "pass")), False),
    ("r5", D(2025, 11, 19, 9), "approved", "auto_approve", None, 0.01, 20, "O5x", trace(("acceptable_reasons", "pass")), False),
    ("r6", D(2025, 11, 18, 9), "completed", "human_review", 10, None, 200, "O6x", None, False),
    ("r7", D(2025, 11, 25, 9), "pending_review", "human_review", None, None, 40, "O7x", None, False),
    ("r8", D(2025, 11, 25, 10), "escalated", "human_review", None, None, 60, "O8x", None, False),
    ("r9", D(2025, 11, 25, 11), "pending_triage", None, None, None, 10, "O9x", None, False),
    ("t1", D(2025, 11, 5, 9), "approved", "auto_approve", 1, None, 999, "O5", trace(("return_window", "violation")), True),
    ("p1", D(2025, 10, 15, 9), "denied", "auto_deny", 1, None, 10, "O11", None, False),
    ("p2", D(2025, 10, 20, 9), "pending_review", "human_review", None, None, 15, "O12x", None, False),
    ("s1", D(2025, 9, 20, 9), "approved", "auto_approve", 1, None, 500, "O13x", None, False),
]
# (order id, purchase date): November has O1..O5 (O1 and O2 returned; O5 only by a test return), October O11.
ORDERS = [("O1", D(2025, 11, 1, 8)), ("O2", D(2025, 11, 2)), ("O3", D(2025, 11, 3)), ("O4", D(2025, 11, 20)),
          ("O5", D(2025, 11, 21)), ("O11", D(2025, 10, 10))]

HAND = {
    "opened": 9, "decided": 6, "approved": 4, "denied": 2, "median_h": 5.0, "p90_h": 9.0, "refunded": 370.0,
    "orders": 5, "returned_orders": 2,
    "before": {"opened": 2, "decided": 1, "denied": 1, "median_h": 1.0, "refunded": 0.0, "orders": 1, "returned": 1},
    "person_decisions": 5, "agreed": 2, "pushed": 3,
    # rule, outcome -> (decisions, overrides)
    "rules": {("return_window", "violation"): (2, 1), ("acceptable_reasons", "pass"): (2, 1),
              ("return_window", "pass"): (1, 0)},
    "traced": 4, "untraced": 1,
    "waiting": 3, "overdue": 3,  # r7, r8, p2 (pending review or escalated, long past the 48 h SLA)
}


def make_business(conn: psycopg.Connection, name: str, members: list[tuple[str, str]] | None = None) -> dict:
    """A business with an owner and a reviewer (and, optionally, extra (user id, role) members)."""
    owner, reviewer, business = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for uid, role in ((owner, "owner"), (reviewer, "reviewer")):
        conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)", (uid, f"{role}@{name}.example"))
    conn.execute("INSERT INTO profiles (id, business_name, business_id) VALUES (%s, %s, %s)", (owner, name, business))
    for uid, role in ((owner, "owner"), (reviewer, "reviewer")):
        conn.execute("INSERT INTO business_members (business_id, user_id, role, email) VALUES (%s, %s, %s, %s)",
                     (business, uid, role, f"{role}@{name}.example"))
    for uid, role in members or []:
        conn.execute("INSERT INTO business_members (business_id, user_id, role, email) "
                     "SELECT %s, id, %s, email FROM auth.users WHERE id = %s", (business, role, uid))
    return {"business_id": business,
            "owner": Actor(user_id=owner, business_id=business, role="owner", email=f"owner@{name}.example"),
            "reviewer": Actor(user_id=reviewer, business_id=business, role="reviewer", email=f"reviewer@{name}.example")}


def insert_return(conn, business, created, status, rec, person_h=None, engine_h=None, value=0.0, order_id="O",
                  details=None, is_test=False) -> int:
    decided = created + person_h * H if person_h is not None else None
    engine = created + engine_h * H if engine_h is not None else None
    at = decided or engine
    return conn.execute(
        """
        INSERT INTO return_requests (business_id, order_id, customer_email, reason_for_return, status,
          ai_recommendation, admin_decision_at, approved_at, denied_at, order_value, triage_details, is_test,
          created_at, processing_time_ms, triage_agent_id)
        VALUES (%s, %s, 'c@hand.example', 'it broke', %s, %s, %s, %s, %s, %s, CAST(%s AS jsonb), %s, %s, %s, %s)
        RETURNING id
        """,
        (business, order_id, status, rec, decided, at if status in ("approved", "completed") else None,
         at if status == "denied" else None, value, details, is_test, created,
         800 if rec else None, "dokani-triage/1" if rec else None),
    ).fetchone()[0]


def hand_built(url: str, members: list[tuple[str, str]] | None = None) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        made = make_business(conn, f"hand{uuid.uuid4().hex[:6]}", members)
        b = made["business_id"]
        made["ids"] = {}
        for key, created, status, rec, person_h, engine_h, value, order_id, details, is_test in RETURNS:
            made["ids"][key] = insert_return(conn, b, created, status, rec, person_h, engine_h, value, order_id,
                                             details, is_test)
        for order_id, purchased in ORDERS:
            conn.execute("INSERT INTO mock_orders (order_id, purchase_date, customer_email, product_name, "
                         "product_category, business_id) VALUES (%s, %s, 'c@hand.example', 'Lamp', 'home', %s)",
                         (order_id, purchased, b))
    return made
