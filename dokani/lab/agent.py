"""The customer-service agent the chat test lab talks to: one customer turn in, one reply out. No UI here.

Deterministic by default: the same conversation against the same data gives the same replies.
A turn reads the customer's words (``intents``), finds the order (``orders``), asks the engine and opens a
test return when a return is complete (``decisions``), words the reply in the persona's voice (``replies``)
and may let a language model rephrase it (``phrasing``). What the agent remembers between turns is the
``AgentState`` kept in the session.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from db.uow import UnitOfWork
from dokani.errors import NotFound
from dokani.lab import replies
from dokani.lab.decisions import (
    OpenedReturn, TestReturnDraft, TriageSummary, customer_history, open_test_return, summarise, triage_return,
)
from dokani.lab.intents import detect_intent, extract_evidence
from dokani.lab.orders import OrderInfo, OrderLookup, SimulatedOrder, lookup_order
from dokani.lab.personas import PersonaStyle
from dokani.lab.phrasing import phrase
from dokani.lab.replies import Voice
from dokani.policies.rules import load_policy
from dokani.triage.engine import CustomerHistory, TriageResult, classify_reason


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


class _Turn:
    """One customer message and the agent's work on it: find the order, follow the intent, word the reply."""

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
        self.triage = summarise(result)
        self.opened = self._open_return(order, result, history, int((time.perf_counter() - started) * 1000))
        self.state.returns_opened[order.order_id] = {"id": self.opened.id, "status": self.opened.status}
        self.state.pending, self.state.reason_text, self.state.evidence, self.state.evidence_asked = None, None, [], False
        v = self.voice
        ref = f"test return #{self.opened.id}"
        what = f"{v.order_word()} {order.order_id} ({order.product_name})"
        if result.recommendation == "auto_approve":
            return v.good(f"your return for {what} is approved. Your reference is {ref}.")
        if result.recommendation == "auto_deny":
            return (f"{v.w('sorry')}I can't accept the return for {what}: {replies.why_not(order, result, self.rules, self.now)}. "
                    f"I've recorded it as {ref} (denied).")
        self.escalated = True
        opener = v.w("sorry") if complaint else ""
        return (f"{opener}I've opened {ref} for {what} and passed it to our team for review: "
                f"{replies.why_review(result)}. You'll hear back from a person soon.")

    def _open_return(self, order: OrderInfo, result: TriageResult, history: CustomerHistory, ms: int) -> OpenedReturn:
        return open_test_return(self.uow, order, result, history, TestReturnDraft(
            business_id=self.ctx.business_id, session_id=self.ctx.session_id, persona_id=self.ctx.persona_id,
            customer_email=self.ctx.customer_email, reason_text=self.state.reason_text, evidence=self.state.evidence,
            messages=self.transcript[-20:] + [{"sender": "customer", "message": self.message}],
            policy_version=self.policy_version, now=self.now, processing_time_ms=ms,
        ))

    def order_status(self) -> str:
        order, question = self._resolve_order("status_order_choice")
        if order is None:
            return question
        self.state.pending = None
        line = replies.order_status(self.voice, order, self.rules, self.now)
        opened = self.state.returns_opened.get(order.order_id)
        if opened:
            line += f" Your test return #{opened['id']} is {opened['status'].replace('_', ' ')}."
        return line

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
            reply = replies.policy_answer(self.message, self.rules)
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
