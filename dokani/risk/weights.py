"""The weights of the customer risk score, in one place (the scorer's SQL and the Risk page both read them).

Each factor adds ``min(cap, weight × amount)`` to the score, where the amount is what the factor counts in the
customer's history (returns, claims, orders, money); the score is the sum, at most 1. A customer with no history
scores 0. Changing a number here changes the next recompute and what the page shows, nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass

SCORER_ID = "dokani-risk/1"  # written into every computed profile: a profile without it was never scored here


@dataclass(frozen=True)
class Weight:
    name: str
    label: str  # what the factor counts, in words
    weight: float  # score per unit of amount
    cap: float  # the most this factor can add
    unit: str  # what one unit of amount is


# Thresholds the factors use (days, money), named so the page can say them.
QUICK_CLAIM_DAYS = 2  # a return filed this soon after purchase (delivery dates are not recorded)
LATE_IN_WINDOW_DAYS = 25  # apparel returned this late (the usual window is 30 days)
LATE_CATEGORIES = ("apparel", "footwear")
HIGH_VALUE = 300.0  # a return of an order worth at least this much
RETURN_RATE_FLOOR = 0.30  # returns per order up to this share are ordinary
REFUND_UNIT = 500.0  # refunded value is counted in units of this much money
NOT_RECEIVED_PHRASES = ("not received", "never received", "never arrived", "didn't arrive", "did not arrive",
                        "never got", "didn't get", "did not get", "missing package", "package missing", "not delivered")

WEIGHTS: tuple[Weight, ...] = (
    Weight("returns_30d", "returns in the last 30 days", 0.06, 0.18, "return"),
    Weight("returns_90d", "returns 31–90 days ago", 0.03, 0.09, "return"),
    Weight("returns_365d", "returns 91–365 days ago", 0.01, 0.05, "return"),
    Weight("return_rate", f"share of orders returned above {RETURN_RATE_FLOOR:.0%}", 0.30, 0.15,
           "share of orders above the floor"),
    Weight("refunded_value", "value refunded in the last 365 days", 0.02, 0.10, f"{REFUND_UNIT:.0f} refunded"),
    Weight("not_received", "repeated 'not received' claims (every claim after the first)", 0.08, 0.16, "claim"),
    Weight("not_as_described", "repeated 'not as described' claims (every claim after the first)", 0.05, 0.10, "claim"),
    Weight("quick_claims", f"returns filed within {QUICK_CLAIM_DAYS} days of purchase", 0.03, 0.09, "return"),
    Weight("late_apparel", f"{' and '.join(LATE_CATEGORIES)} returned {LATE_IN_WINDOW_DAYS}+ days after purchase",
           0.03, 0.09, "return"),
    Weight("bracketing", "orders with several items of one kind returned (bracketing)", 0.08, 0.16, "order"),
    Weight("high_value", f"returns of orders worth {HIGH_VALUE:.0f} or more", 0.03, 0.09, "return"),
    Weight("denied", "returns denied", 0.06, 0.18, "return"),
    Weight("fraud_flags", "returns carrying fraud flags", 0.08, 0.24, "return"),
    Weight("open_events", "open security events", 0.05, 0.15, "event"),
)
BY_NAME = {w.name: w for w in WEIGHTS}

# Factors that count as fraud indicators (booleans in ``fraud_indicators``, read by the triage engine).
INDICATORS = {"fraud_flags": "fraud_flags", "repeated_not_received": "not_received", "bracketing": "bracketing",
              "open_security_events": "open_events"}
