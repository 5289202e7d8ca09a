"""Reading the customer's words (no model, no database): the intent, order ids and evidence in a message.

- ``detect_intent``: keyword scoring over the customer's words, with the conversation's pending question
  (which order? why? a photo?) as context.
- ``extract_order_ids`` / ``extract_evidence``: order numbers, links and simulated attachments in the text.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from dokani.triage.engine import classify_reason

Intent = Literal[
    "return_request", "order_status", "policy_question", "complaint", "escalate_to_human", "goodbye", "greeting", "unknown"
]
INTENTS: tuple[str, ...] = (
    "return_request", "order_status", "policy_question", "complaint", "escalate_to_human", "goodbye", "greeting", "unknown",
)
# Ties go to the earlier intent.
_PRIORITY = ("escalate_to_human", "goodbye", "return_request", "order_status", "policy_question", "complaint", "greeting")

_PATTERNS: dict[str, list[tuple[re.Pattern[str], int]]] = {
    "return_request": [
        (re.compile(r"\b(return|returning|refund|refunded|send (it|this|them) back|money back|exchange|rma)\b"), 2),
        (re.compile(r"\b(want|like|need) to (return|send back|get a refund)\b"), 1),
    ],
    "order_status": [
        (re.compile(r"\bwhere('s| is)? my (order|package|parcel|delivery)\b"), 3),
        (re.compile(r"\b(status|progress) of (my |the |this |that |an? )?(order|package|parcel|delivery|shipment)\b"), 3),
        (re.compile(r"\b(track|tracking|order status|delivery date|shipped yet|dispatched)\b"), 2),
        (re.compile(r"\b(has|have|did|is) (my |the |this )?(order|package|parcel)\b.*"
                    r"\b(ship|shipped|dispatched|arrive|arrived|delivered|on (its|the) way)\b"), 2),
        (re.compile(r"\b(update|news) (on|about) (my |the )?(order|package|parcel|delivery)\b"), 2),
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



def normalise(text_: str) -> str:
    """Lower case, straight apostrophes, single spaces: the form every pattern here is written for."""
    return re.sub(r"\s+", " ", (text_ or "").lower().replace("’", "'")).strip()


def detect_intent(message: str, pending: str | None = None) -> IntentGuess:
    """The customer's intent from their words; `pending` is the agent's open question, if any."""
    t = normalise(message)
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
    if has_order_id and re.search(r"\bstatus\b", t):  # "what's the status of ATL-1002"
        scores["order_status"] = scores.get("order_status", 0) + 1
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


# Order ids and evidence in the customer's words

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
