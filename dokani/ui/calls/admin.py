"""For owners and admins: upload event files (imported by a background job), webhook secrets (set / rotate),
failed events with retry."""
from __future__ import annotations

import streamlit as st

from db.uow import unit_of_work
from dokani.calls import webhooks
from dokani.calls.service import CAN_IMPORT
from dokani.calls.webhook_secrets import list_secrets, set_secret
from dokani.errors import DokaniError, NotAllowed
from dokani.jobs import imports
from dokani.ui import format as fmt
from dokani.ui.errors import show_domain_error
from dokani.ui.jobs.panel import show_job
from dokani.ui.text import md, plain

FLASH = "calls_admin_flash"
IMPORT_JOB = "calls_import_job"  # the lock key of the import this session queued: its progress stays shown


def show(actor) -> None:
    if actor.role not in CAN_IMPORT:
        st.caption("Importing calls and webhook settings are for owners and admins.")
        return
    if msg := st.session_state.pop(FLASH, None):
        st.success(md(msg))
    _upload(actor)
    _failed(actor)
    _secrets(actor)


def _upload(actor) -> None:
    st.subheader("Import event files")
    st.caption("ElevenLabs post-call webhooks or Tavus callbacks, as JSON (one event, or an array). Every file is "
               "checked first; one bad file and nothing is imported. A checked set is imported by a background "
               "worker, all or nothing, with its progress below. Importing an event again changes nothing.")
    files = st.file_uploader("Event files", type=["json"], accept_multiple_files=True, key="calls_upload")
    if files and st.button("Import", key="calls_import"):
        uploads = [(f.name, f.getvalue()) for f in files]
        try:
            check_call_files(actor, uploads)
            job, created = imports.queue_calls_import(actor, uploads)
        except DokaniError as err:
            show_domain_error(err)
        else:
            st.session_state[IMPORT_JOB] = job.lock_key
            if not created and job.live:
                st.info("These files are already being imported; the progress shows below.")
    if lock := st.session_state.get(IMPORT_JOB):
        show_job(actor, imports.CALLS_KIND, lock, unit="events",
                 done_message=lambda job: (job.result or {}).get("summary") or "Imported.")


def check_call_files(actor, uploads: list[tuple[str, bytes]]) -> None:
    """Every file parsed and every event placed (persona or known call) before anything is queued."""
    from dokani.calls.importer import check_resolvable, read_events

    if actor.role not in CAN_IMPORT:
        raise NotAllowed("Only owners and admins can import calls.")
    events = read_events(uploads)
    with unit_of_work(actor) as uow:
        check_resolvable(uow.session, actor.business_id, events)


def _failed(actor) -> None:
    st.subheader("Events that failed")
    with unit_of_work(actor) as uow:
        events = webhooks.failed_events(uow)
    if not events:
        st.caption("None: every event received was processed.")
        return
    for e in events:
        cols = st.columns([4, 1])
        with cols[0]:
            plain(f"{fmt.when(e.received_at)} · {e.provider} {e.event_type} · conversation {e.conversation_id or '—'} "
                  f"· {e.attempts} attempt(s)")
            plain(e.error or "received and queued: waiting for a worker to process it")
        if cols[1].button("Retry", key=f"calls_retry_{e.id}"):
            try:
                with unit_of_work(actor) as uow:
                    webhooks.retry_event(uow, e.id)
            except DokaniError as err:
                show_domain_error(err)
                continue
            st.session_state[FLASH] = f"Event {e.id} processed."
            st.rerun()


def _secrets(actor) -> None:
    st.subheader("Webhook secrets")
    with unit_of_work(actor) as uow:
        current = {s.provider: s for s in list_secrets(uow)}
    for provider, what in (("elevenlabs", "HMAC secret (paste the one ElevenLabs shows, or generate one)"),
                           ("tavus", "URL token (Tavus signs nothing: the URL is the secret)")):
        s = current.get(provider)
        st.caption(f"{provider}: " + (f"set {fmt.when(s.set_at)}, ends {md(s.hint)}" if s else "not set") + f" · {what}")
    with st.form("calls_secret_form"):
        provider = st.selectbox("Provider", ["elevenlabs", "tavus"], key="calls_secret_provider")
        given = st.text_input("Secret (empty: generate a new one)", type="password", key="calls_secret_value")
        if st.form_submit_button("Set / rotate"):
            try:
                with unit_of_work(actor) as uow:
                    result = set_secret(uow, provider, given or None)
                    uow.commit()
            except DokaniError as err:
                show_domain_error(err)
                return
            st.success("Saved. Shown once; the previous one no longer works.")
            st.code(result.describe(), language=None)
