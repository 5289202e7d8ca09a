"""The agent's wording: the persona's voice, and the sentences that explain a policy or a decision.

No database here: everything is worded from a persona's style, a policy's rules and the engine's result.

- ``Voice``: the persona's name, greeting, tone and sign-off; ``opening_line`` is its first line.
- ``policy_answer``: a policy question answered from the version's rules themselves.
- ``why_not`` / ``why_review``: why the engine denied a return, or sent it to a person.
- ``order_status``: an order's status and dates, and until when it can be returned.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from dokani.lab.intents import normalise
from dokani.lab.orders import OrderInfo
from dokani.lab.personas import PersonaStyle
from dokani.policies.rules import KNOWN_CATEGORIES, PolicyRules
from dokani.triage.engine import TriageResult

_TONE = {
    "friendly": {"hello": "Hi there! I'm {name}.", "good": "Good news: ", "sorry": "Sorry about that! ",
                 "please": "Could you ", "help": "How can I help with your order today?", "bye": "Thanks for chatting with us. Bye for now!"},
    "formal": {"hello": "Good day. My name is {name}.", "good": "I am pleased to confirm that ", "sorry": "I apologise for the inconvenience. ",
               "please": "Would you kindly ", "help": "How may I assist you with your order?", "bye": "Thank you for contacting us. Goodbye."},
    "concise": {"hello": "{name} here.", "good": "", "sorry": "Sorry. ", "please": "Please ", "help": "How can I help?", "bye": "Thanks. Bye."},
    "empathetic": {"hello": "Hello, I'm {name}, and I'm here to help.", "good": "I'm glad to tell you that ",
                   "sorry": "I'm really sorry you've had this experience. ", "please": "Could you please ",
                   "help": "What can I do for you today?", "bye": "Thank you for your patience today. Take care!"},
}
_PLATFORM = {"shopify": "Shopify order", "woocommerce": "WooCommerce order"}
REASON_WORDS = {
    "damaged": "damaged items", "defective": "defective items", "wrong_item": "a wrong item sent",
    "not_as_described": "items not as described", "doesnt_fit": "items that don't fit", "changed_mind": "a change of mind",
    "late_delivery": "late delivery", "other": "other reasons",
}

STATUS_WORDS = {"return_approved": "approved for return", "processing": "being prepared", "pending": "being prepared"}


class Voice:
    """The persona's way of saying things."""

    def __init__(self, style: PersonaStyle, chat_mode: str = "normal", shop: str | None = None):
        self.style = style
        self.mode = chat_mode
        self.shop = shop or "our shop"
        self.words = _TONE.get(style.tone, _TONE["friendly"])

    def fill(self, template: str) -> str:
        """The persona's own texts may name the persona ({name}) and the shop ({shop})."""
        return template.replace("{name}", self.style.persona_name).replace("{shop}", self.shop)

    def w(self, key: str) -> str:
        return self.fill(self.words[key])

    def greeting(self) -> str:
        if self.style.greeting:
            return self.fill(self.style.greeting)
        return f"{self.w('hello')} {self.w('help')}"

    def goodbye(self) -> str:
        return self.fill(self.style.sign_off) if self.style.sign_off else self.w("bye")

    def ask(self, what: str) -> str:
        return f"{self.w('please')}{what}?"

    def good(self, sentence: str) -> str:
        prefix = self.w("good")
        if prefix.endswith("that "):
            return prefix + sentence
        return prefix + sentence[:1].upper() + sentence[1:]

    def order_word(self) -> str:
        return _PLATFORM.get(self.mode, "order")



def opening_line(style: PersonaStyle, chat_mode: str = "normal", shop: str | None = None) -> str:
    return Voice(style, chat_mode, shop).greeting()


# ----------------------------------------------------------------------------------------------------------------
# Orders, the policy and the engine's decisions
# ----------------------------------------------------------------------------------------------------------------


def order_status(v: Voice, order: OrderInfo, rules: PolicyRules, now: datetime) -> str:
    """The order's status and purchase date; once delivered, until when the policy lets it be returned."""
    days = max(0, (now - order.purchase_date).days)
    ago = "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"
    status = STATUS_WORDS.get(order.order_status, order.order_status.replace("_", " "))
    line = (f"Your {v.order_word()} {order.order_id} ({order.product_name}, bought {order.purchase_date:%Y-%m-%d}, "
            f"{ago}) is {status}.")
    if order.order_status != "delivered":
        return line
    if rules.is_final_sale(order.product_category):
        return line + f" {order.product_category.capitalize()} items are final sale, so it can't be returned."
    window = rules.window_for(order.product_category)
    until = order.purchase_date + timedelta(days=window)
    if days <= window:  # the engine's own test: outside the window once more days than it allows have passed
        return line + f" If you need to, you can return it until {until:%Y-%m-%d} ({window}-day return window)."
    return line + f" Its {window}-day return window ended on {until:%Y-%m-%d}."


def why_not(order: OrderInfo, result: TriageResult, rules: PolicyRules, now: datetime) -> str:
    """Why the engine denied the return, in the policy's terms."""
    days = max(0, (now - order.purchase_date).days)
    parts = []
    for v in result.policy_violations:
        if v == "outside_return_window":
            parts.append(f"it was bought {days} days ago and the return window is {rules.window_for(order.product_category)} days")
        elif v == "final_sale":
            parts.append(f"{order.product_category} items are final sale")
        elif v == "reason_not_accepted":
            parts.append(f"our policy doesn't cover returns for {REASON_WORDS.get(result.reason_code, result.reason_code)}")
    if not parts:
        parts.append("it doesn't meet our return policy")
    return " and ".join(parts)


def why_review(result: TriageResult) -> str:
    """Why the engine wants a person to look at the return."""
    missing = [v.split(":", 1)[1] for v in result.policy_violations if v.startswith("missing_evidence:")]
    if missing:
        return f"there is no {' or '.join(missing)} yet"
    if result.reason_code == "other":
        return "a person should read your reason"
    return "it needs a closer look"


def policy_answer(message: str, r: PolicyRules) -> str:
    """The part of the policy the customer asks about (window, evidence, reasons, fees, final sale)."""
    t = normalise(message)
    category = category_in(t)
    parts: list[str] = []
    topic_window = re.search(r"\b(how long|how many days|window|days|time limit|deadline|too late)\b", t)
    topic_evidence = re.search(r"\b(photo|picture|evidence|proof|receipt|video|need)\b", t)
    topic_reasons = re.search(r"\b(reason|reasons|accept|changed my mind|why)\b", t)
    topic_fees = re.search(r"\b(fee|fees|restocking|cost|charge|free)\b", t)
    topic_final = re.search(r"\b(final sale|non-returnable|not returnable|returnable)\b", t)
    if topic_window or not (topic_evidence or topic_reasons or topic_fees or topic_final):
        if category:
            parts.append(f"{category.capitalize()} can be returned within {r.window_for(category)} days of purchase.")
        else:
            parts.append(f"You can return items within {r.return_window_days} days of purchase.")
            special = [f"{c}: {o.return_window_days} days" for c, o in sorted(r.category_overrides.items())
                       if o.return_window_days is not None and o.return_window_days != r.return_window_days]
            if special:
                parts.append("Some categories differ (" + "; ".join(special) + ").")
    if topic_evidence or not (topic_window or topic_reasons or topic_fees or topic_final):
        if r.required_evidence:
            parts.append(f"With a return we need {' and '.join('a ' + e for e in r.required_evidence)} of the item.")
        else:
            parts.append("You don't need to send photos or receipts.")
    if topic_reasons:
        parts.append("We accept returns for " + ", ".join(REASON_WORDS.get(x, x) for x in r.acceptable_reasons) + ".")
    if topic_fees:
        fees = [f"{c}: {o.restocking_fee_pct:g}%" for c, o in sorted(r.category_overrides.items()) if o.restocking_fee_pct]
        parts.append(("Restocking fees apply to " + "; ".join(fees) + ".") if fees else "There is no restocking fee.")
    if topic_final or category:
        finals = sorted(c for c, o in r.category_overrides.items() if o.final_sale)
        if category and category in finals:
            parts.append(f"{category.capitalize()} items are final sale and can't be returned.")
        elif topic_final:
            parts.append(("Final-sale categories: " + ", ".join(finals) + ".") if finals else "No category is final sale.")
    return " ".join(parts)


def category_in(t: str) -> str | None:
    """The first product category the (normalised) text names, if any."""
    for c in KNOWN_CATEGORIES:
        stem = c[:-1] if c.endswith("s") else c
        if re.search(rf"\b{re.escape(stem)}", t):
            return c
    return None
