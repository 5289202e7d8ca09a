"""Rows of the demo data set, table by table: small tables as tuples (psycopg adapts them), the big ones
(orders, returns, risk profiles) as ready COPY text lines, built from precomputed choices in one pass.

Every generator draws from its own ``random.Random`` derived from (seed, stage, business), so a stage's
rows do not change when another stage changes.
"""
from __future__ import annotations

import json
import random
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from uuid import UUID

from db import seed_content as C
from db.demo import BUSINESSES, DEMO_PASSWORD, DemoBusiness, DemoUser, demo_uuid, roles_of

STATUSES = ["pending_triage", "pending_review", "approved", "denied", "escalated", "completed"]
PT, PR, AP, DN, ES, CO = range(6)
STATUS_SHARE = [0.14, 0.22, 0.26, 0.12, 0.06, 0.20]
# (min, max) age in hours of a return in each status, counted back from the anchor
STATUS_AGE_HOURS = [(0.5, 96.0), (2.0, 192.0), (30.0, 2900.0), (30.0, 2900.0), (24.0, 500.0), (240.0, 4300.0)]
POLICY_VERSIONS = ["v1.0", "v1.1", "v1.2-draft"]
POLICY_AGE_DAYS = [200, 60, 3]  # created this many days before the anchor
TRANSCRIBED_CALLS = 2_000  # calls with a transcript, over all businesses
TRIAGE_AGENT = "triage-agent-v3"
SERVICE_AGENT = "cs-agent-v2"


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
    cust_flags: bytearray = field(default_factory=bytearray)
    cust_reason: bytearray = field(default_factory=bytearray)
    cust_value: array = field(default_factory=lambda: array("d"))
    flagged: list[tuple] = field(default_factory=list)  # (return id, email, flag, risk, status, age_h)
    linked: list[tuple] = field(default_factory=list)  # (return id, email, age_h, reason text, status)

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
            yield (u.user_id, u.email, anchor - timedelta(days=400 - 7 * b.index - k), password)


def profile_rows(bizs: list[Business], anchor: datetime):
    for b in bizs:
        yield (b.demo.owner_id, anchor - timedelta(days=400 - 7 * b.index), b.demo.name, b.demo.website, b.demo.plan,
               True, b.id)


def member_rows(bizs: list[Business], anchor: datetime):
    for b in bizs:
        for k, u in enumerate(b.users):
            yield (b.id, u.user_id, u.role, u.display_name, u.email, anchor - timedelta(days=400 - 7 * b.index - k))


def policy_rows(bizs: list[Business], anchor: datetime):
    pid = 0
    for b in bizs:
        for v, version in enumerate(POLICY_VERSIONS):
            pid += 1
            created = anchor - timedelta(days=POLICY_AGE_DAYS[v], hours=3 * b.index)
            effective = created if v < 2 else anchor + timedelta(days=14)
            yield (pid, created, b.id, version, v == 1, effective, to_json(C.policy_rules(v, b.demo.key)), "{}", "{}")


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
    """What decides a business's returns (and the orders they cite): compact arrays, oldest first."""

    def __init__(self, seed: int, b: Business):
        rng = rng_for(seed, "skeleton", b.index)
        n = b.n_returns
        quota = [int(n * s) for s in STATUS_SHARE]
        if b.index == 0:  # the first business always has a queue to work
            quota[PT] = max(quota[PT], min(15, n // 5))
            quota[PR] = max(quota[PR], min(25, n // 4))
        while sum(quota) > n:
            quota[quota.index(max(quota))] -= 1
        quota[AP] += n - sum(quota)
        pairs = []
        for status, count in enumerate(quota):
            lo, hi = STATUS_AGE_HOURS[status]
            for _ in range(count):
                pairs.append((lo + (hi - lo) * rng.random() ** 1.3, status))
        pairs.sort(key=lambda p: -p[0])
        self.age_h = array("d", (p[0] for p in pairs))
        self.status = bytes(p[1] for p in pairs)
        nc, nprod = b.n_customers, len(b.catalogue)
        rand = rng.random
        self.customer = array("i", (int(nc * rand() ** 1.8) for _ in range(n)))
        self.product = array("h", (int(nprod * rand()) for _ in range(n)))
        self.qty = bytes(1 if rand() < 0.85 else 2 for _ in range(n))
        self.days = array("h", (int(1 + 44 * rand() ** 1.4) for _ in range(n)))
        self.known = bytes(0 if rand() < 0.01 else 1 for _ in range(n))


def order_lines(seed: int, b: Business, sk: Skeleton, anchor: datetime):
    """COPY lines of a business's orders: one per return it cites (unless unknown), then a fifth more unreturned."""
    rng = rng_for(seed, "orders", b.index)
    rand = rng.random
    cat = [(esc(name), category, price) for name, category, price in b.catalogue]
    cust, prefix, bid = b.customers, b.prefix, b.id
    hour = timedelta(hours=1)
    oid = b.first_order_id
    for i in range(b.n_returns):
        oid += 1
        if not sk.known[i]:
            continue
        name, category, price = cat[sk.product[i]]
        q = sk.qty[i]
        purchased = anchor - (sk.age_h[i] + 24 * sk.days[i] + 6 * rand()) * hour
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
    "policy_violations, risk_factors, approved_at, denied_at, return_history"
)


def return_lines(seed: int, b: Business, sk: Skeleton, anchor: datetime):
    """COPY lines of a business's return requests (the hot loop of a scale run: lookups, no per-row JSON)."""
    rng = rng_for(seed, "returns", b.index)
    rand, randint, getrandbits = rng.random, rng.randint, rng.getrandbits
    cat, cust, prefix, bid = b.catalogue, b.customers, b.prefix, b.id
    n, nc = b.n_returns, len(cust)
    b.cust_returns = array("i", bytes(4 * nc))
    b.cust_flags = bytearray(nc)
    b.cust_reason = bytearray(nc)
    b.cust_value = array("d", bytes(8 * nc))
    cust_returns, cust_flags, cust_reason, cust_value = b.cust_returns, b.cust_flags, b.cust_reason, b.cust_value
    flagged, linked = b.flagged, b.linked
    flagged.clear()
    linked.clear()

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
    flag_names = [[f] for f in C.FRAUD_FLAGS] + [
        [f, g] for k, f in enumerate(C.FRAUD_FLAGS) for g in C.FRAUD_FLAGS[k + 1:]]
    flag_sets = [to_json({f: True for f in names}) for names in flag_names]
    flag_texts = [", ".join(names) for names in flag_names]
    flag_factors = [tuple(f for f in names if f in ("address_mismatch", "evidence_reused")) for names in flag_names]
    flag_bits = [1 << k for k in range(4)] + [(1 << k) | (1 << m) for k in range(4) for m in range(k + 1, 4)]
    n_flag_sets = len(flag_sets)
    json_lists: dict[tuple, str] = {}
    reasoning_templates = {k: [esc(t) for t in v] for k, v in C.AI_REASONING.items()}
    notes_of = [None, None] + [[esc(t) for t in C.ADMIN_NOTES[s]] for s in ("approved", "denied", "escalated",
                                                                             "completed")]
    escalations = [esc(t) for t in C.ESCALATION_REASONS]
    active_since_h = 24 * POLICY_AGE_DAYS[1] + 3 * b.index
    hostile_left = 3 if b.index == 0 else 0
    evidence_base = f"https://evidence.dokani.example/{b.demo.key}"
    rid = b.first_return_id - 1
    high_risk = "electronics"
    N = NULL
    triage_tail = "\\N\t{}\t\\N"  # risk, fraud flags, triage agent of an untriaged return
    hour, minute, second = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)
    anchor_ms = int(anchor.replace(tzinfo=timezone.utc).timestamp() * 1000)
    statuses = STATUSES
    status_of, age_of, customer_of, product_of = sk.status, sk.age_h, sk.customer, sk.product
    qty_of, days_of, known_of = sk.qty, sk.days, sk.known

    for i in range(n):
        rid += 1
        status = status_of[i]
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
        cust_returns[c] = history + 1
        cust_reason[c] = reason
        cust_value[c] += value
        order_id = f"{prefix}-{1_000_000 + i}" if known_of[i] else f"{prefix}-{randint(100000, 999999)}"

        options = texts[reason][p]
        text, text_json = options[int(len(options) * rand())]
        if "{days}" in text:
            text = text.replace("{days}", str(days))
            text_json = text_json.replace("{days}", str(days))
        if hostile_left and status == PR:
            hostile_left -= 1
            text = C.HOSTILE_TEXTS[2 - hostile_left].format(product=name)
            text_json = to_json(text)
        t0 = created - (30 + 90 * rand()) * minute
        r_replies = replies[p]
        log = (f'[{{"role": "customer", "text": {text_json}, "at": "{t0.isoformat()}"}}, '
               f'{{"role": "agent", "text": {r_replies[int(len(r_replies) * rand())]}, '
               f'"at": "{(t0 + 40 * second).isoformat()}"}}')
        if rand() < 0.55:
            log += (f', {{"role": "customer", "text": {follow_ups[int(len(follow_ups) * rand())]}, '
                    f'"at": "{(t0 + 6 * minute).isoformat()}"}}')
        log += "]"
        roll = rand()
        n_evidence = 0 if roll < 0.1 else 1 if roll < 0.64 else 2 if roll < 0.9 else 3
        evidence = ",".join([f"{evidence_base}/{rid}/photo-{k}.jpg" for k in range(1, n_evidence + 1)])

        # triage: a recommendation consistent with the status the return ended in
        if status == PT:
            triage = f"\\N\t\\N\t{triage_tail}"  # recommendation, notes, risk, flags, agent
            tail = "\\N\t\\N\t\\N"  # processing time, escalation, policy version
            reasoning = N
            violations = factors = "[]"
        else:
            roll = rand()
            if status == AP or status == CO:
                if roll < 0.6:
                    rec, risk = "auto_approve", 0.04 + 0.3 * rand()
                else:
                    rec, risk = "human_review", 0.35 + 0.35 * rand()
            elif status == DN:
                if roll < 0.55:
                    rec, risk = "auto_deny", 0.85 + 0.14 * rand()
                else:
                    rec, risk = "human_review", 0.5 + 0.35 * rand()
            elif status == ES:
                rec, risk = "human_review", 0.55 + 0.4 * rand()
            elif roll < 0.9:  # pending review
                rec, risk = "human_review", 0.35 + 0.5 * rand()
            else:
                rec, risk = "auto_deny", 0.85 + 0.1 * rand()
            risk = round(risk, 2)
            fac = []
            if value > 300:
                fac.append("high_order_value")
            if history >= 3:
                fac.append("serial_returner")
            if days > 30:
                fac.append("outside_return_window")
            if not n_evidence:
                fac.append("missing_evidence")
            if category == high_risk:
                fac.append("high_risk_category")
            flags = "{}"
            flag_text = "none"
            if risk >= 0.6 and rand() < 0.8:
                k = int(n_flag_sets * rand())
                flags = flag_sets[k]
                cust_flags[c] |= flag_bits[k]
                flag_text = flag_texts[k]
                fac.extend(flag_factors[k])
                if rand() < 0.4:
                    flagged.append((rid, email, flag_names[k][0], risk, status, age_h))
            key = tuple(fac)
            factors = json_lists.get(key) or json_lists.setdefault(key, to_json(list(key)))
            key = (days > 30, not n_evidence, value > 750)
            violations = json_lists.get(key) or json_lists.setdefault(key, to_json(
                [v for v, on in zip(("outside_return_window", "missing_required_evidence",
                                     "over_escalation_threshold"), key) if on]))
            policy = "v1.1" if age_h < active_since_h else "v1.0"
            options = reasoning_templates[rec]
            reasoning = options[int(len(options) * rand())].format(
                reason=C.REASONS[reason], policy=policy, value=f"{value:.2f}", risk=f"{risk:.2f}", max_risk="0.35",
                flags=flag_text, days=days, history=history)
            escalation = N
            notes = N
            if status != PR:
                options = notes_of[status]
                notes = options[int(len(options) * rand())]
                if rec == "auto_approve" and status == AP:
                    notes = f"Auto-approved under policy {policy}."
                if status == ES:
                    escalation = escalations[int(len(escalations) * rand())]
            triage = f"{rec}\t{notes}\t{risk}\t{flags}\t{TRIAGE_AGENT}"
            tail = f"{400 + int(2600 * rand())}\t{escalation}\t{policy}"

        decided = approved = denied = csat = N
        if status >= AP and status != PR:
            decided = created + (0.2 + min(age_h - 0.5, 40.0) * rand()) * hour
            if status == AP or status == CO:
                approved = decided
            elif status == DN:
                denied = decided
            if (status == CO or status == DN) and rand() < 0.5:
                csat = float(int(1 + 5 * rand() ** 0.6) if status == CO else int(1 + 3 * rand()))
        if len(linked) < 12 and (status == PR or status == ES):
            linked.append((rid, email, age_h, text, status))

        # UUIDv7 (creation time first): the unique index grows at its right edge instead of at random pages
        public_id = f"{(anchor_ms - int(age_h * 3_600_000)) << 80 | V7_BITS | getrandbits(76) & V7_RANDOM:032x}"
        agent = SERVICE_AGENT if rand() < 0.7 else N
        yield (f"{rid}\t{public_id}\t{created}\t{bid}\t{order_id}\t{email}\t{esc(text)}\t{statuses[status]}\t"
               f"{{{evidence}}}\t{esc(log)}\t{triage}\t{agent}\t{tail}\t{decided}\t{days}\t"
               f"{value:.2f}\t{category}\t{csat}\t{reasoning}\t{violations}\t{factors}\t{approved}\t"
               f"{denied}\t{history}\n")


def risk_profile_lines(seed: int, b: Business, anchor: datetime):
    """COPY lines: one risk profile per customer of the business, from what the returns pass counted."""
    rng = rng_for(seed, "risk", b.index)
    rand = rng.random
    bid = b.id
    indicators_of = [to_json({C.FRAUD_FLAGS[k]: True for k in range(4) if bits & (1 << k)}) for bits in range(16)]
    flag_count = [bin(bits).count("1") for bits in range(16)]
    channels = ["chat", "email", "voice", "video", "whatsapp"]
    hour, day = timedelta(hours=1), timedelta(days=1)
    counts, flags, reasons, values = b.cust_returns, b.cust_flags, b.cust_reason, b.cust_value
    customers = b.customers
    ids = iter(sorted_ids(rng, len(customers)))
    for c in sorted(range(len(customers)), key=customers.__getitem__):  # in (business, email) index order
        email = customers[c]
        count = counts[c]
        bits = flags[c]
        risk = round(min(0.98, 0.05 + 0.09 * count + 0.2 * flag_count[bits] + 0.1 * rand()), 2)
        channel = channels[int(5 * rand() ** 2)]
        wardrobing = "true" if count >= 4 and rand() < 0.5 else "false"
        if count:
            patterns = (f'{{"returns_total": {count}, "avg_return_value": {round(values[c] / count, 2)}, '
                        f'"last_reason": "{C.REASONS[reasons[c]]}", "preferred_channel": "{channel}", '
                        f'"wardrobing_suspected": {wardrobing}}}')
        else:
            patterns = (f'{{"returns_total": 0, "avg_return_value": null, "last_reason": null, '
                        f'"preferred_channel": "{channel}", "wardrobing_suspected": false}}')
        updated = anchor - (1 + 700 * rand()) * hour
        created = updated - (30 + int(300 * rand())) * day
        yield (f"{next(ids)}\t{email}\t{bid}\t{risk}\t{count}\t"
               f"{indicators_of[bits]}\t{patterns}\t{updated}\t{created}\n")


def security_event_rows(seed: int, b: Business, anchor: datetime):
    rng = rng_for(seed, "security", b.index)
    rand = rng.random
    bid = b.id
    resolver = b.user("admin").user_id
    severities = ["low", "medium", "high", "critical"]
    heavy = [c for c, count in enumerate(b.cust_returns) if count >= 5]
    ids = iter(sorted_ids(rng, len(b.flagged) + len(heavy)))
    for rid, email, flag, risk, status, age_h in b.flagged:
        sev = severities[min(3, int((risk - 0.55) * 9 + rand()))] if risk > 0.55 else "low"
        created = anchor - timedelta(hours=max(age_h - 0.05, 0.01))
        resolved = status in (AP, DN, CO) and rand() < 0.7
        data = {"flag": flag, "risk_score": risk, "detected_by": TRIAGE_AGENT, "return_request_id": rid}
        yield (next(ids), C.SECURITY_EVENT_TYPES[flag], bid, email, rid, sev, to_json(data),
               resolved, resolver if resolved else None,
               created + timedelta(hours=1 + 48 * rand()) if resolved else None, created)
    # customers with many returns in a short period
    for c in heavy:
        email, count = b.customers[c], b.cust_returns[c]
        created = anchor - timedelta(hours=2 + 600 * rand())
        resolved = rand() < 0.3
        data = {"returns_count": count, "threshold": 5, "detected_by": "risk-monitor"}
        yield (next(ids), "multiple_returns_short_period", bid, email, None,
               "critical" if count >= 12 else "high" if count >= 8 else "medium", to_json(data), resolved,
               resolver if resolved else None, created + timedelta(hours=4) if resolved else None, created)


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


CALL_STATUS = ["completed"] * 72 + ["abandoned"] * 14 + ["failed"] * 6 + ["in_progress"] * 2


def call_rows(seed: int, b: Business, anchor: datetime, out: list):
    """Call sessions; remembers (id, provider, status, duration, created, persona) in ``out`` for the children."""
    rng = rng_for(seed, "calls", b.index)
    rand, choice = rng.random, rng.choice
    voice = [p for p in b.personas if p[1] == "elevenlabs"]
    video = [p for p in b.personas if p[1] == "tavus"]
    chats = b.chat_sessions
    ids = sorted_ids(rng, b.n_calls)
    for k in range(b.n_calls):
        cid = UUID(ids[k])
        persona = video[0] if rand() < 0.35 else voice[0 if rand() < 0.7 else 1 % len(voice)]
        provider = persona[1]
        status = choice(CALL_STATUS)
        if k < 2:
            status = "in_progress" if k == 0 else "completed"
        if status == "in_progress":
            created = anchor - timedelta(minutes=1 + 15 * rand())
        else:
            created = anchor - timedelta(hours=0.5 + 24 * 90 * rand() ** 1.3)
        duration = {"completed": 60 + int(600 * rand()), "abandoned": 5 + int(90 * rand()), "failed": 0,
                    "in_progress": int((anchor - created).total_seconds())}[status]
        ended = created + timedelta(seconds=duration) if status != "in_progress" else None
        conv = f"{'conv' if provider == 'elevenlabs' else 'c'}_{cid.hex[:20]}"
        quality = {"completed": round(3 + 2 * rand(), 2), "abandoned": round(1.5 + 2 * rand(), 2),
                   "failed": round(1.5 * rand(), 2), "in_progress": None}[status]
        feedback = "{}"
        rating = None
        if status == "completed" and rand() < 0.6 or status == "abandoned" and rand() < 0.2:
            rating = max(1, min(5, int(quality + rand() * 1.2))) if quality is not None else 3
            feedback = to_json({"rating": rating, "comment": choice(C.CALL_FEEDBACK[rating])})
        cfg = persona[3]
        provider_data = {"persona_name": cfg["persona_name"], "language": cfg.get("language", "en")}
        if status == "failed":
            provider_data["error"] = choice(["microphone_permission_denied", "provider_timeout", "network_error"])
        chat = chats[int(len(chats) * rand())] if chats and rand() < 0.05 else None
        el = provider == "elevenlabs"
        out.append((cid, provider, status, duration, created, persona, k))
        yield (cid, chat, "voice" if el else "video", provider, conv, status, duration, to_json(provider_data), created,
               ended, cfg.get("agent_id") if el else None, conv if el else None, None if el else cfg["replica_id"],
               None if el else conv, None if el else f"https://tavus.daily.co/{conv}", "{}", status == "in_progress",
               persona[0], quality, feedback, ended or anchor)


def transcript_rows(seed: int, b: Business, calls: list, cap: int):
    rng = rng_for(seed, "transcripts", b.index)
    rand = rng.random
    done = 0
    for cid, provider, status, duration, created, persona, k in calls:
        if done >= cap:
            break
        if status == "failed":
            continue
        done += 1
        script = C.CALL_SCRIPTS[k % len(C.CALL_SCRIPTS)]
        lines = script if status != "abandoned" else script[:3]
        name, _, _ = b.catalogue[k % len(b.catalogue)]
        order = f"{b.prefix}-{1_000_000 + k % max(b.n_returns, 1)}"
        step = max(duration, 10) / (len(lines) + 1)
        for s, line in enumerate(lines):
            ts = round(step * s + step * 0.8 * rand(), 1)
            speaker = "agent" if s % 2 == 0 else "customer"
            text = line.format(shop=b.demo.name, persona=persona[3]["persona_name"], product=name, order=order)
            yield (random_uuid(rng), cid, speaker, text, ts, created + timedelta(seconds=ts), status == "in_progress",
                   "completed", True, speaker == "agent", s)


def analytics_rows(seed: int, b: Business, calls: list):
    rng = rng_for(seed, "analytics", b.index)
    rand, choice = rng.random, rng.choice
    ids = iter(sorted_ids(rng, len(calls)))
    for cid, provider, status, duration, created, persona, k in calls:
        if status == "in_progress":
            continue
        p50 = 350 + int(500 * rand())
        resolution = ("unresolved" if status != "completed" else
                      "escalated" if rand() < 0.18 else "resolved" if rand() < 0.9 else "unresolved")
        metrics = {
            "latency_ms_p50": p50, "latency_ms_p95": p50 + 200 + int(900 * rand()),
            "interruptions": int(6 * rand() ** 2), "sentiment": round(-1 + 2 * rand() ** 0.7, 2),
            "resolution": resolution, "words_per_minute": 110 + int(60 * rand()),
            "turns": max(0, duration // 25),
        }
        events = [{"t": 0, "type": "call_started"}]
        if status == "failed":
            events.append({"t": 0, "type": "call_failed"})
        else:
            events.append({"t": 1, "type": "greeting_played"})
            events.append({"t": min(duration, 8 + int(20 * rand())), "type": "intent_detected",
                           "intent": choice(["refund_request", "exchange_request", "refund_status", "escalation"])})
            if resolution == "escalated":
                events.append({"t": max(duration - 30, 1), "type": "escalation_requested"})
            events.append({"t": duration, "type": "call_ended"})
        yield (next(ids), cid, provider, to_json(metrics), to_json(events), created + timedelta(seconds=duration + 2))


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
