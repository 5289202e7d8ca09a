"""The customer-service agent the chat test lab talks to. No UI here.

Deterministic by default: the same conversation against the same data gives the same replies.

- ``detect_intent``: keyword scoring over the customer's words (no model), with the conversation's
  pending question (which order? why? a photo?) as context.
- Order lookup in ``mock_orders``: by an order id in the text, else the session's order, else the
  customer's email; scenario suites may also bring simulated orders (never written to ``mock_orders``).
- Eligibility through the triage engine (``dokani.triage.engine.evaluate``) with the session's policy version;
  the agent opens a return request marked ``is_test`` (never in the live queue) with the engine's outcome.
- Policy questions are answered from the version's rules themselves.
- The persona shapes the wording (name, greeting, tone, sign-off, escalation behaviour).
- Optional: an OpenAI-compatible endpoint (``DOKANI_AGENT_LLM_URL`` + ``DOKANI_AGENT_LLM_MODEL``,
  optional ``DOKANI_AGENT_LLM_API_KEY``, ``DOKANI_AGENT_LLM_TIMEOUT``) rephrases the reply. Decisions stay
  with the engine; a failure, or a rephrasing that drops an order id, number or decision word, falls back
  to the deterministic wording. Off unless both variables are set.
"""
from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import func, select, text

from db.uow import UnitOfWork
from dokani import audit
from dokani.errors import NotFound
from dokani.models import MockOrder, ReturnRequest
from dokani.lab.personas import PersonaStyle
from dokani.policies.rules import PolicyRules, load_policy
from dokani.triage.engine import ENGINE_ID, CustomerHistory, ReturnFacts, TriageResult, classify_reason, evaluate

AGENT_ID = "dokani-cs-agent/1"
Intent = Literal[
    "return_request", "order_status", "policy_question", "complaint", "escalate_to_human", "goodbye", "greeting", "unknown"
]
INTENTS: tuple[str, ...] = (
    "return_request", "order_status", "policy_question", "complaint", "escalate_to_human", "goodbye", "greeting", "unknown",
)
# Ties go to the earlier intent.
_PRIORITY = ("escalate_to_human", "goodbye", "return_request", "order_status", "policy_question", "complaint", "greeting")

# ----------------------------------------------------------------------------------------------------------------
# Intent detection
# ----------------------------------------------------------------------------------------------------------------

_PATTERNS: dict[str, list[tuple[re.Pattern[str], int]]] = {
    "return_request": [
        (re.compile(r"\b(return|returning|refund|refunded|send (it|this|them) back|money back|exchange|rma)\b"), 2),
        (re.compile(r"\b(want|like|need) to (return|send back|get a refund)\b"), 1),
    ],
    "order_status": [
        (re.compile(r"\bwhere('s| is)? my (order|package|parcel|delivery)\b"), 3),
        (re.compile(r"\b(track|tracking|order status|status of (my|the) order|delivery date|shipped yet|dispatched)\b"), 2),
        (re.compile(r"\b(hasn't|has not|hasnt|didn't|did not|still not|not yet) (arrived|come|shipped|been delivered)\b"), 2),
        (re.compile(r"\bwhen will (it|my order|my package|the order) (arrive|ship|be delivered|come)\b"), 2),
    ],
    "policy_question": [
        (re.compile(r"\b(policy|policies)\b"), 2),
        (re.compile(r"\bhow (long|many days)\b"), 2),
        (re.compile(r"\b(return window|restocking|final sale|returnable|do i need|what do i need|do you accept|"
                    r"what reasons|which reasons|is there a fee|any fee)\b"), 2),
        (re.compile(r"\b(can|could) i (return|send back)\b.*\?"), 1),
    ],
    "complaint": [
        (re.compile(r"\b(terrible|awful|horrible|unacceptable|ridiculous|worst|angry|furious|disappointed|disgusted|"
                    r"complain|complaint|fed up|scam|rude|outrageous|useless)\b"), 2),
    ],
    "escalate_to_human": [
        (re.compile(r"\b(human|real person|a person|someone real|live agent|an agent|representative|supervisor|manager|"
                    r"speak to someone|talk to someone|speak with someone|talk to a|speak to a)\b"), 3),
    ],
    "goodbye": [
        (re.compile(r"\b(bye|goodbye|good bye|see you|that's all|that is all|that's everything|have a (nice|good|great) day)\b"), 3),
        (re.compile(r"^\s*(ok(ay)?,? )?(thanks|thank you|thx|cheers)( so much| a lot)?[.! ]*$"), 3),
    ],
    "greeting": [
        (re.compile(r"^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening))\b"), 1),
    ],
}


class IntentGuess(BaseModel):
    intent: str
    confidence: float
    scores: dict[str, int] = Field(default_factory=dict)
    via: str = "keywords"  # keywords | context | fallback


def _norm(text_: str) -> str:
    return re.sub(r"\s+", " ", (text_ or "").lower().replace("’", "'")).strip()


def detect_intent(message: str, pending: str | None = None) -> IntentGuess:
    """The customer's intent from their words; `pending` is the agent's open question, if any."""
    t = _norm(message)
    scores: dict[str, int] = {}
    for intent, patterns in _PATTERNS.items():
        score = sum(weight for pattern, weight in patterns if pattern.search(t))
        if score:
            scores[intent] = score
    reason, _ = classify_reason(t)
    has_order_id = bool(extract_order_ids(message))
    if reason != "other":
        scores["return_request"] = scores.get("return_request", 0) + 1
    if has_order_id and "return_request" in scores:
        scores["return_request"] += 1
    # A general question ("how long do I have to return shoes?") is about the policy, not a return yet.
    is_question = t.endswith("?") or bool(re.match(r"^(how|what|which|when|can|could|do|does|is|are|will)\b", t))
    if is_question and "policy_question" in scores and not has_order_id and reason == "other":
        scores["policy_question"] += 2
    if not scores:
        if pending in ("return_reason", "order_choice", "evidence"):
            return IntentGuess(intent="return_request" if pending != "order_choice" or has_order_id else "unknown",
                               confidence=0.6, scores={}, via="context")
        if pending == "status_order_choice" and has_order_id:
            return IntentGuess(intent="order_status", confidence=0.6, scores={}, via="context")
        return IntentGuess(intent="unknown", confidence=0.3, scores={}, via="fallback")
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], _PRIORITY.index(kv[0])))
    top, top_score = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0
    # The customer answering the agent's own question (why? which order? a photo?) continues that flow.
    if pending in ("return_reason", "order_choice", "evidence") and top in ("greeting", "complaint", "policy_question"):
        top = "return_request"
    confidence = round(0.5 + 0.5 * top_score / (top_score + second + 1), 3)
    return IntentGuess(intent=top, confidence=confidence, scores=scores, via="keywords")


# ----------------------------------------------------------------------------------------------------------------
# Order ids and evidence in the customer's words
# ----------------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"#?\b([A-Za-z]{0,6}[-_]?\d[A-Za-z0-9\-_]{0,30})\b")
_URL = re.compile(r"https?://\S+", re.I)
_DATE = re.compile(r"\b\d{1,4}[/.]\d{1,2}[/.]\d{1,4}\b|\b\d{4}-\d{2}-\d{2}\b")
_ATTACHMENT = re.compile(r"\[(photo|picture|image|video|receipt)(?::\s*([^\]]{1,80}))?\]", re.I)


def extract_order_ids(message: str) -> list[str]:
    """Tokens that could be order ids (letters+digits like ORD-10023, or #10023), in order of appearance."""
    found: list[str] = []
    without_urls = _DATE.sub(" ", _URL.sub(" ", message or ""))
    for m in _TOKEN.finditer(without_urls):
        token = m.group(1).strip("-_")
        digits = sum(c.isdigit() for c in token)
        prefixed = bool(re.match(r"^[A-Za-z]+[-_]", token))
        if digits < 3 and not (prefixed and digits >= 2):
            continue
        if token not in found:
            found.append(token)
    return found


def extract_evidence(message: str) -> list[str]:
    """Evidence the customer sends: links, or simulated attachments typed as [photo], [video], [receipt]."""
    urls = [u.rstrip(").,;!?\"'") for u in _URL.findall(message or "")]
    for kind, name in _ATTACHMENT.findall(message or ""):
        kind = kind.lower()
        ext = {"photo": "jpg", "picture": "jpg", "image": "jpg", "video": "mp4", "receipt": "pdf"}[kind]
        label = re.sub(r"[^A-Za-z0-9_-]+", "-", name.strip()).strip("-") or {"video": "video", "receipt": "receipt"}.get(kind, "photo")
        urls.append(f"test-attachment://{label}.{ext}" if kind != "receipt" else f"test-attachment://receipt-{label}.pdf")
    return urls


# ----------------------------------------------------------------------------------------------------------------
# Orders
# ----------------------------------------------------------------------------------------------------------------


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
    order_value: float = Field(49.0, ge=0)
    purchased_days_ago: int = Field(5, ge=0, le=3650)
    order_status: str = "delivered"
    quantity: int = Field(1, ge=1)

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


# ----------------------------------------------------------------------------------------------------------------
# Wording
# ----------------------------------------------------------------------------------------------------------------

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
_REASON_WORDS = {
    "damaged": "damaged items", "defective": "defective items", "wrong_item": "a wrong item sent",
    "not_as_described": "items not as described", "doesnt_fit": "items that don't fit", "changed_mind": "a change of mind",
    "late_delivery": "late delivery", "other": "other reasons",
}


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


# ----------------------------------------------------------------------------------------------------------------
# Conversation state, context, reply
# ----------------------------------------------------------------------------------------------------------------


class AgentState(BaseModel):
    """What the agent remembers between turns (kept in ``chat_sessions.metadata.agent_state``)."""

    pending: str | None = None  # return_reason | order_choice | evidence | status_order_choice
    order_id: str | None = None
    reason_text: str | None = None
    evidence: list[str] = Field(default_factory=list)
    evidence_asked: bool = False
    escalated: bool = False
    resolve_attempts: int = 0
    returns_opened: dict[str, dict[str, Any]] = Field(default_factory=dict)  # order_id -> {id, status}


class AgentContext(BaseModel):
    business_id: UUID
    session_id: UUID | None = None
    persona_id: UUID | None = None
    persona: PersonaStyle
    policy_version: str | None = None  # None: the business's active policy
    customer_email: str
    order_id: str | None = None
    chat_mode: str = "normal"
    shop_name: str | None = None
    simulated_orders: list[SimulatedOrder] = Field(default_factory=list)
    orders_anchor: datetime | None = None  # "now" for simulated orders: when the session was created


class TriageSummary(BaseModel):
    recommendation: str
    confidence: float
    reason_code: str
    risk_score: float
    policy_violations: list[str]
    risk_factors: list[str]
    rules_fired: list[dict[str, Any]]
    reasoning: str
    status: str


class OpenedReturn(BaseModel):
    id: int
    public_id: UUID
    order_id: str
    status: str


class AgentReply(BaseModel):
    reply: str
    intent: str
    confidence: float
    intent_via: str = "keywords"
    order_id: str | None = None
    order_source: str | None = None
    triage: TriageSummary | None = None
    return_opened: OpenedReturn | None = None
    escalated: bool = False
    latency_ms: int = 0
    phrased_by: str = "rules"
    policy_version: str | None = None
    state: AgentState

    def message_metadata(self) -> dict[str, Any]:
        """What is stored with the agent's turn in ``chat_messages.metadata``."""
        return self.model_dump(mode="json", exclude={"reply", "state"})


# ----------------------------------------------------------------------------------------------------------------
# Triage: the one place the engine is called
# ----------------------------------------------------------------------------------------------------------------


def customer_history(uow: UnitOfWork, email: str) -> CustomerHistory:
    """Live returns only (test returns never count against a customer) plus the risk profile."""
    row = uow.session.execute(
        text(
            """
            SELECT count(*) AS previous_returns,
                   count(*) FILTER (WHERE status = 'denied') AS previous_denied,
                   count(*) FILTER (WHERE created_at >= localtimestamp - interval '30 days') AS recent,
                   (SELECT p.risk_score FROM customer_risk_profiles p
                     WHERE p.business_id = :b AND p.customer_email = :e LIMIT 1) AS risk,
                   (SELECT p.return_frequency FROM customer_risk_profiles p
                     WHERE p.business_id = :b AND p.customer_email = :e LIMIT 1) AS frequency,
                   (SELECT p.fraud_indicators FROM customer_risk_profiles p
                     WHERE p.business_id = :b AND p.customer_email = :e LIMIT 1) AS indicators
            FROM return_requests WHERE business_id = :b AND customer_email = :e AND NOT is_test
            """
        ),
        {"b": uow.actor.business_id, "e": email},
    ).one()
    indicators = row.indicators if isinstance(row.indicators, dict) else {}
    return CustomerHistory(
        previous_returns=int(row.previous_returns or 0),
        previous_denied=int(row.previous_denied or 0),
        recent_returns_30d=int(row.recent or 0),
        profile_risk_score=float(row.risk) if row.risk is not None else None,
        return_frequency=row.frequency,
        fraud_indicators=indicators,
    )


def triage_return(order: OrderInfo, reason_text: str, evidence: list[str], rules: PolicyRules,
                  history: CustomerHistory, now: datetime) -> TriageResult:
    facts = ReturnFacts(
        order_value=order.order_value,
        days_since_purchase=max(0, (now - order.purchase_date).days),
        product_category=order.product_category or None,
        reason_text=reason_text,
        evidence_urls=evidence,
        fraud_flags={},
        order_known=True,
        history=history,
    )
    return evaluate(facts, rules)


def _summary(result: TriageResult) -> TriageSummary:
    return TriageSummary(
        recommendation=result.recommendation, confidence=result.confidence, reason_code=result.reason_code,
        risk_score=result.risk_score, policy_violations=result.policy_violations, risk_factors=result.risk_factors,
        rules_fired=[c.model_dump(mode="json") for c in result.rules_fired], reasoning=result.reasoning,
        status=result.status,
    )


# ----------------------------------------------------------------------------------------------------------------
# The turn
# ----------------------------------------------------------------------------------------------------------------


class _Turn:
    def __init__(self, uow: UnitOfWork, ctx: AgentContext, state: AgentState, message: str, transcript: list[dict]):
        self.uow = uow
        self.ctx = ctx
        self.state = state.model_copy(deep=True)
        self.message = message
        self.transcript = transcript
        self.voice = Voice(ctx.persona, ctx.chat_mode, ctx.shop_name)
        self.now: datetime = uow.session.execute(select(func.localtimestamp())).scalar()
        anchor = ctx.orders_anchor or self.now
        self.simulated = [o.materialise(ctx.customer_email, anchor) for o in ctx.simulated_orders]
        policy = load_policy(uow.session, ctx.business_id, ctx.policy_version or None)
        if policy is None:
            raise NotFound(f"Policy version {ctx.policy_version} no longer exists for this business."
                           if ctx.policy_version else "This business has no active return policy to test against.")
        self.rules = policy.rules
        self.policy_version = policy.version
        self.order: OrderInfo | None = None
        self.order_source: str | None = None
        self.triage: TriageSummary | None = None
        self.opened: OpenedReturn | None = None
        self.escalated = False

    # --- orders -------------------------------------------------------------------------------------------------
    def _lookup(self) -> OrderLookup:
        return lookup_order(
            self.uow, self.message, email=self.ctx.customer_email, conversation_order=self.state.order_id,
            session_order=self.ctx.order_id, simulated=self.simulated,
        )

    def _which_order(self, found: OrderLookup, pending: str) -> str:
        self.state.pending = pending
        v = self.voice
        if found.not_found:
            return f"I couldn't find {v.order_word()} {found.not_found}. " + v.ask("double-check the order number")
        if found.candidates:
            listed = "; ".join(f"{o.order_id} ({o.product_name}, {o.purchase_date:%Y-%m-%d})" for o in found.candidates)
            return f"I found {len(found.candidates)} orders for {self.ctx.customer_email}: {listed}. Which one is it about?"
        return f"I couldn't find any orders for {self.ctx.customer_email}. " + v.ask("tell me your order number")

    def _resolve_order(self, pending: str) -> tuple[OrderInfo | None, str | None]:
        found = self._lookup()
        if found.order is None:
            return None, self._which_order(found, pending)
        self.order, self.order_source = found.order, found.source
        self.state.order_id = found.order.order_id
        return found.order, None

    # --- intents ------------------------------------------------------------------------------------------------
    def return_request(self, complaint: bool) -> str:
        v = self.voice
        self.state.evidence.extend(e for e in extract_evidence(self.message) if e not in self.state.evidence)
        previous_pending = self.state.pending
        order, question = self._resolve_order("order_choice")
        if order is None:
            return (v.w("sorry") if complaint else "") + question
        already = self.state.returns_opened.get(order.order_id)
        if already:
            self.state.pending = None
            return (f"You already have test return #{already['id']} for {v.order_word()} {order.order_id}; "
                    f"its status is {already['status'].replace('_', ' ')}.")
        reason, _ = classify_reason(self.message)
        if reason != "other":
            self.state.reason_text = self.message.strip()
        elif previous_pending == "return_reason" and not self.state.reason_text:
            self.state.reason_text = self.message.strip()  # their own words; a person will read them
        if not self.state.reason_text:
            self.state.pending = "return_reason"
            prefix = v.w("sorry") if complaint else ""
            return prefix + v.ask(f"tell me why you'd like to return the {order.product_name} ({v.order_word()} {order.order_id})")
        missing = self._missing_evidence()
        if missing and not self.state.evidence_asked:
            self.state.pending = "evidence"
            self.state.evidence_asked = True
            return v.ask(f"attach {' and '.join('a ' + m for m in missing)} of the {order.product_name} so I can process the return")
        return self._decide(order, complaint)

    def _missing_evidence(self) -> list[str]:
        from dokani.triage.engine import _evidence_kinds  # the engine's own reading of evidence links

        have = _evidence_kinds(self.state.evidence)
        return [e for e in self.rules.required_evidence if e not in have]

    def _decide(self, order: OrderInfo, complaint: bool) -> str:
        started = time.perf_counter()
        history = customer_history(self.uow, self.ctx.customer_email)
        result = triage_return(order, self.state.reason_text or "", self.state.evidence, self.rules, history, self.now)
        self.triage = _summary(result)
        self.opened = self._open_return(order, result, history, int((time.perf_counter() - started) * 1000))
        self.state.returns_opened[order.order_id] = {"id": self.opened.id, "status": self.opened.status}
        self.state.pending, self.state.reason_text, self.state.evidence, self.state.evidence_asked = None, None, [], False
        v = self.voice
        ref = f"test return #{self.opened.id}"
        what = f"{v.order_word()} {order.order_id} ({order.product_name})"
        if result.recommendation == "auto_approve":
            return v.good(f"your return for {what} is approved. Your reference is {ref}.")
        if result.recommendation == "auto_deny":
            return (f"{v.w('sorry')}I can't accept the return for {what}: {self._why_not(order, result)}. "
                    f"I've recorded it as {ref} (denied).")
        self.escalated = True
        opener = v.w("sorry") if complaint else ""
        return (f"{opener}I've opened {ref} for {what} and passed it to our team for review: "
                f"{self._why_review(result)}. You'll hear back from a person soon.")

    def _why_not(self, order: OrderInfo, result: TriageResult) -> str:
        days = max(0, (self.now - order.purchase_date).days)
        parts = []
        for v in result.policy_violations:
            if v == "outside_return_window":
                parts.append(f"it was bought {days} days ago and the return window is {self.rules.window_for(order.product_category)} days")
            elif v == "final_sale":
                parts.append(f"{order.product_category} items are final sale")
            elif v == "reason_not_accepted":
                parts.append(f"our policy doesn't cover returns for {_REASON_WORDS.get(result.reason_code, result.reason_code)}")
        if not parts:
            parts.append("it doesn't meet our return policy")
        return " and ".join(parts)

    def _why_review(self, result: TriageResult) -> str:
        missing = [v.split(":", 1)[1] for v in result.policy_violations if v.startswith("missing_evidence:")]
        if missing:
            return f"there is no {' or '.join(missing)} yet"
        if result.reason_code == "other":
            return "a person should read your reason"
        return "it needs a closer look"

    def _open_return(self, order: OrderInfo, result: TriageResult, history: CustomerHistory, ms: int) -> OpenedReturn:
        decided = result.recommendation in ("auto_approve", "auto_deny")
        row = ReturnRequest(
            business_id=self.ctx.business_id,
            order_id=order.order_id,
            customer_email=self.ctx.customer_email,
            reason_for_return=self.state.reason_text,
            status=result.status,
            evidence_urls=list(self.state.evidence) or None,
            conversation_log={"chat_session_id": str(self.ctx.session_id) if self.ctx.session_id else None,
                              "messages": self.transcript[-20:] + [{"sender": "customer", "message": self.message}]},
            ai_recommendation=result.recommendation,
            risk_score=result.risk_score,
            fraud_flags=result.fraud_flags,
            triage_agent_id=ENGINE_ID,
            customer_service_agent_id=f"{AGENT_ID}:{self.ctx.persona_id}" if self.ctx.persona_id else AGENT_ID,
            processing_time_ms=ms,
            escalation_reason=result.reasoning if result.recommendation == "human_review" else None,
            policy_version_used=self.policy_version,
            admin_decision_at=self.now if decided else None,
            days_since_purchase=max(0, (self.now - order.purchase_date).days),
            order_value=order.order_value,
            product_category=order.product_category,
            ai_reasoning=result.reasoning,
            policy_violations=result.policy_violations,
            risk_factors=result.risk_factors,
            approved_at=self.now if result.recommendation == "auto_approve" else None,
            denied_at=self.now if result.recommendation == "auto_deny" else None,
            return_history=history.previous_returns,
            is_test=True,
            test_session_id=self.ctx.session_id,
        )
        self.uow.session.add(row)
        self.uow.session.flush()
        self.uow.session.refresh(row)
        audit.record(
            self.uow, "return_request.open_test", "return_requests", row.id, None,
            {"order_id": row.order_id, "status": row.status, "is_test": True, "chat_session_id": self.ctx.session_id,
             "policy_version": self.policy_version, "recommendation": result.recommendation},
            note="opened by the customer-service agent in the chat test lab",
        )
        return OpenedReturn(id=row.id, public_id=row.public_id, order_id=row.order_id, status=row.status or result.status)

    def order_status(self) -> str:
        order, question = self._resolve_order("status_order_choice")
        if order is None:
            return question
        self.state.pending = None
        v = self.voice
        line = (f"Your {v.order_word()} {order.order_id} ({order.product_name}, bought {order.purchase_date:%Y-%m-%d}) "
                f"is {order.order_status.replace('_', ' ')}.")
        opened = self.state.returns_opened.get(order.order_id)
        if opened:
            line += f" Your test return #{opened['id']} is {opened['status'].replace('_', ' ')}."
        return line

    def policy_question(self) -> str:
        t = _norm(self.message)
        r = self.rules
        category = self._category_in(t)
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
            parts.append("We accept returns for " + ", ".join(_REASON_WORDS.get(x, x) for x in r.acceptable_reasons) + ".")
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

    def _category_in(self, t: str) -> str | None:
        from dokani.policies.rules import KNOWN_CATEGORIES

        for c in KNOWN_CATEGORIES:
            stem = c[:-1] if c.endswith("s") else c
            if re.search(rf"\b{re.escape(stem)}", t):
                return c
        return None

    def escalate(self) -> str:
        v = self.voice
        if self.ctx.persona.escalation == "resolve_first" and self.state.resolve_attempts == 0:
            self.state.resolve_attempts += 1
            return ("I'd like to try to sort this out for you first. " + v.ask("tell me your order number and what went wrong")
                    + " If you'd still rather talk to a person, just ask again.")
        self.escalated = True
        self.state.escalated = True
        self.state.pending = None
        return "I'm handing this conversation to a human teammate now; they'll reply here shortly."

    def complaint(self) -> str:
        v = self.voice
        if self.ctx.persona.escalation == "transfer_immediately":
            return v.w("sorry") + self.escalate()
        if self.ctx.persona.escalation == "offer_human":
            return (v.w("sorry") + "I can help you right here: tell me your order number and what went wrong. "
                    "If you'd prefer, I can also hand you to a human teammate.")
        return v.w("sorry") + "Let me put this right. " + v.ask("tell me your order number and what went wrong")

    def run(self) -> AgentReply:
        started = time.perf_counter()
        guess = detect_intent(self.message, self.state.pending)
        intent = guess.intent
        complaint = "complaint" in guess.scores
        if intent == "return_request":
            reply = self.return_request(complaint)
        elif intent == "order_status":
            reply = self.order_status()
        elif intent == "policy_question":
            reply = self.policy_question()
        elif intent == "complaint":
            reply = self.complaint()
        elif intent == "escalate_to_human":
            reply = self.escalate()
        elif intent == "goodbye":
            self.state.pending = None
            reply = self.voice.goodbye()
        elif intent == "greeting":
            reply = self.voice.greeting()
        else:
            reply = "I can help with returns, order status and questions about our return policy. What would you like to do?"
        phrased, by = phrase(reply, self.ctx.persona)
        if self.order is None and self.opened is not None:
            self.order_source = "conversation"
        return AgentReply(
            reply=phrased, intent=intent, confidence=guess.confidence, intent_via=guess.via,
            order_id=self.order.order_id if self.order else None, order_source=self.order_source,
            triage=self.triage, return_opened=self.opened, escalated=self.escalated,
            latency_ms=int((time.perf_counter() - started) * 1000), phrased_by=by,
            policy_version=self.policy_version, state=self.state,
        )


def respond(uow: UnitOfWork, ctx: AgentContext, state: AgentState, message: str,
            transcript: list[dict] | None = None) -> AgentReply:
    """The agent's answer to one customer message. May open a test return (in the caller's transaction)."""
    return _Turn(uow, ctx, state, message, transcript or []).run()


def opening_line(style: PersonaStyle, chat_mode: str = "normal", shop: str | None = None) -> str:
    return Voice(style, chat_mode, shop).greeting()


# ----------------------------------------------------------------------------------------------------------------
# Optional phrasing by an OpenAI-compatible endpoint
# ----------------------------------------------------------------------------------------------------------------

_PROTECTED = re.compile(r"#?\b[A-Za-z]*[-_]?\d[\w\-.%]*\b|\b(approved|denied|review|final sale)\b", re.I)


def llm_settings() -> dict[str, Any] | None:
    url = os.environ.get("DOKANI_AGENT_LLM_URL", "").strip()
    model = os.environ.get("DOKANI_AGENT_LLM_MODEL", "").strip()
    if not url or not model:
        return None
    return {
        "url": url.rstrip("/") + ("" if url.rstrip("/").endswith("/chat/completions") else "/chat/completions"),
        "model": model,
        "key": os.environ.get("DOKANI_AGENT_LLM_API_KEY", ""),
        "timeout": float(os.environ.get("DOKANI_AGENT_LLM_TIMEOUT", "8") or 8),
    }


def phrase(reply: str, style: PersonaStyle) -> tuple[str, str]:
    """(text, 'llm') when the configured endpoint rephrased it faithfully, else (reply, 'rules')."""
    settings = llm_settings()
    if settings is None:
        return reply, "rules"
    body = {
        "model": settings["model"],
        "temperature": 0,
        "messages": [
            {"role": "system", "content": (
                f"You are {style.persona_name}, a customer-service agent with a {style.tone} tone. Rephrase the "
                "reply you are given in that tone. Keep every fact, order id, number and decision exactly; add "
                "no promises or facts. Answer with the reply only.")},
            {"role": "user", "content": reply},
        ],
    }
    request = urllib.request.Request(
        settings["url"], data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {settings['key']}"} if settings["key"] else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings["timeout"]) as response:
            payload = json.loads(response.read().decode("utf-8"))
        text_ = str(payload["choices"][0]["message"]["content"]).strip()
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError, TypeError):
        return reply, "rules"
    if not text_ or len(text_) > 4 * len(reply) + 200:
        return reply, "rules"
    lowered = text_.lower()
    if any(m.group(0).lower().lstrip("#") not in lowered for m in _PROTECTED.finditer(reply)):
        return reply, "rules"  # a fact or decision went missing: keep the engine's words
    return text_, "llm"
