"""Hand-built customer histories for the risk tests: returns, orders and events written with the owner connection."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from db.uow import unit_of_work
from dokani.risk.scoring import refresh_customers


@dataclass
class R:
    """One return of a hand-built history."""

    order: str = "o1"
    days_ago: int = 200
    reason: str = "changed my mind"
    status: str = "pending_review"
    value: float = 50.0
    category: str = "home"
    days_after_purchase: int = 10
    flags: dict = field(default_factory=dict)
    evidence: list = field(default_factory=lambda: ["https://cdn.example/photo.jpg", "https://cdn.example/receipt.pdf"])


def build(url: str, business_id, email: str, returns: list[R], orders: int = 10,
          events: list[bool] | None = None) -> list[int]:
    """Write `orders` orders (o1..oN, prefixed by the email) and the returns; events: one per entry, True = open.
    Returns the ids of the returns."""
    now = datetime.utcnow()
    ids = []
    with psycopg.connect(url) as c:
        for n in range(1, orders + 1):
            order_id = f"{email}/o{n}"
            spec = next((r for r in returns if r.order == f"o{n}"), None)
            created = now - timedelta(days=spec.days_ago if spec else 300)
            purchase = created - timedelta(days=spec.days_after_purchase if spec else 10)
            c.execute(
                "INSERT INTO mock_orders (order_id, purchase_date, customer_email, product_name, product_category, "
                "purchase_price, order_value, business_id) VALUES (%s, %s, %s, 'Thing', %s, %s, %s, %s)",
                (order_id, purchase, email, spec.category if spec else "home", spec.value if spec else 50,
                 spec.value if spec else 50, business_id),
            )
        for r in returns:
            created = now - timedelta(days=r.days_ago)
            ids.append(c.execute(
                "INSERT INTO return_requests (business_id, order_id, customer_email, reason_for_return, status, "
                "created_at, order_value, product_category, days_since_purchase, fraud_flags, risk_score, evidence_urls) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, %s) RETURNING id",
                (business_id, f"{email}/{r.order}", email, r.reason, r.status, created, r.value, r.category,
                 r.days_after_purchase, json.dumps(r.flags), r.evidence),
            ).fetchone()[0])
        for i, open_ in enumerate(events or []):
            c.execute(
                "INSERT INTO security_events (event_type, business_id, customer_email, return_request_id, severity, "
                "resolved) VALUES (%s, %s, %s, %s, 'medium', %s)",
                (f"test_event_{i}", business_id, email, ids[0] if ids else None, not open_),
            )
    return ids


def score(actor, *emails: str) -> None:
    with unit_of_work(actor) as uow:
        refresh_customers(uow, emails)
        uow.commit()


def profile(url: str, business_id, email: str):
    with psycopg.connect(url) as c:
        return c.execute(
            "SELECT risk_score::float, return_frequency, fraud_indicators, behavior_patterns, last_updated "
            "FROM customer_risk_profiles WHERE business_id = %s AND customer_email = %s",
            (business_id, email),
        ).fetchone()
