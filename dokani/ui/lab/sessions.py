"""Chat test lab, tab "Test chat": the session list, a new-session form, the conversation and its tools."""
from __future__ import annotations

from uuid import UUID

import pandas as pd
import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.labels import say
from dokani.lab import conversations, personas
from dokani.lab import sessions as chat_lab
from dokani.errors import DokaniError
from dokani.ui.errors import show_domain_error
from dokani.ui.selection import hold_selection
from dokani.ui.text import md, visible

PICK = "chat_pick"  # the session selectbox
GOTO = "chat_goto"  # a session to select on the next run (set after creating one)
NEW = "__new__"


def _can_write(actor: Actor) -> bool:
    return actor.role in chat_lab.LAB_ROLES


def _new_session_form(actor: Actor) -> None:
    with unit_of_work(actor) as uow:
        people = personas.list_personas(uow, active_only=True)
        versions = chat_lab.policy_options(uow)
    if not people:
        st.info("This business has no active persona yet. Create one in the Personas tab.")
        return
    if not versions:
        st.info("This business has no return policy yet: there is nothing to test against.")
        return
    by_id = {str(p.id): p for p in people}
    with st.form("chat_lab_new_session", clear_on_submit=False):
        name = st.text_input("Session name", key="chat_new_name", placeholder="e.g. Damaged jacket, draft v2")
        c1, c2 = st.columns(2)
        persona_id = c1.selectbox("Persona", list(by_id), format_func=lambda i: by_id[i].label, key="chat_new_persona")
        version = c2.selectbox("Policy version", [v.version for v in versions],
                               format_func=lambda v: next(o.label for o in versions if o.version == v),
                               key="chat_new_policy")
        c3, c4, c5 = st.columns([2, 1, 1])
        email = c3.text_input("Customer email", key="chat_new_email", placeholder="customer@example.com")
        order = c4.text_input("Order id (optional)", key="chat_new_order")
        mode = c5.selectbox("Chat mode", chat_lab.CHAT_MODES, key="chat_new_mode")
        submitted = st.form_submit_button("Create session", type="primary")
    if submitted:
        try:
            with unit_of_work(actor) as uow:
                made = chat_lab.create_session(uow, chat_lab.SessionDraft(
                    name=name, chat_mode=mode, persona_id=UUID(persona_id), policy_version=version,
                    customer_email=email, order_id=order or None))
        except DokaniError as err:
            show_domain_error(err)
            return
        st.session_state[GOTO] = str(made.id)
        st.rerun()


def _pick_session(actor: Actor) -> UUID | None:
    c1, c2, c3 = st.columns([3, 1, 1])
    search = c1.text_input("Search sessions", key="chat_search", placeholder="name, customer, persona or policy version")
    archived = c2.toggle("Show archived", key="chat_show_archived")
    suites = c3.toggle("Show suite runs", key="chat_show_suites")
    with unit_of_work(actor) as uow:
        found = chat_lab.list_sessions(uow, search=search, include_archived=archived, include_suite_runs=suites)
    goto = st.session_state.pop(GOTO, None)
    if goto is None and PICK not in st.session_state and st.query_params.get("session"):
        goto = st.query_params.get("session")  # deep link to a session
    if goto is not None:
        st.session_state[PICK] = goto
    wanted = st.session_state.get(PICK)
    options = [NEW] + [str(s.id) for s in found]
    labels = {str(s.id): f"{s.name} · {s.persona_name or '—'} · {s.customer_email or '—'} · {s.messages} msgs"
              + ("" if s.is_active else " · archived") for s in found}
    labels[NEW] = "New test session…"
    if wanted and wanted not in options:
        try:  # the current session stays selectable even when the search hides it
            with unit_of_work(actor) as uow:
                s = chat_lab.get_session(uow, UUID(wanted))
            options.insert(1, wanted)
            labels[wanted] = f"{s.name} · {s.persona_name or '—'} · {s.customer_email or '—'}"
        except (DokaniError, ValueError):
            st.session_state[PICK] = NEW
    if PICK not in st.session_state:
        st.session_state[PICK] = options[1] if len(options) > 1 else NEW
    if not found:
        if search:
            st.caption("No test sessions match.")
        elif _can_write(actor):
            st.caption("No test sessions yet: create the first one below.")
        else:
            st.caption(f"No test sessions yet. Owners, admins and testers create them; your role ({actor.role}) can read them.")
    hold_selection(PICK)  # the labels carry the message count: without this the third message lost the session
    choice = st.selectbox("Session", options, format_func=lambda i: labels[i], key=PICK)
    return None if choice == NEW else UUID(choice)


NOT_RECORDED = "not recorded"


def details_rows(meta: dict) -> list[tuple[str, str]]:
    """An agent turn's metadata as (what, value) rows; anything the turn did not record says so."""
    def known(key: str) -> bool:
        return meta.get(key) not in (None, "")

    intent = "—"
    if known("intent"):
        extra = [str(meta["confidence"]) if known("confidence") else None, meta.get("intent_via") or None]
        extra = [e for e in extra if e]
        intent = str(meta["intent"]) + (f" ({', '.join(extra)})" if extra else "")
    order = NOT_RECORDED
    if known("order_id"):
        order = str(meta["order_id"]) + (f" (found by {meta['order_source']})" if known("order_source") else "")
    elif "order_id" in meta:
        order = "none found"
    rows = [("Intent", intent), ("Order", order),
            ("Policy version", str(meta["policy_version"]) if known("policy_version") else NOT_RECORDED),
            ("Latency", f"{meta['latency_ms']} ms" if known("latency_ms") else NOT_RECORDED),
            ("Wording", {"llm": "language model", "rules": "rules"}.get(meta.get("phrased_by"), NOT_RECORDED))]
    triage = meta.get("triage") or {}
    if triage:
        rows.append(("Triage", f"{triage.get('recommendation')} (confidence {triage.get('confidence', '—')}, "
                               f"risk {triage.get('risk_score', '—')})"))
        rows.append(("Reasoning", str(triage.get("reasoning") or NOT_RECORDED)))
    opened = meta.get("return_opened") or {}
    if opened:
        rows.append(("Test return", f"#{opened.get('id')} · {opened.get('status')}"))
    if meta.get("escalated"):
        rows.append(("Escalated", "handed to a person"))
    return rows


def _details(meta: dict) -> None:
    st.dataframe(pd.DataFrame(details_rows(meta), columns=["Detail", "Value"]), hide_index=True, width="stretch")
    fired = (meta.get("triage") or {}).get("rules_fired") or []
    if fired:
        st.dataframe(pd.DataFrame([{"Rule": c.get("rule"), "Outcome": c.get("outcome"), "Detail": c.get("detail")}
                                   for c in fired]), hide_index=True, width="stretch")


def _transcript(turns: list[conversations.ChatTurn], persona_name: str | None, greeting: str) -> None:
    with st.chat_message("assistant"):
        st.text(visible(greeting))
        st.caption(md(f"{persona_name or 'Agent'} · greeting (not stored)"))  # persona names are typed: escaped
    for t in turns:
        with st.chat_message("assistant" if t.is_agent else "user"):
            st.text(visible(t.message))
            if t.is_agent and t.metadata.get("intent"):
                meta = t.metadata
                label = say("intent", str(meta.get("intent")))
                if (meta.get("triage") or {}).get("recommendation"):
                    label += f" · AI says {say('recommendation', str(meta['triage']['recommendation'])).lower()}"
                if meta.get("return_opened"):
                    label += f" · test return #{meta['return_opened'].get('id')}"
                with st.expander(f"Details: {md(label)}"):  # metadata is stored data: escaped
                    _details(meta)


def _export(actor: Actor, session_id: UUID, kind: str):
    def write() -> str:
        with unit_of_work(actor) as uow:
            return conversations.export_transcript(uow, session_id, kind)
    return write


def _tools(actor: Actor, session: chat_lab.TestSession) -> None:
    prev_key = f"chat_loaded_{session.id}"
    loaded = st.session_state.get(prev_key, session.updated_at)
    with st.expander("Session tools: rename, archive, export"):
        c1, c2 = st.columns([3, 1])
        new_name = c1.text_input("Name", value=session.name, key=f"chat_rename_{session.id}")
        if c2.button("Rename", key=f"chat_rename_btn_{session.id}", disabled=not _can_write(actor)):
            try:
                with unit_of_work(actor) as uow:
                    chat_lab.rename_session(uow, session.id, new_name, loaded)
                st.session_state.pop(prev_key, None)
                st.rerun()
            except DokaniError as err:
                show_domain_error(err)
        label = "Restore session" if not session.is_active else "Archive session"
        if st.button(label, key=f"chat_archive_{session.id}", disabled=not _can_write(actor)):
            try:
                with unit_of_work(actor) as uow:
                    chat_lab.set_archived(uow, session.id, session.is_active, loaded)
                st.session_state.pop(prev_key, None)
                st.rerun()
            except DokaniError as err:
                show_domain_error(err)
        with unit_of_work(actor) as uow:
            returns = conversations.test_returns(uow, session.id)
        d1, d2 = st.columns(2)
        # Written when clicked (a callable), not on every rerun of the page: the transcript as it is then.
        d1.download_button("Export transcript (JSON)", _export(actor, session.id, "json"),
                           file_name=f"chat-{session.id}.json", mime="application/json",
                           key=f"chat_export_json_{session.id}")
        d2.download_button("Export transcript (text)", _export(actor, session.id, "text"),
                           file_name=f"chat-{session.id}.txt", mime="text/plain", key=f"chat_export_text_{session.id}")
    st.session_state[prev_key] = session.updated_at
    if len(returns):
        st.caption("Test returns opened in this session (never in the live queue)")
        st.dataframe(returns.rename(columns={"id": "Return", "order_id": "Order", "status": "Status",
                                             "ai_recommendation": "Recommendation",
                                             "policy_version_used": "Policy", "created_at": "Opened"}),
                     hide_index=True, width="stretch")


def show(actor: Actor) -> None:
    if not _can_write(actor):
        st.info(f"Your role ({actor.role}) can read test sessions; owners, admins and testers can chat and run suites.")
    session_id = _pick_session(actor)
    if session_id is None:
        if _can_write(actor):
            st.subheader("New test session")
            _new_session_form(actor)
        return
    with unit_of_work(actor) as uow:
        session = chat_lab.get_session(uow, session_id)
    # Plain text: customer emails and session names are typed by people, not trusted markdown.
    st.text(visible(f"Persona {session.persona_name or '—'} · policy {session.policy_version or 'active'} · "
               f"customer {session.customer_email or '—'}" + (f" · order {session.order_id}" if session.order_id else "")
               + f" · {session.chat_mode}"))
    if not session.is_active:
        st.warning("This session is archived. Restore it (Session tools) to keep chatting.")
    transcript = st.container()
    prompt = st.chat_input("Write as the customer… (attach evidence by typing [photo], [video] or [receipt])",
                           key=f"chat_input_{session.id}", disabled=not (session.is_active and _can_write(actor)))
    sent = False
    if prompt:
        try:
            with unit_of_work(actor) as uow:
                conversations.send_message(uow, session.id, prompt)
            sent = True
        except DokaniError as err:
            with transcript:
                show_domain_error(err)
    with unit_of_work(actor) as uow:
        if sent:  # the session as the message left it (its updated time, its count)
            session = chat_lab.get_session(uow, session_id)
        turns = conversations.messages(uow, session_id)
        greeting = conversations.greeting(uow, session_id)
    with transcript:
        _transcript(turns, session.persona_name, greeting)
    _tools(actor, session)
