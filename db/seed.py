"""Deterministic demo and scale data: ``python -m dokani seed``.

The same seed, size and anchor give byte-identical rows: every random draw comes from a
``random.Random`` derived from (seed, stage, business), ids are numbered or drawn from those
generators, and every timestamp is an offset before ``anchor`` (default: the start of today, UTC),
never ``now()``. Rows are bulk-loaded with COPY in dependency order, in one transaction, as the
owner role (row-level security does not apply to it).

Sizes: ``SeedSize.small()`` (2 businesses, 240 returns) is what the tests and the app's first start
load; ``--returns 1000000`` is the scale run (customers default to returns / 3, calls to returns / 8).
"""
from __future__ import annotations

import json
import random
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from uuid import UUID

import psycopg

from db import seed_content as C
from db.demo import BUSINESSES, ROLES, DemoBusiness, DemoUser, demo_uuid

STATUSES = ["pending_triage", "pending_review", "approved", "denied", "escalated", "completed"]
PT, PR, AP, DN, ES, CO = range(6)
STATUS_SHARE = [0.14, 0.22, 0.26, 0.12, 0.06, 0.20]
# (min, max) age in hours of a return in each status, counted back from the anchor
STATUS_AGE_HOURS = [(0.5, 96.0), (2.0, 192.0), (30.0, 2900.0), (30.0, 2900.0), (24.0, 500.0), (240.0, 4300.0)]
POLICY_VERSIONS = ["v1.0", "v1.1", "v1.2-draft"]
POLICY_AGE_DAYS = [200, 60, 3]  # created this many days before the anchor
MAX_CALLS = 200_000
TRANSCRIBED_CALLS = 2_000  # calls with a transcript, over all businesses
TRIAGE_AGENT = "triage-agent-v3"
SERVICE_AGENT = "cs-agent-v2"

# Tables the seed writes, in dependency order; reset truncates these (CASCADE reaches the rest).
SEEDED_TABLES = [
    "auth.users", "profiles", "business_members", "policies", "provider_configs", "mock_orders",
    "return_requests", "customer_risk_profiles", "security_events", "chat_sessions", "chat_messages",
    "agent_performance_logs", "conversation_sessions", "call_sessions", "call_transcripts", "call_analytics",
    "persona_test_logs",
]
SEQUENCED = ["policies", "return_requests", "mock_orders"]


class SeedError(RuntimeError):
    pass


@dataclass
class SeedSize:
    businesses: int = 2
    returns: int = 240
    customers: int = 0  # 0 = returns / 3
    calls: int = 0  # 0 = returns / 8 (at most MAX_CALLS)

    @classmethod
    def small(cls) -> "SeedSize":
        return cls(businesses=2, returns=240)

    def customer_count(self) -> int:
        return self.customers or max(self.returns // 3, 12 * max(self.businesses, 1))

    def call_count(self) -> int:
        return self.calls or min(max(self.returns // 8, 12 * max(self.businesses, 1)), MAX_CALLS)


@dataclass
class SeedSummary:
    seed: int
    anchor: datetime
    businesses: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per table (generation and COPY overlap)
    statuses: dict[str, int] = field(default_factory=dict)  # return requests per status
    skipped: bool = False  # if_empty and the database had businesses already: nothing was written

    def describe(self) -> str:
        if self.skipped:
            return "The database already has businesses: seeding skipped (nothing was written)."
        c = self.counts
        status = ", ".join(f"{self.statuses.get(s, 0)} {s.replace('_', ' ')}" for s in STATUSES)
        rows = sum(c.values())
        return (
            f"Seeded {len(self.businesses)} business(es) ({', '.join(self.businesses)}) with seed {self.seed}, "
            f"dated back from {self.anchor:%Y-%m-%d %H:%M} UTC: {c.get('return_requests', 0)} return requests "
            f"({status}), {c.get('mock_orders', 0)} orders, {c.get('customer_risk_profiles', 0)} customer risk "
            f"profiles, {c.get('security_events', 0)} security events, {c.get('policies', 0)} policy versions, "
            f"{c.get('provider_configs', 0)} personas, {c.get('call_sessions', 0)} calls "
            f"({c.get('call_transcripts', 0)} transcript lines), {c.get('chat_sessions', 0)} chat sessions "
            f"({c.get('chat_messages', 0)} messages), {c.get('auth.users', 0)} users; "
            f"{rows} rows in {self.seconds:.1f} s."
        )


# ---------------------------------------------------------------------------------------------------------------
# helpers


def default_anchor() -> datetime:
    """The start of today, UTC (naive, as the schema's timestamps are)."""
    now = datetime.now(timezone.utc)
    return datetime(now.year, now.month, now.day)


def _naive(anchor: datetime) -> datetime:
    return anchor.astimezone(timezone.utc).replace(tzinfo=None) if anchor.tzinfo else anchor


def _rng(seed: int, *parts) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


UUID_MASK = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
UUID_V4 = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


def _sorted_ids(rng: random.Random, n: int) -> list[str]:
    """``n`` random (version 4) UUIDs in ascending order: handed out in row order, the primary key index
    of a bulk load grows at its right edge instead of touching a random page per row."""
    ids = sorted((rng.getrandbits(128) & UUID_MASK) | UUID_V4 for _ in range(n))
    return [f"{i:032x}" for i in ids]


# UUIDv7: 48-bit unix milliseconds, version 7, 12 random bits, RFC 4122 variant, 62 random bits
V7_BITS = (0x7 << 76) | (0b10 << 62)
V7_RANDOM = (0xFFF << 64) | ((1 << 62) - 1)


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def _j(value) -> str:
    return json.dumps(value, separators=(", ", ": "))


NULL = "\\N"  # COPY text format
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _esc(value: str) -> str:
    """A value for a COPY text line: backslash, tab and line breaks escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


@dataclass
class _Biz:
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


def _businesses(size: SeedSize) -> list[_Biz]:
    count = max(size.businesses, 1)
    out: list[_Biz] = []

    def split(total: int, minimum: int) -> list[int]:
        share = [total // count] * count
        share[0] += total - sum(share)
        return [max(s, minimum) for s in share]

    returns = split(size.returns, 1)
    customers = split(size.customer_count(), 6)
    calls = split(size.call_count(), 6)
    for i in range(count):
        if i < len(BUSINESSES):
            demo = BUSINESSES[i]
        else:
            n = i + 1
            demo = DemoBusiness(f"shop{n}", f"Demo Shop {n}", f"https://demo-shop-{n}.example", "free")
        users = [DemoUser(demo.key, slug, role, f"{label} ({demo.name})") for slug, role, label in ROLES]
        if demo.key in C.CATALOGUES:
            prefix, catalogue = C.CATALOGUES[demo.key]
        else:
            prefix, catalogue = f"S{i + 1:02d}", C.GENERIC_CATALOGUE
        out.append(_Biz(i, demo, users, prefix, catalogue, returns[i], customers[i], calls[i]))
    rid = oid = 1
    for b in out:
        b.first_return_id, b.first_order_id = rid, oid
        rid += b.n_returns
        oid += b.n_returns + b.n_returns // 5
    return out


def _customers(seed: int, b: _Biz) -> list[str]:
    rng = _rng(seed, "customers", b.index)
    firsts, lasts, domains = C.FIRST_NAMES, C.LAST_NAMES, C.EMAIL_DOMAINS
    out = []
    for n in range(b.n_customers):
        out.append(f"{rng.choice(firsts)}.{rng.choice(lasts)}{n + 1}@{rng.choice(domains)}")
    return out


# ---------------------------------------------------------------------------------------------------------------
# the loader


class _Loader:
    def __init__(self, conn: psycopg.Connection, bar, counts: dict[str, int], timings: dict[str, float],
                 freeze: bool):
        self.conn, self.bar, self.counts, self.timings = conn, bar, counts, timings
        self.options = " WITH (FREEZE)" if freeze else ""

    def copy(self, table: str, columns: str, rows, lines: bool = False) -> int:
        """COPY ``rows`` into ``table``: tuples (adapted by psycopg) or, with ``lines``, ready COPY text lines."""
        name = table if "." in table else f"public.{table}"
        started = time.perf_counter()
        n = 0
        bar = self.bar
        if bar is not None:
            bar.set_postfix_str(table)
        with self.conn.cursor() as cur, cur.copy(f"COPY {name} ({columns}) FROM STDIN{self.options}") as cp:
            if lines:
                batch: list[str] = []
                for line in rows:
                    batch.append(line)
                    n += 1
                    if not n % 5000:
                        cp.write("".join(batch).encode())
                        batch.clear()
                        if bar is not None:
                            bar.update(5000)
                if batch:
                    cp.write("".join(batch).encode())
            else:
                write = cp.write_row
                for row in rows:
                    write(row)
                    n += 1
                    if bar is not None and not n % 5000:
                        bar.update(5000)
        if bar is not None:
            bar.update(n % 5000)
        self.counts[table] = self.counts.get(table, 0) + n
        self.timings[table] = self.timings.get(table, 0.0) + time.perf_counter() - started
        return n


# ---------------------------------------------------------------------------------------------------------------
# rows, table by table


def _users(bizs: list[_Biz], anchor: datetime):
    for b in bizs:
        for k, u in enumerate(b.users):
            yield (u.user_id, u.email, anchor - timedelta(days=400 - 7 * b.index - k))


def _profiles(bizs: list[_Biz], anchor: datetime):
    for b in bizs:
        yield (b.demo.owner_id, anchor - timedelta(days=400 - 7 * b.index), b.demo.name, b.demo.website, b.demo.plan,
               True, b.id)


def _members(bizs: list[_Biz], anchor: datetime):
    for b in bizs:
        for k, u in enumerate(b.users):
            yield (b.id, u.user_id, u.role, u.display_name, u.email, anchor - timedelta(days=400 - 7 * b.index - k))


def _policies(bizs: list[_Biz], anchor: datetime):
    pid = 0
    for b in bizs:
        for v, version in enumerate(POLICY_VERSIONS):
            pid += 1
            created = anchor - timedelta(days=POLICY_AGE_DAYS[v], hours=3 * b.index)
            effective = created if v < 2 else anchor + timedelta(days=14)
            yield (pid, created, b.id, version, v == 1, effective, _j(C.policy_rules(v, b.demo.key)), "{}", "{}")


def _persona_rows(bizs: list[_Biz], anchor: datetime):
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
            yield (pid, b.id, provider, name, _j(cfg), True, created, created + timedelta(days=5), k == 0)


_ORDER_STATUS_OF = {CO: "returned", AP: "return_approved"}


class _Skeleton:
    """What decides a business's returns (and the orders they cite): compact arrays, oldest first."""

    def __init__(self, seed: int, b: _Biz):
        rng = _rng(seed, "skeleton", b.index)
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


def _orders(seed: int, b: _Biz, sk: _Skeleton, anchor: datetime):
    """COPY lines of a business's orders: one per return it cites (unless unknown), then a fifth more unreturned."""
    rng = _rng(seed, "orders", b.index)
    rand = rng.random
    cat = [(_esc(name), category, price) for name, category, price in b.catalogue]
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


def _returns(seed: int, b: _Biz, sk: _Skeleton, anchor: datetime):
    """COPY lines of a business's return requests (the hot loop of a scale run: lookups, no per-row JSON)."""
    rng = _rng(seed, "returns", b.index)
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
        [[(t, _j(t)) for t in (tpl.format(product=cat[p][0], days="{days}", defect=d)
                               for tpl in C.REASON_TEXTS[r] for d in C.DEFECTS[cat[p][1]][: 3 if r == "defective" else 1])]
         for p in range(len(cat))]
        for r in C.REASONS
    ]
    replies = [[_j(t.format(product=name)) for t in C.AGENT_REPLIES] for name, _, _ in cat]
    follow_ups = [_j(t) for t in C.CUSTOMER_FOLLOW_UPS]
    flag_names = [[f] for f in C.FRAUD_FLAGS] + [
        [f, g] for k, f in enumerate(C.FRAUD_FLAGS) for g in C.FRAUD_FLAGS[k + 1:]]
    flag_sets = [_j({f: True for f in names}) for names in flag_names]
    flag_texts = [", ".join(names) for names in flag_names]
    flag_factors = [tuple(f for f in names if f in ("address_mismatch", "evidence_reused")) for names in flag_names]
    flag_bits = [1 << k for k in range(4)] + [(1 << k) | (1 << m) for k in range(4) for m in range(k + 1, 4)]
    n_flag_sets = len(flag_sets)
    json_lists: dict[tuple, str] = {}
    reasoning_templates = {k: [_esc(t) for t in v] for k, v in C.AI_REASONING.items()}
    notes_of = [None, None] + [[_esc(t) for t in C.ADMIN_NOTES[s]] for s in ("approved", "denied", "escalated",
                                                                             "completed")]
    escalations = [_esc(t) for t in C.ESCALATION_REASONS]
    active_since_h = 24 * POLICY_AGE_DAYS[1] + 3 * b.index
    hostile_left = 3 if b.index == 0 else 0
    evidence_base = f"https://evidence.dokani.example/{b.demo.key}"
    rid = b.first_return_id - 1
    high_risk = "electronics"
    N = NULL
    triage_tail = f"\\N\t{{}}\t\\N"  # risk, fraud flags, triage agent of an untriaged return
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
            text_json = _j(text)
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
            factors = json_lists.get(key) or json_lists.setdefault(key, _j(list(key)))
            key = (days > 30, not n_evidence, value > 750)
            violations = json_lists.get(key) or json_lists.setdefault(key, _j(
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
        yield (f"{rid}\t{public_id}\t{created}\t{bid}\t{order_id}\t{email}\t{_esc(text)}\t{statuses[status]}\t"
               f"{{{evidence}}}\t{_esc(log)}\t{triage}\t{agent}\t{tail}\t{decided}\t{days}\t"
               f"{value:.2f}\t{category}\t{csat}\t{reasoning}\t{violations}\t{factors}\t{approved}\t"
               f"{denied}\t{history}\n")


def _risk_profiles(seed: int, b: _Biz, anchor: datetime):
    """COPY lines: one risk profile per customer of the business, from what the returns pass counted."""
    rng = _rng(seed, "risk", b.index)
    rand = rng.random
    bid = b.id
    indicators_of = [_j({C.FRAUD_FLAGS[k]: True for k in range(4) if bits & (1 << k)}) for bits in range(16)]
    flag_count = [bin(bits).count("1") for bits in range(16)]
    channels = ["chat", "email", "voice", "video", "whatsapp"]
    hour, day = timedelta(hours=1), timedelta(days=1)
    counts, flags, reasons, values = b.cust_returns, b.cust_flags, b.cust_reason, b.cust_value
    customers = b.customers
    ids = iter(_sorted_ids(rng, len(customers)))
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


def _security_events(seed: int, b: _Biz, anchor: datetime):
    rng = _rng(seed, "security", b.index)
    rand = rng.random
    bid = b.id
    resolver = b.user("admin").user_id
    severities = ["low", "medium", "high", "critical"]
    heavy = [c for c, count in enumerate(b.cust_returns) if count >= 5]
    ids = iter(_sorted_ids(rng, len(b.flagged) + len(heavy)))
    for rid, email, flag, risk, status, age_h in b.flagged:
        sev = severities[min(3, int((risk - 0.55) * 9 + rand()))] if risk > 0.55 else "low"
        created = anchor - timedelta(hours=max(age_h - 0.05, 0.01))
        resolved = status in (AP, DN, CO) and rand() < 0.7
        data = {"flag": flag, "risk_score": risk, "detected_by": TRIAGE_AGENT, "return_request_id": rid}
        yield (next(ids), C.SECURITY_EVENT_TYPES[flag], bid, email, rid, sev, _j(data),
               resolved, resolver if resolved else None,
               created + timedelta(hours=1 + 48 * rand()) if resolved else None, created)
    # customers with many returns in a short period
    for c in heavy:
        email, count = b.customers[c], b.cust_returns[c]
        created = anchor - timedelta(hours=2 + 600 * rand())
        resolved = rand() < 0.3
        data = {"returns_count": count, "threshold": 5, "detected_by": "risk-monitor"}
        yield (next(ids), "multiple_returns_short_period", bid, email, None,
               "critical" if count >= 12 else "high" if count >= 8 else "medium", _j(data), resolved,
               resolver if resolved else None, created + timedelta(hours=4) if resolved else None, created)


def _chat(seed: int, b: _Biz, anchor: datetime, want_messages: bool):
    """Chat test sessions, or (want_messages) their messages: both from the same draws."""
    rng = _rng(seed, "chat", b.index)
    rand, choice = rng.random, rng.choice
    n = max(8, min(600, b.n_returns // 40))
    tester = b.user("tester").user_id
    rules = C.policy_rules(1, b.demo.key)
    voice = [p for p in b.personas if p[1] == "elevenlabs"]
    b.chat_sessions = []
    for s in range(n):
        sid = _uuid(rng)
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
            msgs.append((_uuid(rng), sid, sender, line.format(order=order, window=rules["return_window_days"]),
                         "text", _j(meta), t))
        active = s < 2
        if not want_messages:
            meta = {"persona_id": str(persona[0]), "persona_name": persona[3]["persona_name"],
                    "policy_version": policy, "scenario": scenario}
            yield (sid, tester, b.id, f"Test: {scenario}", mode, "test_mode", active, _j(meta), created, t, email)
        else:
            yield from msgs


def _agent_logs(seed: int, b: _Biz, anchor: datetime):
    rng = _rng(seed, "agentlogs", b.index)
    rand = rng.random
    for sid in b.chat_sessions:
        yield (_uuid(rng), "customer_service", b.id, _uuid(rng), sid,
               _j({"turns": 2 + int(4 * rand()), "policy_lookups": int(3 * rand()), "escalated": rand() < 0.15}),
               round(0.55 + 0.44 * rand(), 2), 300 + int(2500 * rand()), round(1 + 4 * rand() ** 0.5, 1),
               anchor - timedelta(hours=1 + 1400 * rand()))
    for _ in range(max(10, min(500, b.n_returns // 20))):
        yield (_uuid(rng), "triage", b.id, _uuid(rng), None,
               _j({"batch_size": 1 + int(20 * rand()), "auto_decided_pct": round(40 + 40 * rand(), 1)}),
               round(0.6 + 0.39 * rand(), 2), 400 + int(3000 * rand()), None,
               anchor - timedelta(hours=1 + 2000 * rand()))


def _conversations(seed: int, b: _Biz, anchor: datetime):
    rng = _rng(seed, "conversations", b.index)
    rand = rng.random
    for rid, email, age_h, text, status in b.linked:
        created = anchor - timedelta(hours=age_h + 0.5)
        history = [{"role": "customer", "text": text, "at": created.isoformat()},
                   {"role": "agent", "text": "Thanks, I've passed this to our returns team.",
                    "at": (created + timedelta(seconds=30)).isoformat()}]
        channel = ["chat", "email", "voice"][int(3 * rand())]
        yield (_uuid(rng), b.id, email, channel, rid, "escalated" if status == ES else "waiting_on_merchant",
               _j([{"role": "customer", "email": email}, {"role": "agent", "id": SERVICE_AGENT}]), _j(history),
               "return_request", 2 if status == ES else 1, "customer_service", 60 + int(600 * rand()),
               created, created + timedelta(minutes=12))


CALL_STATUS = ["completed"] * 72 + ["abandoned"] * 14 + ["failed"] * 6 + ["in_progress"] * 2


def _calls(seed: int, b: _Biz, anchor: datetime, out: list):
    """Call sessions; remembers (id, provider, status, duration, created, persona) in ``out`` for the children."""
    rng = _rng(seed, "calls", b.index)
    rand, choice = rng.random, rng.choice
    voice = [p for p in b.personas if p[1] == "elevenlabs"]
    video = [p for p in b.personas if p[1] == "tavus"]
    chats = b.chat_sessions
    ids = _sorted_ids(rng, b.n_calls)
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
            feedback = _j({"rating": rating, "comment": choice(C.CALL_FEEDBACK[rating])})
        cfg = persona[3]
        provider_data = {"persona_name": cfg["persona_name"], "language": cfg.get("language", "en")}
        if status == "failed":
            provider_data["error"] = choice(["microphone_permission_denied", "provider_timeout", "network_error"])
        chat = chats[int(len(chats) * rand())] if chats and rand() < 0.05 else None
        el = provider == "elevenlabs"
        out.append((cid, provider, status, duration, created, persona, k))
        yield (cid, chat, "voice" if el else "video", provider, conv, status, duration, _j(provider_data), created,
               ended, cfg.get("agent_id") if el else None, conv if el else None, None if el else cfg["replica_id"],
               None if el else conv, None if el else f"https://tavus.daily.co/{conv}", "{}", status == "in_progress",
               persona[0], quality, feedback, ended or anchor)


def _transcripts(seed: int, b: _Biz, calls: list, cap: int):
    rng = _rng(seed, "transcripts", b.index)
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
            yield (_uuid(rng), cid, speaker, text, ts, created + timedelta(seconds=ts), status == "in_progress",
                   "completed", True, speaker == "agent", s)


def _analytics(seed: int, b: _Biz, calls: list):
    rng = _rng(seed, "analytics", b.index)
    rand, choice = rng.random, rng.choice
    ids = iter(_sorted_ids(rng, len(calls)))
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
        yield (next(ids), cid, provider, _j(metrics), _j(events), created + timedelta(seconds=duration + 2))


def _persona_tests(seed: int, b: _Biz, anchor: datetime):
    rng = _rng(seed, "persona_tests", b.index)
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
                yield (_uuid(rng), b.id, persona[0], "scenario", content, _j(result), ok,
                       None if ok else f"expected intent {intent}, got {actual}", 800 + int(4000 * rand()),
                       started + timedelta(seconds=30 * s))


# ---------------------------------------------------------------------------------------------------------------
# entry points


def database_is_empty(url: str) -> bool:
    """True when no business exists yet (no row in ``profiles``)."""
    with psycopg.connect(url) as conn:
        return not conn.execute("SELECT EXISTS (SELECT 1 FROM public.profiles)").fetchone()[0]


def _qualified(table: str) -> str:
    return table if "." in table else f"public.{table}"


def _truncate_seeded(conn: psycopg.Connection) -> None:
    tables = ", ".join(_qualified(t) for t in SEEDED_TABLES + ["audit_log"])
    conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def _nothing_to_lose(conn: psycopg.Connection) -> bool:
    """True when the seeded tables, and every table a TRUNCATE ... CASCADE of them would reach, hold no row."""
    reached = {_qualified(t) for t in SEEDED_TABLES + ["audit_log"]}
    while True:
        more = {r[0] for r in conn.execute(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = ANY (CAST(%s AS regclass[]))", (sorted(reached),))}
        more = {t if "." in t else f"public.{t}" for t in more}
        if more <= reached:
            break
        reached |= more
    return not any(conn.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0] for t in sorted(reached))


BULK_TABLES = ["mock_orders", "return_requests", "customer_risk_profiles", "security_events", "call_sessions",
               "call_transcripts", "call_analytics"]
BULK_THRESHOLD = 20_000  # returns; above it, plain secondary indexes are rebuilt after the load instead of during


def _drop_plain_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the non-unique, non-constraint indexes of the bulk tables; return their definitions to rebuild.

    Same transaction as the load, so a failure leaves them in place; unique indexes and constraints stay.
    """
    rows = conn.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY (CAST(%s AS regclass[])) AND NOT i.indisunique AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        ([f"public.{t}" for t in BULK_TABLES],),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f"DROP INDEX {name}")
    return [definition for _, definition in rows]


def _drop_foreign_keys(conn: psycopg.Connection) -> list[str]:
    """Drop the foreign keys of the bulk tables; return the statements that put them back (and check every row).

    One validating scan per key at the end is much cheaper than a trigger call per row; same transaction.
    """
    rows = conn.execute(
        """
        SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE contype = 'f' AND conrelid = ANY (CAST(%s AS regclass[]))
        ORDER BY 1, 2
        """,
        ([f"public.{t}" for t in BULK_TABLES],),
    ).fetchall()
    for table, name, _ in rows:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    return [f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}" for table, name, definition in rows]


def _estimate(bizs: list[_Biz]) -> int:
    total = 0
    for b in bizs:
        total += 4 + 1 + 4 + 3 + 3 + 30
        total += b.n_returns * 2 + b.n_returns // 5 + b.n_customers + b.n_returns // 6
        chats = max(8, min(600, b.n_returns // 40))
        total += chats * 5 + chats + max(10, min(500, b.n_returns // 20)) + 12
        total += b.n_calls * 2 + min(b.n_calls, max(1, TRANSCRIBED_CALLS // len(bizs))) * 6
    return total


SEED_LOCK = 7_310_455_002  # two seeders of one database take turns (the second then finds businesses)


def seed_database(url: str, *, seed: int = 7, size: SeedSize | None = None, progress: bool = True,
                  reset: bool = False, anchor: datetime | None = None, if_empty: bool = False) -> SeedSummary:
    """Load the demo data set into the (migrated, owner-role) database at ``url``; see the module docstring.

    A database that already has businesses is refused (``SeedError``) unless ``reset`` (replace them) or
    ``if_empty`` (leave it alone: the summary says ``skipped``); both are decided under a lock.
    """
    if reset and if_empty:
        raise ValueError("reset and if_empty contradict each other")
    size = size or SeedSize()
    started = time.perf_counter()
    anchor = _naive(anchor) if anchor else default_anchor()
    bizs = _businesses(size)
    summary = SeedSummary(seed=seed, anchor=anchor, businesses=[b.demo.name for b in bizs])
    counts = summary.counts
    bar = None
    try:
        with psycopg.connect(url) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SEED_LOCK,))
            if not reset and conn.execute("SELECT EXISTS (SELECT 1 FROM public.profiles)").fetchone()[0]:
                if if_empty:
                    summary.skipped = True
                    return summary
                raise SeedError("the database already has businesses; seed with reset=True (--reset) to replace them")
            # Tables emptied in this transaction take COPY ... FREEZE: rows are written frozen, so nothing
            # (ANALYZE, the first queries, autovacuum) has to rewrite every page of a big load afterwards.
            freeze = reset or _nothing_to_lose(conn)
            if freeze:
                _truncate_seeded(conn)
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=_estimate(bizs), unit="rows", unit_scale=True, desc="seeding", dynamic_ncols=True)
            conn.execute("SET LOCAL synchronous_commit = off")
            rebuild = []
            if size.returns >= BULK_THRESHOLD:
                rebuild = _drop_plain_indexes(conn) + _drop_foreign_keys(conn)
            load = _Loader(conn, bar, counts, summary.timings, freeze).copy
            for b in bizs:
                b.customers = _customers(seed, b)
            load("auth.users", "id, email, created_at", _users(bizs, anchor))
            load("profiles", "id, created_at, business_name, website, subscription_plan, onboarded, business_id",
                 _profiles(bizs, anchor))
            load("business_members", "business_id, user_id, role, display_name, email, created_at",
                 _members(bizs, anchor))
            load("policies", "id, created_at, business_id, version, is_active, effective_date, rules, "
                 "usage_statistics, compliance_metrics", _policies(bizs, anchor))
            load("provider_configs", "id, business_id, provider, config_name, config_data, is_active, created_at, "
                 "updated_at, is_default", _persona_rows(bizs, anchor))
            for b in bizs:
                sk = _Skeleton(seed, b)
                load("mock_orders", "id, order_id, purchase_date, customer_email, product_name, product_category, "
                     "purchase_price, order_status, quantity, order_value, business_id", _orders(seed, b, sk, anchor),
                     lines=True)
                load("return_requests", RETURN_COLUMNS, _returns(seed, b, sk, anchor), lines=True)
                for s in range(6):
                    summary.statuses[STATUSES[s]] = summary.statuses.get(STATUSES[s], 0) + sk.status.count(s)
                del sk
            for b in bizs:
                load("customer_risk_profiles", "id, customer_email, business_id, risk_score, return_frequency, "
                     "fraud_indicators, behavior_patterns, last_updated, created_at", _risk_profiles(seed, b, anchor),
                     lines=True)
                load("security_events", "id, event_type, business_id, customer_email, return_request_id, severity, "
                     "event_data, resolved, resolved_by, resolved_at, created_at", _security_events(seed, b, anchor))
                b.cust_returns = b.cust_value = array("i")
                b.cust_flags = b.cust_reason = bytearray()
                b.flagged = []
            for b in bizs:
                load("chat_sessions", "id, user_id, business_id, session_name, chat_mode, session_type, is_active, "
                     "metadata, created_at, updated_at, customer_email", _chat(seed, b, anchor, False))
                load("chat_messages", "id, session_id, sender, message, message_type, metadata, created_at",
                     _chat(seed, b, anchor, True))
                load("agent_performance_logs", "id, agent_type, business_id, interaction_id, session_id, "
                     "performance_metrics, decision_quality_score, response_time_ms, customer_satisfaction_score, "
                     "created_at", _agent_logs(seed, b, anchor))
                load("conversation_sessions", "id, business_id, customer_email, channel, return_request_id, status, "
                     "participants, conversation_history, current_intent, escalation_level, ai_agent_type, duration, "
                     "created_at, updated_at", _conversations(seed, b, anchor))
            cap = max(1, TRANSCRIBED_CALLS // len(bizs))
            for b in bizs:
                calls: list = []
                load("call_sessions", "id, chat_session_id, call_type, provider, external_session_id, status, "
                     "duration_seconds, provider_data, created_at, ended_at, elevenlabs_agent_id, "
                     "elevenlabs_conversation_id, tavus_replica_id, tavus_conversation_id, session_url, webhook_data, "
                     "is_active, persona_config_id, call_quality_score, customer_feedback, updated_at",
                     _calls(seed, b, anchor, calls))
                load("call_transcripts", "id, call_session_id, speaker, message, timestamp_seconds, created_at, "
                     "is_real_time, processing_status, ai_processed, ai_response_generated, stream_sequence",
                     _transcripts(seed, b, calls, cap))
                load("call_analytics", "id, call_session_id, provider, metrics, events, created_at",
                     _analytics(seed, b, calls))
                load("persona_test_logs", "id, business_id, config_id, test_type, test_content, test_result, success, "
                     "error_message, test_duration_ms, created_at", _persona_tests(seed, b, anchor))
            for table in SEQUENCED:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('public.{table}', 'id'), "
                    f"GREATEST((SELECT max(id) FROM public.{table}), 1))"
                )
            if rebuild:
                if bar is not None:
                    bar.set_postfix_str("indexes and foreign keys")
                conn.execute("SET LOCAL maintenance_work_mem = '128MB'")
                t = time.perf_counter()
                for statement in rebuild:
                    conn.execute(statement)
                summary.timings["indexes and foreign keys"] = time.perf_counter() - t
            if bar is not None:
                bar.total = bar.n
                bar.set_postfix_str("commit")
            t = time.perf_counter()
            conn.commit()
            summary.timings["commit"] = time.perf_counter() - t
        # fresh statistics, so the first queries on the new rows plan well
        if bar is not None:
            bar.set_postfix_str("statistics")
        t = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            for table in SEEDED_TABLES:
                conn.execute(f"ANALYZE {_qualified(table)}")
        summary.timings["analyze"] = time.perf_counter() - t
    finally:
        if bar is not None:
            bar.close()
    summary.seconds = time.perf_counter() - started
    return summary
