"""A small, exactly known business for the chat-lab tests (loaded into an `empty_db`).

It uses the demo identities of Atlas (``db.demo``) so the app's sign-in works on it, but every row
the agent's decisions depend on is written here, so expected outcomes can be stated precisely.
"""
from __future__ import annotations

import json

import psycopg

from db.demo import business, users_of

ATLAS = business("atlas")
BID = str(ATLAS.business_id)

RULES_V1 = {
    "return_window_days": 30,
    "auto_approve_threshold": 100,
    "auto_escalation_threshold": 500,
    "required_evidence": ["photo"],
    "acceptable_reasons": ["damaged", "defective", "wrong_item", "not_as_described", "doesnt_fit", "late_delivery"],
    "category_overrides": {
        "electronics": {"return_window_days": 14, "restocking_fee_pct": 15},
        "beauty": {"final_sale": True},
    },
}
RULES_V2_DRAFT = {**RULES_V1, "return_window_days": 60, "required_evidence": [],
                  "category_overrides": {"electronics": {"return_window_days": 60}}}

# order id, email, product, category, value, days ago
ORDERS = [
    ("ATL-1001", "alex@example.com", "Trail jacket", "apparel", 60, 10),
    ("ATL-1002", "alex@example.com", "Studio headphones", "electronics", 250, 20),
    ("ATL-1003", "alex@example.com", "Matte lipstick", "beauty", 20, 5),
    ("ATL-2001", "sam@example.com", "Hiking boots", "footwear", 80, 3),
]

PERSONAS = [
    ("Ava", "elevenlabs", {"persona_name": "Ava", "voice_id": "voice_ava_001", "tone": "friendly",
                           "greeting": "Hi, I'm {name} from Atlas Outfitters! How can I help?",
                           "sign_off": "Happy trails! - Ava", "escalation": "offer_human"}, True),
    ("Max", "tavus", {"persona_name": "Max", "replica_id": "r_max_0001", "tone": "formal",
                      "sign_off": "Kind regards, Max.", "escalation": "resolve_first"}, False),
]


def load_lab_business(url: str) -> None:
    """Atlas with its members, two policy versions (v1 active, v2-draft), two personas and four orders."""
    with psycopg.connect(url) as conn:
        owner = ATLAS.owner_id
        for u in users_of("atlas"):
            conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s) ON CONFLICT DO NOTHING", (u.user_id, u.email))
        conn.execute(
            "INSERT INTO public.profiles (id, business_name, website, business_id) VALUES (%s, %s, %s, %s)",
            (owner, ATLAS.name, ATLAS.website, ATLAS.business_id),
        )
        for u in users_of("atlas"):
            conn.execute(
                "INSERT INTO public.business_members (business_id, user_id, role, display_name, email) VALUES (%s, %s, %s, %s, %s)",
                (ATLAS.business_id, u.user_id, u.role, u.display_name, u.email),
            )
        conn.execute(
            "INSERT INTO public.policies (business_id, version, is_active, rules, created_at) VALUES "
            "(%s, 'v1', true, %s, now() - interval '2 days'), (%s, 'v2-draft', false, %s, now() - interval '1 day')",
            (ATLAS.business_id, json.dumps(RULES_V1), ATLAS.business_id, json.dumps(RULES_V2_DRAFT)),
        )
        for name, provider, data, default in PERSONAS:
            conn.execute(
                "INSERT INTO public.provider_configs (business_id, provider, config_name, config_data, is_default) "
                "VALUES (%s, %s, %s, %s, %s)",
                (ATLAS.business_id, provider, name, json.dumps(data), default),
            )
        for order_id, email, product, category, value, days in ORDERS:
            conn.execute(
                "INSERT INTO public.mock_orders (order_id, purchase_date, customer_email, product_name, product_category, "
                "purchase_price, order_value, business_id) VALUES (%s, localtimestamp - make_interval(days => %s), %s, %s, %s, %s, %s, %s)",
                (order_id, days, email, product, category, value, value, ATLAS.business_id),
            )
        conn.commit()


def persona_id(url: str, name: str) -> str:
    with psycopg.connect(url) as conn:
        return str(conn.execute("SELECT id FROM public.provider_configs WHERE config_name = %s", (name,)).fetchone()[0])
