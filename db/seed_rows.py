"""Rows of the demo data set, table by table: small tables as tuples (psycopg adapts them), the big ones
(orders, returns, risk profiles) as ready COPY text lines, built from precomputed choices in one pass.

Every generator draws from its own ``random.Random`` derived from (seed, stage, business), so a stage's
rows do not change when another stage changes.
"""
from __future__ import annotations

import json
import random
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from uuid import UUID

from db import seed_content as C
from db.demo import BUSINESSES, DEMO_PASSWORD, DemoBusiness, DemoUser, demo_uuid, roles_of
from db.seed_history import (
    AT, AuditWriter, PolicyTimeline, TriageMemo, arrival_ages, settle, triage_audit,
)
from dokani.triage.engine import ENGINE_ID, classify_reason

STATUSES = ["pending_triage", "pending_review", "approved", "denied", "escalated", "completed"]
PT, PR, AP, DN, ES, CO = range(6)
STATUS_INDEX = {s: k for k, s in enumerate(STATUSES)}
POLICY_VERSIONS = ["v1.0", "v1.1", "v1.2-draft"]
POLICY_AGE_DAYS = [470, 120, 3]  # created this many days before the anchor (v1.0 was in force until v1.1)
TRANSCRIBED_CALLS = 2_000  # calls with a transcript, over all businesses
SERVICE_AGENT = "cs-agent-v2"
# The first business's story: nobody has run triage for two and a half days, and its reviewer is back from two
# weeks off, so it has a queue to work; the others triage within hours and review within a day or so.
FIRST_BACKLOG_TRIAGE_H = 60
FIRST_BACKLOG_REVIEW_H = 16 * 24
TRIAGE_ROUND_H = 30  # the other shops last ran triage yesterday evening
REVIEW_ROUND_H = 40  # the other shops' reviewers last went through their queue the day before yesterday


def rng_for(seed: int, *parts) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


UUID_MASK = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
UUID_V4 = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


def sorted_ids(rng: random.Random, n: int) -> list[str]:
    """``n`` random (version 4) UUIDs in ascending order: handed out in row order, the primary key index
    of a bulk load grows at its right edge instead of touching a random page per row."""
    ids = sorted((rng.getrandbits(128) & UUID_MASK) | UUID_V4 for _ in range(n))
    return [f"{i:032x}" for i in ids]


# UUIDv7: 48-bit unix milliseconds, version 7, 12 random bits, RFC 4122 variant, 62 random bits
V7_BITS = (0x7 << 76) | (0b10 << 62)
V7_RANDOM = (0xFFF << 64) | ((1 << 62) - 1)


def random_uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def to_json(value) -> str:
    return json.dumps(value, separators=(", ", ": "))


NULL = "\\N"  # COPY text format
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def esc(value: str) -> str:
    """A value for a COPY text line: backslash, tab and line breaks escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


@dataclass
class Business:
    index: int
    demo: DemoBusiness
    users: list[DemoUser]
    prefix: str
    catalogue: list[tuple[str, str, float]]
    n_returns: int
    n_customers: int
    n_calls: int
    first_return_id: int = 1
    first_order_id: int = 1
    personas: list[tuple[UUID, str, str, dict]] = field(default_factory=list)  # (id, provider, slug, data)
    customers: list[str] = field(default_factory=list)
    chat_sessions: list[UUID] = field(default_factory=list)
    # filled by the returns pass
    cust_returns: array = field(default_factory=lambda: array("i"))
    flagged: list[tuple] = field(default_factory=list)  # (return id, email, triaged at, pattern, closed at)
    linked: list[tuple] = field(default_factory=list)  # (return id, email, age_h, reason text, status)
    timeline: PolicyTimeline | None = None
    audit: AuditWriter | None = None
    about: dict = field(default_factory=dict)  # reason code -> [return index] with a known order (for calls)
    first_return: dict = field(default_factory=dict)  # customer index -> created of their first return
    sk: object = None  # the returns' Skeleton, kept until the calls are written (they cite returns)
    triage_calls: int = 0  # evaluations the engine ran for this business (the rest were memo hits)
    asked_of: dict = field(default_factory=dict)  # customer index -> when they asked for each return, in order
    prior_denied: array = field(default_factory=lambda: array("i"))  # return index -> earlier returns denied by then

    def age_of(self, i: int) -> float:
        return self.sk.age_h[i]

    def product_of(self, i: int) -> int:
        return self.sk.product[i]

    def email_of(self, i: int) -> str:
        return self.customers[self.sk.customer[i]]

    def order_of(self, i: int) -> str:
        return f"{self.prefix}-{1_000_000 + i}"

    @property
    def id(self) -> UUID:
        return self.demo.business_id

    def user(self, slug: str) -> DemoUser:
        return next(u for u in self.users if u.slug == slug)


def plan_businesses(count: int, returns: int, customers: int, calls: int) -> list[Business]:
    """The businesses to seed, with their share of returns, customers and calls (the first takes the remainder)."""
    count = max(count, 1)
    out: list[Business] = []

    def split(total: int, minimum: int) -> list[int]:
        share = [total // count] * count
        share[0] += total - sum(share)
        return [max(s, minimum) for s in share]

    returns_of = split(returns, 1)
    customers_of = split(customers, 6)
    calls_of = split(calls, 6)
    for i in range(count):
        if i < len(BUSINESSES):
            demo = BUSINESSES[i]
        else:
            n = i + 1
            demo = DemoBusiness(f"shop{n}", f"Demo Shop {n}", f"https://demo-shop-{n}.example", "free")
        users = [DemoUser(demo.key, slug, role, f"{label} ({demo.name})") for slug, role, label in roles_of(demo.key)]
        if demo.key in C.CATALOGUES:
            prefix, catalogue = C.CATALOGUES[demo.key]
        else:
            prefix, catalogue = f"S{i + 1:02d}", C.GENERIC_CATALOGUE
        out.append(Business(i, demo, users, prefix, catalogue, returns_of[i], customers_of[i], calls_of[i]))
    rid = oid = 1
    for b in out:
        b.first_return_id, b.first_order_id = rid, oid
        rid += b.n_returns
        oid += b.n_returns + b.n_returns // 5
    return out


def customer_emails(seed: int, b: Business) -> list[str]:
    rng = rng_for(seed, "customers", b.index)
    firsts, lasts, domains = C.FIRST_NAMES, C.LAST_NAMES, C.EMAIL_DOMAINS
    out = []
    for n in range(b.n_customers):
        out.append(f"{rng.choice(firsts)}.{rng.choice(lasts)}{n + 1}@{rng.choice(domains)}")
    return out


# ---------------------------------------------------------------------------------------------------------------
# rows, table by table


def demo_password_hash() -> str:
    """bcrypt of DEMO_PASSWORD with a fixed salt, so the seed stays deterministic (demo data only)."""
    import bcrypt

    return bcrypt.hashpw(DEMO_PASSWORD.encode(), b"$2b$10$" + b"dokanidemodokanidemode").decode()


def user_rows(bizs: list[Business], anchor: datetime):
    password = demo_password_hash()
    for b in bizs:
        for k, u in enumerate(b.users):
            yield (u.user_id, u.email, anchor - timedelta(days=480 - 7 * b.index - k), password)


def profile_rows(bizs: list[Business], anchor: datetime):
    for b in bizs:
        yield (b.demo.owner_id, anchor - timedelta(days=480 - 7 * b.index), b.demo.name, b.demo.website, b.demo.plan,
               True, b.id)


def member_rows(bizs: list[Business], anchor: datetime):
    for b in bizs:
        for k, u in enumerate(b.users):
            yield (b.id, u.user_id, u.role, u.display_name, u.email, anchor - timedelta(days=480 - 7 * b.index - k))


def policy_rows(bizs: list[Business], anchor: datetime):
    """v1.0 was in force until v1.1 took over (its activation history follows: migration 0008), v1.2 is a draft."""
    pid = 0
    for b in bizs:
        created = [anchor - timedelta(days=POLICY_AGE_DAYS[v], hours=3 * b.index) for v in range(3)]
        for v, version in enumerate(POLICY_VERSIONS):
            pid += 1
            effective = created[v] if v < 2 else anchor + timedelta(days=14)
            state = ["retired", "active", "draft"][v]
            yield (pid, created[v], b.id, version, v == 1, effective, to_json(C.policy_rules(v, b.demo.key)), "{}", "{}",
                   state, created[1] if v == 0 else None)


def persona_rows(bizs: list[Business], anchor: datetime):
    for b in bizs:
        b.personas = []
        for k, (slug, name, data) in enumerate(C.VOICE_PERSONAS + C.VIDEO_PERSONAS):
            provider = "elevenlabs" if slug.startswith("voice") else "tavus"
            cfg = {key: (val.format(shop=b.demo.name) if isinstance(val, str) else val) for key, val in data.items()}
            pid = demo_uuid(f"persona/{b.demo.key}/{slug}")
            if provider == "elevenlabs":
                cfg["agent_id"] = f"agent_{b.demo.key}_{slug.split('-')[1]}"
            else:
                cfg["persona_id"] = f"p{pid.hex[:10]}"
            b.personas.append((pid, provider, slug, cfg))
            created = anchor - timedelta(days=180 - 10 * k)
            yield (pid, b.id, provider, name, to_json(cfg), True, created, created + timedelta(days=5), k == 0)


_ORDER_STATUS_OF = {CO: "returned", AP: "return_approved"}


class Skeleton:
    """What decides a business's returns (and the orders they cite): compact arrays, oldest first.

    ``status`` is filled in by the returns pass (the engines decide it), which runs before the orders."""

    def __init__(self, seed: int, b: Business, anchor: datetime):
        rng = rng_for(seed, "skeleton", b.index)
        n = b.n_returns
        self.age_h = array("d", arrival_ages(rng, n, anchor))
        self.status = bytearray(n)
        nc, nprod = b.n_customers, len(b.catalogue)
        rand = rng.random
        # most customers return once or twice a year, a few much more often
        self.customer = array("i", (int(nc * rand() ** 1.25) for _ in range(n)))
        self.product = array("h", (int(nprod * rand()) for _ in range(n)))
        self.qty = bytes(1 if rand() < 0.85 else 2 for _ in range(n))
        # days since purchase: most within a month, a few well after the window closed
        self.days = array("h", (int(1 + 27 * rand() ** 1.3) if rand() < 0.92 else int(28 + 25 * rand())
                                for _ in range(n)))
        self.known = bytes(0 if rand() < 0.01 else 1 for _ in range(n))
        days, product = self.days, self.product
        for i, p in enumerate(product):  # gadgets come back sooner (their window is shorter)
            if b.catalogue[p][1] == "electronics":
                days[i] = 1 + days[i] // 2


def order_lines(seed: int, b: Business, sk: Skeleton, anchor: datetime):
    """COPY lines of a business's orders: one per return it cites (unless unknown), then a fifth more unreturned."""
    rng = rng_for(seed, "orders", b.index)
    rand = rng.random
    cat = [(esc(name), category, price) for name, category, price in b.catalogue]
    cust, prefix, bid = b.customers, b.prefix, str(b.id)
    hour = timedelta(hours=1)
    oid = b.first_order_id
    for i in range(b.n_returns):
        oid += 1
        if not sk.known[i]:
            continue
        name, category, price = cat[sk.product[i]]
        q = sk.qty[i]
        purchased = anchor - sk.age_h[i] * hour - (24 * sk.days[i] + 6 * rand()) * hour
        yield (f"{oid - 1}\t{prefix}-{1_000_000 + i}\t{purchased}\t{cust[sk.customer[i]]}\t{name}\t{category}\t"
               f"{price:.2f}\t{_ORDER_STATUS_OF.get(sk.status[i], 'delivered')}\t{q}\t{price * q:.2f}\t{bid}\n")
    n, nc, nprod = b.n_returns, len(cust), len(cat)
    for k in range(n // 5):  # orders nobody returned
        name, category, price = cat[int(nprod * rand())]
        q = 1 if rand() < 0.8 else 2
        purchased = anchor - (2 + 4300 * rand()) * hour
        status = "delivered" if rand() < 0.93 else "shipped"
        yield (f"{oid}\t{prefix}-{1_000_000 + n + k}\t{purchased}\t{cust[int(nc * rand())]}\t{name}\t{category}\t"
               f"{price:.2f}\t{status}\t{q}\t{price * q:.2f}\t{bid}\n")
        oid += 1


RETURN_COLUMNS = (
    "id, public_id, created_at, business_id, order_id, customer_email, reason_for_return, status, evidence_urls, "
    "conversation_log, ai_recommendation, admin_notes, risk_score, fraud_flags, triage_agent_id, "
    "customer_service_agent_id, processing_time_ms, escalation_reason, policy_version_used, admin_decision_at, "
    "days_since_purchase, order_value, product_category, customer_satisfaction_score, ai_reasoning, "
    "policy_violations, risk_factors, approved_at, denied_at, return_history, ai_confidence, triage_details"
)


def return_lines(seed: int, b: Business, sk: Skeleton, anchor: datetime):
    """COPY lines of a business's return requests, oldest first: each triaged by the engine under the policy version
    in force when it arrived, then decided the way ``db.seed_history.settle`` tells (the hot loop of a scale run)."""
    rng = rng_for(seed, "returns", b.index)
    rand, randint, getrandbits = rng.random, rng.randint, rng.getrandbits
    review_rng = rng_for(seed, "reviews", b.index)
    cat, cust, prefix, bid = b.catalogue, b.customers, b.prefix, str(b.id)
    n, nc = b.n_returns, len(cust)
    b.cust_returns = array("i", bytes(4 * nc))
    # when each customer's denied returns counted as denied (dokani.triage.history: denied, else decided, else asked)
    denials_of: dict[int, list] = {}
    # when each customer asked for their returns so far, in order (the windows of dokani.triage.history count these)
    asked_of: dict[int, list[datetime]] = {}
    b.asked_of = asked_of
    prior_denied = b.prior_denied = array("i")
    month = timedelta(days=30)
    cust_returns = b.cust_returns
    flagged, linked, about, first_return = b.flagged, b.linked, b.about, b.first_return
    flagged.clear()
    linked.clear()
    about.clear()
    first_return.clear()
    memo = TriageMemo()
    timeline = b.timeline
    audit = b.audit = AuditWriter(bid)
    reviewer, second = b.user("reviewer"), b.user("owner")

    weighted = [k for k, w in enumerate(C.REASON_WEIGHTS) for _ in range(w)]
    no_fit = C.REASONS.index("doesnt_fit")
    reasons_of = [weighted if category in C.FITTING_CATEGORIES else [r for r in weighted if r != no_fit]
                  for _, category, _ in cat]
    # (reason, product) -> [(text, its JSON)], precomputed; only {days} is filled in per row
    texts = [
        [[(t, to_json(t)) for t in (tpl.format(product=cat[p][0], days="{days}", defect=d)
                               for tpl in C.REASON_TEXTS[r] for d in C.DEFECTS[cat[p][1]][: 3 if r == "defective" else 1])]
         for p in range(len(cat))]
        for r in C.REASONS
    ]
    replies = [[to_json(t.format(product=name)) for t in C.AGENT_REPLIES] for name, _, _ in cat]
    follow_ups = [to_json(t) for t in C.CUSTOMER_FOLLOW_UPS]
    flag_json: dict[tuple, str] = {(): "{}"}
    hostile_left = 3 if b.index == 0 else 0
    no_triage_after = anchor - timedelta(hours=FIRST_BACKLOG_TRIAGE_H if b.index == 0 else TRIAGE_ROUND_H)
    no_review_after = anchor - timedelta(hours=FIRST_BACKLOG_REVIEW_H if b.index == 0 else REVIEW_ROUND_H)
    evidence_base = f"https://evidence.dokani.example/{b.demo.key}"
    rid = b.first_return_id - 1
    N = NULL
    hour, minute, second_ = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)
    anchor_ms = int(anchor.replace(tzinfo=timezone.utc).timestamp() * 1000)
    statuses = STATUSES
    status_of, age_of, customer_of, product_of = sk.status, sk.age_h, sk.customer, sk.product
    qty_of, days_of, known_of = sk.qty, sk.days, sk.known

    for i in range(n):
        rid += 1
        age_h = age_of[i]
        created = anchor - age_h * hour
        c = customer_of[i]
        email = cust[c]
        p = product_of[i]
        name, category, price = cat[p]
        value = round(price * qty_of[i], 2)
        days = days_of[i]
        choices = reasons_of[p]
        reason = choices[int(len(choices) * rand())]
        history = cust_returns[c]
        known = bool(known_of[i])
        order_id = f"{prefix}-{1_000_000 + i}" if known else f"{prefix}-{randint(100000, 999999)}"
        if c not in first_return:
            first_return[c] = created

        options = texts[reason][p]
        text, text_json = options[int(len(options) * rand())]
        if "{days}" in text:
            text = text.replace("{days}", str(days))
            text_json = text_json.replace("{days}", str(days))
        t0 = created - (30 + 90 * rand()) * minute
        r_replies = replies[p]
        log_head = f'[{{"role": "customer", "text": '
        log_tail = (f', "at": "{t0.isoformat()}"}}, '
                    f'{{"role": "agent", "text": {r_replies[int(len(r_replies) * rand())]}, '
                    f'"at": "{(t0 + 40 * second_).isoformat()}"}}')
        if rand() < 0.55:
            log_tail += (f', {{"role": "customer", "text": {follow_ups[int(len(follow_ups) * rand())]}, '
                         f'"at": "{(t0 + 6 * minute).isoformat()}"}}')
        log_tail += "]"
        roll = rand()
        n_evidence = 0 if roll < 0.1 else 1 if roll < 0.64 else 2 if roll < 0.9 else 3
        receipt = rand() < 0.15
        urls = [f"{evidence_base}/{rid}/photo-{k}.jpg" for k in range(1, n_evidence + 1)]
        if receipt:
            urls.append(f"{evidence_base}/{rid}/receipt.pdf")
        evidence = ",".join(urls)

        # what the shop's fraud checks flagged on the return before triage (facts the engine reads)
        flags: tuple = ()
        if history >= 3 and rand() < 0.12:
            flags += ("serial_returner",)
        if n_evidence and rand() < 0.015:
            flags += ("evidence_reused",)
        if rand() < 0.015:
            flags += ("address_mismatch",)
        if rand() < 0.008:
            flags += ("chargeback_history",)
        if flags:
            flags = tuple(sorted(flags))
            flags_text = flag_json.get(flags) or flag_json.setdefault(flags, to_json({f: True for f in flags}))
        else:
            flags_text = "{}"
        # the customer's history as the facts query counts it: earlier returns, those denied, returns in 30 days
        asked = asked_of.get(c)
        n_recent = len(asked) - bisect_left(asked, created - month) if asked else 0
        denials = denials_of.get(c)
        denied_before = sum(1 for at in denials if at <= created) if denials else 0
        prior_denied.append(denied_before)

        lag = 0.1 + 6 * rand() ** 2  # triage runs a few times a day
        triaged_at = created + lag * hour
        policy = timeline.at(created) if timeline else None
        untriaged = policy is None or triaged_at > anchor or created > no_triage_after
        t = None
        csat = N
        if untriaged:
            status = PT
            triage = f"\\N\t\\N\t\\N\t{flags_text}\t\\N"  # recommendation, notes, risk, flags, agent
            tail = "\\N\t\\N\t\\N"  # processing time, escalation, policy version
            reasoning = confidence = details = N
            violations = factors = "[]"
            decided = approved = denied = N
            code = classify_reason(text)[0]
        else:
            t = memo.triage(policy, value, days, category, text, (n_evidence > 0, receipt), urls, flags, known, history,
                            denied_before, n_recent)
            d = settle(review_rng, t, triaged_at, anchor, no_review_after, history, denied_before, n_evidence, audit,
                       rid, reviewer, second, rid)
            if hostile_left and d.status == "pending_review":  # customer text that must be shown as text
                hostile = C.HOSTILE_TEXTS[3 - hostile_left].format(product=name)
                t2 = memo.triage(policy, value, days, category, hostile, (n_evidence > 0, receipt), urls, flags, known,
                                 history, denied_before, n_recent)
                if t2.rec == "human_review":
                    hostile_left -= 1
                    text, text_json, t = hostile, to_json(hostile), t2
            triage_audit(audit, triaged_at, rid, reviewer, rid, t, t.result.status)
            status = STATUS_INDEX[d.status]
            if status == DN:
                denials_of.setdefault(c, []).append(d.denied_at or d.decided_at or created)
            notes = N if d.notes is None else esc(d.notes)
            escalation = N if d.escalation is None else esc(d.escalation)
            triage = f"{t.rec}\t{notes}\t{t.risk}\t{flags_text}\t{ENGINE_ID}"
            tail = f"{1 + int(4 * rand())}\t{escalation}\t{policy.version}"
            reasoning, violations, factors, confidence = t.reasoning, t.violations, t.factors, t.confidence
            details = t.details.replace(AT, triaged_at.isoformat(timespec="seconds"))
            decided = N if d.decided_at is None else d.decided_at
            approved = N if d.approved_at is None else d.approved_at
            denied = N if d.denied_at is None else d.denied_at
            if (status == CO or status == DN) and rand() < 0.5:
                csat = float(int(1 + 5 * rand() ** 0.6) if status == CO else int(1 + 3 * rand()))
            closed = (d.decided_at or d.approved_at or d.denied_at) if status in (AP, DN, CO) else None
            for pattern in t.patterns:
                flagged.append((rid, email, triaged_at, pattern, closed, order_id))
            code = t.reason
        status_of[i] = status
        cust_returns[c] = history + 1
        if asked is None:
            asked_of[c] = [created]
        else:
            asked.append(created)
        if known:
            about.setdefault(code, []).append(i)
        if len(linked) < 12 and (status == PR or status == ES):
            linked.append((rid, email, age_h, text, status))

        # UUIDv7 (creation time first): the unique index grows at its right edge instead of at random pages
        public_id = f"{(anchor_ms - int(age_h * 3_600_000)) << 80 | V7_BITS | getrandbits(76) & V7_RANDOM:032x}"
        agent = SERVICE_AGENT if rand() < 0.7 else N
        yield (f"{rid}\t{public_id}\t{created}\t{bid}\t{order_id}\t{email}\t{esc(text)}\t{statuses[status]}\t"
               f"{{{evidence}}}\t{esc(log_head + text_json + log_tail)}\t{triage}\t{agent}\t{tail}\t{decided}\t{days}\t"
               f"{value:.2f}\t{category}\t{csat}\t{reasoning}\t{violations}\t{factors}\t{approved}\t"
               f"{denied}\t{history}\t{confidence}\t{details}\n")
    b.triage_calls = memo.calls



HISTORY_COLUMNS = "return_id, business_id, prior_returns, prior_30d, prior_90d, prior_365d, prior_denied"


def history_lines(b: Business):
    """COPY lines of ``return_history``: each return's counters as ``dokani.triage.history`` defines them (earlier
    returns, other returns asked in the 30 / 90 / 365 days up to it, earlier returns denied by then), from the
    returns pass's own record of when each customer asked and what was denied, instead of a window query after the
    load. ``tests/integration/test_seed.py`` checks that the definition's own fill then changes nothing."""
    bid, rid = str(b.id), b.first_return_id
    asked_of, prior_denied, customer_of = b.asked_of, b.prior_denied, b.sk.customer
    seen: dict[int, int] = {}
    windows = (timedelta(days=30), timedelta(days=90), timedelta(days=365))
    for i in range(b.n_returns):
        c = customer_of[i]
        k = seen.get(c, 0)  # earlier returns of this customer (generation order is (created_at, id) order)
        seen[c] = k + 1
        asked = asked_of[c]
        created = asked[k]
        peers = bisect_right(asked, created, k) - 1  # the window counts every other return up to this moment
        w30, w90, w365 = (peers - bisect_left(asked, created - w, 0, k + 1) for w in windows)
        yield f"{rid + i}\t{bid}\t{k}\t{w30}\t{w90}\t{w365}\t{prior_denied[i]}\n"


def risk_profile_lines(seed: int, b: Business, anchor: datetime):
    """COPY lines: one (not yet scored) risk profile per customer, in (business, email) order, with a stable id;
    ``dokani.risk.scoring`` fills in every score after the load (``db.seed.score_customers``)."""
    rng = rng_for(seed, "risk", b.index)
    bid = str(b.id)
    customers = b.customers
    first = b.first_return
    ids = iter(sorted_ids(rng, len(customers)))
    day = timedelta(days=1)
    for c in sorted(range(len(customers)), key=customers.__getitem__):
        created = first.get(c) or anchor - (30 + c % 300) * day
        yield f"{next(ids)}\t{customers[c]}\t{bid}\t\\N\t\\N\t{{}}\t{{}}\t{created}\t{created}\n"


def security_event_rows(seed: int, b: Business, anchor: datetime):
    """The security events triage opened (``dokani.triage.service.suspicious_patterns``), some resolved since."""
    rng = rng_for(seed, "security", b.index)
    rand = rng.random
    bid = b.id
    resolver = b.user("admin").user_id
    ids = iter(sorted_ids(rng, len(b.flagged)))
    for rid, email, at, pattern, closed, order_id in b.flagged:
        data = {"detail": pattern.detail, "source": ENGINE_ID, **pattern.data}
        if pattern.event_type == "unknown_order":
            data["order_id"] = order_id
        resolved_at = closed + timedelta(hours=1 + 48 * rand()) if closed is not None and rand() < 0.7 else None
        if resolved_at is not None and resolved_at > anchor:
            resolved_at = None
        resolved = resolved_at is not None
        yield (next(ids), pattern.event_type, bid, email, rid, pattern.severity, to_json(data), resolved,
               resolver if resolved else None, resolved_at, at)


def chat_rows(seed: int, b: Business, anchor: datetime, want_messages: bool):
    """Chat test sessions, or (want_messages) their messages: both from the same draws."""
    rng = rng_for(seed, "chat", b.index)
    rand, choice = rng.random, rng.choice
    n = max(8, min(600, b.n_returns // 40))
    tester = b.user("tester").user_id
    rules = C.policy_rules(1, b.demo.key)
    voice = [p for p in b.personas if p[1] == "elevenlabs"]
    b.chat_sessions = []
    for s in range(n):
        sid = random_uuid(rng)
        b.chat_sessions.append(sid)
        scenario, intent, script = C.CHAT_SCRIPTS[s % len(C.CHAT_SCRIPTS)]
        mode = C.CHAT_MODES[s % len(C.CHAT_MODES)]
        persona = choice(voice)
        policy = "v1.2-draft" if rand() < 0.25 else "v1.1"
        created = anchor - timedelta(hours=1 + 24 * 60 * rand() ** 1.5)
        email = b.customers[int(len(b.customers) * rand())]
        order = f"{b.prefix}-{1_000_000 + int(b.n_returns * rand())}"
        msgs = []
        t = created
        for k, (sender, line) in enumerate(script):
            t = t + timedelta(seconds=5 + int(60 * rand()))
            meta = {}
            if sender == "agent":
                meta = {"intent": intent, "confidence": round(0.6 + 0.39 * rand(), 2), "persona_id": str(persona[0]),
                        "policy_version": policy}
            msgs.append((random_uuid(rng), sid, sender, line.format(order=order, window=rules["return_window_days"]),
                         "text", to_json(meta), t))
        active = s < 2
        if not want_messages:
            meta = {"persona_id": str(persona[0]), "persona_name": persona[3]["persona_name"],
                    "policy_version": policy, "scenario": scenario}
            yield (sid, tester, b.id, f"Test: {scenario}", mode, "test_mode", active, to_json(meta), created, t, email)
        else:
            yield from msgs


def agent_log_rows(seed: int, b: Business, anchor: datetime):
    rng = rng_for(seed, "agentlogs", b.index)
    rand = rng.random
    for sid in b.chat_sessions:
        yield (random_uuid(rng), "customer_service", b.id, random_uuid(rng), sid,
               to_json({"turns": 2 + int(4 * rand()), "policy_lookups": int(3 * rand()), "escalated": rand() < 0.15}),
               round(0.55 + 0.44 * rand(), 2), 300 + int(2500 * rand()), round(1 + 4 * rand() ** 0.5, 1),
               anchor - timedelta(hours=1 + 1400 * rand()))
    for _ in range(max(10, min(500, b.n_returns // 20))):
        yield (random_uuid(rng), "triage", b.id, random_uuid(rng), None,
               to_json({"batch_size": 1 + int(20 * rand()), "auto_decided_pct": round(40 + 40 * rand(), 1)}),
               round(0.6 + 0.39 * rand(), 2), 400 + int(3000 * rand()), None,
               anchor - timedelta(hours=1 + 2000 * rand()))


def conversation_rows(seed: int, b: Business, anchor: datetime):
    rng = rng_for(seed, "conversations", b.index)
    rand = rng.random
    for rid, email, age_h, text, status in b.linked:
        created = anchor - timedelta(hours=age_h + 0.5)
        history = [{"role": "customer", "text": text, "at": created.isoformat()},
                   {"role": "agent", "text": "Thanks, I've passed this to our returns team.",
                    "at": (created + timedelta(seconds=30)).isoformat()}]
        channel = ["chat", "email", "voice"][int(3 * rand())]
        yield (random_uuid(rng), b.id, email, channel, rid, "escalated" if status == ES else "waiting_on_merchant",
               to_json([{"role": "customer", "email": email}, {"role": "agent", "id": SERVICE_AGENT}]), to_json(history),
               "return_request", 2 if status == ES else 1, "customer_service", 60 + int(600 * rand()),
               created, created + timedelta(minutes=12))


def persona_test_rows(seed: int, b: Business, anchor: datetime):
    rng = rng_for(seed, "persona_tests", b.index)
    rand = rng.random
    targets = [p for p in b.personas if p[2] in ("voice-ava", "video-nora")]
    for run in range(3):
        run_id = demo_uuid(f"suite/{b.demo.key}/{run}")
        started = anchor - timedelta(days=20 - 8 * run, hours=b.index)
        for persona in targets:
            for s, (slug, content, intent) in enumerate(C.PERSONA_SCENARIOS):
                ok = rand() < 0.65 + 0.12 * run
                actual = intent if ok else ["policy_question", "refund_request", "unknown"][int(3 * rand())]
                result = {"suite_run_id": str(run_id), "scenario": slug, "expected_intent": intent,
                          "actual_intent": actual, "policy_version": "v1.1" if run < 2 else "v1.2-draft",
                          "turns": 2 + int(4 * rand()), "passed": ok}
                yield (random_uuid(rng), b.id, persona[0], "scenario", content, to_json(result), ok,
                       None if ok else f"expected intent {intent}, got {actual}", 800 + int(4000 * rand()),
                       started + timedelta(seconds=30 * s))
