"""One call: provider ids, metrics, events and customer feedback beside its transcript (customer words as text)."""
from __future__ import annotations

import streamlit as st

from db.uow import unit_of_work
from dokani.calls import analytics as calls
from dokani.calls.analytics import CallDetail, CallRow
from dokani.ui import format as fmt
from dokani.ui.text import md, plain


def show_call(actor, row: CallRow) -> None:
    with unit_of_work(actor) as uow:
        detail = calls.call_detail(uow, row.id)
    st.subheader(md(f"{detail.call.call_type.title()} call · {detail.call.provider} · {fmt.when(detail.call.created_at)}"))
    info, talk = st.columns([1, 2])
    with info:
        _show_facts(detail)
    with talk:
        _show_transcript(detail)


def _show_facts(detail: CallDetail) -> None:
    st.markdown("**Provider ids**")
    if detail.external_ids:
        st.dataframe([{"id": k, "value": v} for k, v in detail.external_ids.items()], hide_index=True, width="stretch")
    else:
        st.caption("No provider ids recorded.")
    st.markdown("**Metrics**")
    if detail.metrics is None:
        st.caption("No analytics for this call yet.")
    else:
        mx = detail.metrics
        st.dataframe(
            [
                {"metric": "latency p50", "value": f"{fmt.number(mx.latency_ms_p50)} ms"},
                {"metric": "latency p95", "value": f"{fmt.number(mx.latency_ms_p95)} ms"},
                {"metric": "interruptions", "value": fmt.number(mx.interruptions)},
                {"metric": "sentiment (−1…1)", "value": fmt.number(mx.sentiment, 2)},
                {"metric": "resolution", "value": mx.resolution or fmt.NO_DATA},
                {"metric": "words per minute", "value": fmt.number(mx.words_per_minute)},
            ],
            hide_index=True, width="stretch",
        )
    if detail.events:
        st.markdown("**Events**")
        st.dataframe([{"at": fmt.duration_s(e.t), "event": e.type} for e in detail.events], hide_index=True, width="stretch")
    st.markdown("**Customer feedback**")
    fb = detail.customer_feedback
    if fb.rating is None and not fb.comment:
        st.caption("No feedback recorded.")
    else:
        plain(f"rating: {fb.rating if fb.rating is not None else fmt.NO_DATA} / 5")
        plain(fb.comment, empty="(no comment)")


def _show_transcript(detail: CallDetail) -> None:
    st.markdown("**Transcript**")
    if not detail.transcript:
        st.caption("No transcript for this call.")
    for line in detail.transcript:
        with st.chat_message("assistant" if line.speaker in ("agent", "ai", "assistant") else "user"):
            stamp = "" if line.at_seconds is None else f"[{fmt.duration_s(line.at_seconds)}] "
            plain(f"{stamp}{line.message}")


def show_call_record(actor, call_id) -> None:
    """What imported calls add: recording, evaluation with rationale, data collected, the return it was about."""
    from dokani.calls.call_record import call_record

    with unit_of_work(actor) as uow:
        rec = call_record(uow, call_id)
    left, right = st.columns(2)
    with left:
        _show_recordings(rec)
        _show_evaluation(rec)
    with right:
        _show_link(actor, call_id, rec)
        _show_collected(rec)
        _show_call_metrics(rec)


def _show_recordings(rec) -> None:
    st.markdown("**Recording**")
    if not rec.recordings:
        st.caption("No recording for this call.")
    for r in rec.recordings:
        if r.audio:
            st.audio(r.audio, format="audio/mpeg")
        elif r.location:
            st.caption("Held by the provider (not playable here):")
            plain(r.location)


def _show_evaluation(rec) -> None:
    st.markdown("**Provider evaluation**")
    if rec.call_successful is None and not rec.evaluation:
        st.caption("The provider did not evaluate this call.")
        return
    plain(f"call successful: {rec.call_successful or 'not stated'}")
    if rec.summary:
        plain(rec.summary)
    for j in rec.evaluation:
        plain(f"{j.criteria_id}: {j.result or 'no result'} — {j.rationale or 'no rationale given'}")


def _show_collected(rec) -> None:
    st.markdown("**Data collected**")
    if not rec.data_collected:
        st.caption("No data collected on this call.")
        return
    st.dataframe([{"field": d.data_collection_id, "value": "" if d.value is None else str(d.value),
                   "rationale": d.rationale or ""} for d in rec.data_collected], hide_index=True, width="stretch")


def _show_call_metrics(rec) -> None:
    mx = rec.extra_metrics
    facts = []
    if "turns" in mx:
        facts.append(("turns", fmt.number(mx["turns"])))
    for speaker, secs in (mx.get("talk_time_s") or {}).items():
        facts.append((f"talk time, {speaker} (estimated)", fmt.duration_s(secs)))
    for key, label in (("agent_response_gap_s_p50", "agent response gap p50"),
                       ("agent_response_gap_s_p95", "agent response gap p95"), ("longest_silence_s", "longest silence")):
        if key in mx:
            facts.append((label, f"{mx[key]:.1f} s" if isinstance(mx[key], (int, float)) else fmt.NO_DATA))
    if rec.cost is not None:
        facts.append(("cost", f"{rec.cost:,.0f} {rec.cost_unit or ''}".strip()))
    if rec.termination_reason:
        facts.append(("ended because", rec.termination_reason))
    if rec.error:
        facts.append(("failure", rec.error))
    if facts:
        st.markdown("**Call metrics (computed on import)**")
        st.dataframe([{"metric": k, "value": v} for k, v in facts], hide_index=True, width="stretch")
        if "agent_response_gap_s_p50" not in mx and "turns" in mx:
            st.caption("No response gaps: this provider's transcript carries no turn times.")


def _show_link(actor, call_id, rec) -> None:
    from dokani.calls.linking import CAN_CORRECT, correct_link
    from dokani.errors import DokaniError
    from dokani.ui.errors import show_domain_error
    from dokani.ui.links import review_link

    st.markdown("**Return**")
    link = rec.link
    if link is None or link.return_request_id is None:
        st.caption("Not linked to a return." + (" (a reviewer cleared it)" if link else ""))
    else:
        plain(f"return {link.public_id} · order {link.order_id} · {link.status or 'no status'} · "
              f"policy {link.policy_version_used or 'not decided yet'}")
        st.caption(f"Linked by {md(link.method_label)}" + (f" ({md(link.detail)})" if link.detail else ""))
        st.markdown(f"[Open the return]({review_link(link.public_id)})")
    if rec.persona:
        st.caption(f"Persona: {md(rec.persona)}")
    if actor.role not in CAN_CORRECT:
        return
    with st.form(f"call_link_{call_id}"):
        wanted = st.text_input("Return id (public id) this call was about; empty for none", key="call_link_return")
        note = st.text_input("Why (optional)", key="call_link_note")
        if st.form_submit_button("Correct the link"):
            from uuid import UUID

            try:
                target = UUID(wanted.strip()) if wanted.strip() else None
            except ValueError:
                st.error("That is not a return id (a UUID such as 2f1c…).")
                return
            try:
                with unit_of_work(actor) as uow:
                    correct_link(uow, call_id, target, note or None)
                    uow.commit()
            except DokaniError as err:
                show_domain_error(err)
                return
            st.success("Link corrected.")
            st.rerun()
