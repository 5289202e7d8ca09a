"""The demo's AI calls: sessions, transcripts, analytics and the return each call was about.

A call about a return is one of the customer's: opened in the call (the customer gives the order number and the
agent opens the return) or about a return already open (it is passed to a specialist). Each is linked to its return
in ``call_return_links`` the way ``dokani.calls.linking`` links an imported call (by the order id given during the
call). What the analytics say the call reached (``resolution``) is what its transcript reaches (``CALL_SCRIPTS``).
Calls that identify no return (abandoned, failed, or the customer had no order number) are linked to none.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from db import seed_content as C
from db.seed_rows import Business, random_uuid, rng_for, sorted_ids, to_json

CALL_STATUS = ["completed"] * 72 + ["abandoned"] * 14 + ["failed"] * 6 + ["in_progress"] * 2
OPENS_RETURN = (0, 1)  # scripts in which the agent opens the return the call is about
ABOUT_OPEN_RETURN = 2  # the script about a return already open
NO_RETURN = 3  # the customer has no order number: the call concerns no identified return
QUIET_OPENINGS = (0, 3)  # scripts whose first three lines (all an abandoned or ongoing call has) name no order


def call_rows(seed: int, b: Business, anchor: datetime, out: list):
    """Call sessions; remembers what the children need in ``out``:
    (id, provider, status, duration, created, persona, script, product, order, return id, ended)."""
    rng = rng_for(seed, "calls", b.index)
    rand, choice = rng.random, rng.choice
    voice = [p for p in b.personas if p[1] == "elevenlabs"]
    video = [p for p in b.personas if p[1] == "tavus"]
    chats = b.chat_sessions
    ids = sorted_ids(rng, b.n_calls)
    hour = timedelta(hours=1)
    for k in range(b.n_calls):
        cid = UUID(ids[k])
        persona = video[0] if rand() < 0.35 else voice[0 if rand() < 0.7 else 1 % len(voice)]
        provider = persona[1]
        status = choice(CALL_STATUS)
        if k < 2:
            status = "in_progress" if k == 0 else "completed"
        script = int(len(C.CALL_SCRIPTS) * rand())
        if status != "completed" and script not in QUIET_OPENINGS:  # its first lines name no order
            script = QUIET_OPENINGS[k % len(QUIET_OPENINGS)]
        resolution, reason, lines = C.CALL_SCRIPTS[script]
        duration = {"completed": 60 + int(600 * rand()), "abandoned": 5 + int(90 * rand()), "failed": 0,
                    "in_progress": 0}[status]
        about = b.about.get(reason) if reason else None
        target = about[int(len(about) * rand())] if about and status == "completed" else None
        if target is None and status == "completed" and reason:
            script = NO_RETURN  # nothing of that kind to talk about: the call that finds no order
        if status == "in_progress":
            created = anchor - timedelta(minutes=1 + 15 * rand())
            duration = int((anchor - created).total_seconds())
        elif target is not None:
            opened = anchor - b.age_of(target) * hour
            if script in OPENS_RETURN:  # the return was opened during the call, near its end
                created = opened - timedelta(seconds=duration + 30 + int(600 * rand()))
            else:  # the customer calls about it later, while the call still ends before the anchor
                room = max(0.0, (anchor - opened).total_seconds() / 3600 - duration / 3600 - 0.1)
                created = opened + min(room, 1 + 72 * rand()) * hour
        else:
            created = anchor - timedelta(hours=0.5 + 24 * 360 * rand())
        ended = created + timedelta(seconds=duration) if status != "in_progress" else None
        conv = f"{'conv' if provider == 'elevenlabs' else 'c'}_{cid.hex[:20]}"
        quality = {"completed": round(3 + 2 * rand(), 2), "abandoned": round(1.5 + 2 * rand(), 2),
                   "failed": round(1.5 * rand(), 2), "in_progress": None}[status]
        feedback = "{}"
        if status == "completed" and rand() < 0.6 or status == "abandoned" and rand() < 0.2:
            rating = max(1, min(5, int(quality + rand() * 1.2))) if quality is not None else 3
            feedback = to_json({"rating": rating, "comment": choice(C.CALL_FEEDBACK[rating])})
        cfg = persona[3]
        provider_data = {"persona_name": cfg["persona_name"], "language": cfg.get("language", "en")}
        if status == "failed":
            provider_data["error"] = choice(["microphone_permission_denied", "provider_timeout", "network_error"])
        linked = status == "completed" and target is not None and script != NO_RETURN
        product = b.catalogue[b.product_of(target)][0] if target is not None else b.catalogue[k % len(b.catalogue)][0]
        order = b.order_of(target) if target is not None else None
        if linked:  # what the agent was told during the call (as a provider's dynamic variables would carry it)
            provider_data["dynamic_variables"] = {"order_id": order, "customer_email": b.email_of(target)}
        chat = chats[int(len(chats) * rand())] if chats and rand() < 0.05 else None
        el = provider == "elevenlabs"
        rid = b.first_return_id + target if linked else None
        out.append((cid, provider, status, duration, created, persona, script, product, order, rid, ended))
        yield (cid, chat, "voice" if el else "video", provider, conv, status, duration, to_json(provider_data), created,
               ended, cfg.get("agent_id") if el else None, conv if el else None, None if el else cfg["replica_id"],
               None if el else conv, None if el else f"https://tavus.daily.co/{conv}", "{}", status == "in_progress",
               persona[0], quality, feedback, ended or anchor)


def link_rows(b: Business, calls: list):
    """``call_return_links``: each call about a return, found by the order id given during the call."""
    for cid, provider, status, duration, created, persona, script, product, order, rid, ended in calls:
        if rid is not None:
            yield (cid, b.id, rid, "order_id", f"order_id={order}", None, ended)


def transcript_rows(seed: int, b: Business, calls: list, cap: int):
    rng = rng_for(seed, "transcripts", b.index)
    rand = rng.random
    done = 0
    for cid, provider, status, duration, created, persona, script, product, order, rid, ended in calls:
        if done >= cap:
            break
        if status == "failed":
            continue
        done += 1
        _, _, words = C.CALL_SCRIPTS[script]
        # an abandoned call, or one still going, has only its first lines
        lines = words if status == "completed" else words[:3]
        step = max(duration, 10) / (len(lines) + 1)
        greeting = C.CALL_GREETINGS[persona[2]].format(shop=b.demo.name)
        for s, line in enumerate(lines):
            ts = round(step * s + step * 0.8 * rand(), 1)
            speaker = "agent" if s % 2 == 0 else "customer"
            text = line.format(greeting=greeting, shop=b.demo.name, persona=persona[3]["persona_name"], product=product,
                               order=order or "")
            yield (random_uuid(rng), cid, speaker, text, ts, created + timedelta(seconds=ts), status == "in_progress",
                   "completed", True, speaker == "agent", s)


def analytics_rows(seed: int, b: Business, calls: list):
    rng = rng_for(seed, "analytics", b.index)
    rand, choice = rng.random, rng.choice
    ids = iter(sorted_ids(rng, len(calls)))
    intents = {0: "refund_request", 1: "refund_request", 2: "escalation", 3: "refund_request"}
    for cid, provider, status, duration, created, persona, script, product, order, rid, ended in calls:
        if status == "in_progress":
            continue
        p50 = 350 + int(500 * rand())
        # what the call reached is what its words reach; an abandoned or failed call reached nothing
        resolution = C.CALL_SCRIPTS[script][0] if status == "completed" else "unresolved"
        metrics = {
            "latency_ms_p50": p50, "latency_ms_p95": p50 + 200 + int(900 * rand()),
            "interruptions": int(6 * rand() ** 2), "sentiment": round(-1 + 2 * rand() ** 0.7, 2),
            "resolution": resolution, "words_per_minute": 110 + int(60 * rand()),
            "turns": max(0, duration // 25),
        }
        if provider == "elevenlabs" and status == "completed":  # ElevenLabs' own verdict, as its webhook gives it
            metrics["call_successful"] = {"resolved": "success", "unresolved": "failure"}.get(resolution, "unknown")
        events = [{"t": 0, "type": "call_started"}]
        if status == "failed":
            events.append({"t": 0, "type": "call_failed"})
        else:
            events.append({"t": 1, "type": "greeting_played"})
            events.append({"t": min(duration, 8 + int(20 * rand())), "type": "intent_detected",
                           "intent": intents[script]})
            if status == "completed" and script in OPENS_RETURN:
                events.append({"t": max(duration - 20, 1), "type": "return_created"})
            if resolution == "escalated":
                events.append({"t": max(duration - 30, 1), "type": "escalation_requested"})
            events.append({"t": duration, "type": "call_ended"})
        yield (next(ids), cid, provider, to_json(metrics), to_json(events), created + timedelta(seconds=duration + 2))
