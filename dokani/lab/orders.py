"""The orders a customer may mean, in ``mock_orders`` (tenant-scoped) or simulated by a scenario suite.

- ``lookup_order``: an order id in the text, else the one being discussed, else the session's, else by the
  customer's email (one order is taken, several are offered as candidates).
- ``SimulatedOrder``: an order a suite brings with it; it lives in the session, never in ``mock_orders``.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select

from db.uow import UnitOfWork
from dokani.lab.intents import extract_order_ids
from dokani.models import MockOrder


class OrderInfo(BaseModel):
    order_id: str
    customer_email: str
    product_name: str
    product_category: str
    purchase_date: datetime
    order_status: str = "delivered"
    order_value: float = 0.0
    quantity: int = 1
    simulated: bool = False


class SimulatedOrder(BaseModel):
    """An order a scenario brings with it (kept in the session, never written to ``mock_orders``)."""

    order_id: str = Field(..., min_length=3, max_length=60)
    product_name: str = "Test item"
    product_category: str = "apparel"
    order_value: float = Field(49.0, ge=0, le=1e12, allow_inf_nan=False)  # dokani.limits.MAX_DECIMAL
    purchased_days_ago: int = Field(5, ge=0, le=3650)
    order_status: str = "delivered"
    quantity: int = Field(1, ge=1, le=100_000)

    def materialise(self, email: str, now: datetime) -> OrderInfo:
        return OrderInfo(
            order_id=self.order_id, customer_email=email, product_name=self.product_name,
            product_category=self.product_category, purchase_date=now - timedelta(days=self.purchased_days_ago),
            order_status=self.order_status, order_value=self.order_value, quantity=self.quantity, simulated=True,
        )


def _order(row: MockOrder) -> OrderInfo:
    return OrderInfo(
        order_id=row.order_id, customer_email=row.customer_email, product_name=row.product_name,
        product_category=(row.product_category or "").lower(), purchase_date=row.purchase_date,
        order_status=row.order_status or "delivered",
        order_value=float(row.order_value if row.order_value is not None else (row.purchase_price or 0)),
        quantity=int(row.quantity or 1),
    )


def find_orders_by_id(uow: UnitOfWork, candidates: list[str], simulated: list[OrderInfo] = ()) -> list[OrderInfo]:
    """Orders of this business whose id is one of `candidates` (case-insensitive), in the candidates' order."""
    if not candidates:
        return []
    wanted = {c.upper(): i for i, c in enumerate(candidates)}
    found = {o.order_id.upper(): o for o in simulated if o.order_id.upper() in wanted}
    variants = sorted({v for c in candidates for v in (c, c.upper(), c.lower())})
    rows = uow.session.scalars(
        select(MockOrder).where(MockOrder.order_id.in_(variants), MockOrder.business_id == uow.actor.business_id)
    )
    for row in rows:
        found.setdefault(row.order_id.upper(), _order(row))
    return sorted(found.values(), key=lambda o: wanted[o.order_id.upper()])


def find_orders_by_email(uow: UnitOfWork, email: str, simulated: list[OrderInfo] = (), limit: int = 6) -> list[OrderInfo]:
    """The customer's most recent orders at this business (newest first)."""
    email = (email or "").strip().lower()
    if not email:
        return []
    rows = uow.session.scalars(
        select(MockOrder)
        .where(MockOrder.business_id == uow.actor.business_id, MockOrder.customer_email == email)
        .order_by(MockOrder.purchase_date.desc(), MockOrder.id.desc())
        .limit(limit)
    )
    orders = [o for o in simulated if o.customer_email.lower() == email] + [_order(r) for r in rows]
    return orders[:limit]


class OrderLookup(BaseModel):
    order: OrderInfo | None = None
    candidates: list[OrderInfo] = Field(default_factory=list)
    source: Literal["text", "conversation", "session", "email", "none"] = "none"
    not_found: str | None = None  # an id the customer typed that is not an order of this business


def lookup_order(
    uow: UnitOfWork,
    message: str,
    *,
    email: str,
    conversation_order: str | None = None,
    session_order: str | None = None,
    simulated: list[OrderInfo] = (),
) -> OrderLookup:
    """Which order the customer means: an id in the text, the one being discussed, the session's, or by email."""
    tokens = extract_order_ids(message)
    if tokens:
        hits = find_orders_by_id(uow, tokens, simulated)
        if hits:
            return OrderLookup(order=hits[0], source="text")
        looks_like_order = [t for t in tokens if re.search(r"[A-Za-z]", t) or len(t) >= 4]
        if looks_like_order:
            return OrderLookup(source="none", not_found=looks_like_order[0])
    for source, order_id in (("conversation", conversation_order), ("session", session_order)):
        if order_id:
            hits = find_orders_by_id(uow, [order_id], simulated)
            if hits:
                return OrderLookup(order=hits[0], source=source)
    orders = find_orders_by_email(uow, email, simulated)
    if len(orders) == 1:
        return OrderLookup(order=orders[0], candidates=orders, source="email")
    return OrderLookup(candidates=orders, source="none")

