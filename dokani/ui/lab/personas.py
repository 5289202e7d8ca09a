"""Chat test lab, tab "Personas": ElevenLabs and Tavus persona configs — list, create, edit, set the default."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.lab import personas
from dokani.errors import DokaniError
from dokani.ui import format as fmt
from dokani.ui.errors import show_domain_error
from dokani.ui.selection import hold_selection
from dokani.ui.text import md


def _table(people: list[personas.Persona]) -> None:
    rows = []
    for p in people:
        style = p.style
        rows.append({"Persona": p.config_name, "Provider": personas.PROVIDER_LABELS.get(p.provider, p.provider),
                     "Name": style.persona_name, "Tone": style.tone,
                     "Escalation": personas.ESCALATION_LABELS.get(style.escalation, style.escalation),
                     "Default": p.is_default, "Active": p.is_active, "Uses": p.usage_count,
                     "Last used": fmt.when(p.last_used_at) if p.last_used_at else "never"})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="persona_table", column_config={
        "Uses": st.column_config.NumberColumn(
            "Uses", help="agent replies and suite scenarios with this persona, counted by the console"),
        "Default": st.column_config.CheckboxColumn("Default", help="the persona new sessions start with, per provider"),
    })


def _fields(prefix: str, provider: str, data: dict) -> dict:
    """The config form's widgets; returns config_data as typed."""
    style = personas.persona_style(data.get("persona_name") or "", data) if data else None
    c1, c2, c3 = st.columns(3)
    out = {"persona_name": c1.text_input("Name the agent uses", value=style.persona_name if style else "", key=f"{prefix}_pname")}
    tones = list(personas.TONES)
    out["tone"] = c2.selectbox("Tone", tones, index=tones.index(style.tone) if style else 0, key=f"{prefix}_tone")
    esc = list(personas.ESCALATIONS)
    out["escalation"] = c3.selectbox("Escalation", esc, index=esc.index(style.escalation) if style else 0,
                                     format_func=lambda e: personas.ESCALATION_LABELS[e], key=f"{prefix}_esc")
    out["greeting"] = st.text_input("Greeting ({name} and {shop} are filled in)", value=style.greeting if style else "",
                                    key=f"{prefix}_greeting")
    out["sign_off"] = st.text_input("Sign-off", value=style.sign_off if style else "", key=f"{prefix}_signoff")
    c4, c5, c6 = st.columns(3)
    if provider == "elevenlabs":
        out["voice_id"] = c4.text_input("Voice id", value=str(data.get("voice_id", "")), key=f"{prefix}_voice")
        out["stability"] = c5.slider("Stability", 0.0, 1.0, float(data.get("stability", 0.5)), key=f"{prefix}_stab")
        out["similarity_boost"] = c6.slider("Similarity boost", 0.0, 1.0, float(data.get("similarity_boost", 0.75)),
                                            key=f"{prefix}_sim")
    else:
        out["replica_id"] = c4.text_input("Replica id", value=str(data.get("replica_id", "")), key=f"{prefix}_replica")
        qualities = ["low", "standard", "high"]
        q = data.get("video_quality", "standard")
        out["video_quality"] = c5.selectbox("Video quality", qualities, index=qualities.index(q) if q in qualities else 1,
                                            key=f"{prefix}_quality")
        out["max_call_duration_s"] = c6.number_input("Max call (s)", 30, 3600, int(data.get("max_call_duration_s", 600)),
                                                     key=f"{prefix}_maxdur")
    return out


FLASH = "persona_flash"


def _done(message: str) -> None:
    """Remember what was saved for the next run, then rerun so the table shows it."""
    st.session_state[FLASH] = message
    st.rerun()


def show(actor: Actor) -> None:
    done = st.session_state.pop(FLASH, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    with unit_of_work(actor) as uow:
        people = personas.list_personas(uow)
    can_edit = actor.role in personas.EDIT_ROLES
    if people:
        _table(people)
    else:
        st.info("No ElevenLabs (voice) or Tavus (video) personas yet. "
                + ("Create the first one under “New persona” below." if actor.role in personas.EDIT_ROLES else
                   "An owner, admin or tester can create one."), icon=":material/info:")
    if not can_edit:
        st.caption(f"Your role ({actor.role}) can read personas; owners, admins and testers can change them.")
        return
    if people:
        _edit(actor, people)
    _create(actor, people)


def _edit(actor: Actor, people: list[personas.Persona]) -> None:
    """Pick a persona: make it the default, or edit its settings (optimistic: stale edits are refused)."""
    by_id = {str(p.id): p for p in people}
    c1, c2 = st.columns([3, 1])
    hold_selection("persona_pick")  # the labels carry the persona's name, which a save may change
    pick = c1.selectbox("Persona to change", list(by_id), format_func=lambda i: by_id[i].label, key="persona_pick")
    chosen = by_id[pick]
    if c2.button("Make default", key="persona_default", disabled=chosen.is_default or not chosen.is_active,
                 help=f"The default {personas.PROVIDER_LABELS[chosen.provider]} persona; nothing else changes"):
        try:
            with unit_of_work(actor) as uow:
                personas.set_default(uow, chosen.id)
            _done(f"{md(chosen.config_name)} is now the default {personas.PROVIDER_LABELS[chosen.provider]} persona.")
        except DokaniError as err:
            show_domain_error(err)
    loaded_key = f"persona_loaded_{chosen.id}"
    loaded = st.session_state.setdefault(loaded_key, chosen.updated_at)
    with st.form(f"persona_edit_{chosen.id}"):
        st.markdown(f"**Edit** · {personas.PROVIDER_LABELS[chosen.provider]}")
        name = st.text_input("Config name", value=chosen.config_name, key=f"pe_{chosen.id}_name")
        data = _fields(f"pe_{chosen.id}", chosen.provider, chosen.config_data)
        active = st.checkbox("Active", value=chosen.is_active, key=f"pe_{chosen.id}_active")
        if st.form_submit_button("Save persona"):
            try:
                with unit_of_work(actor) as uow:
                    personas.update_persona(uow, chosen.id, expected_updated_at=loaded, config_name=name,
                                            config_data=data, is_active=active)
                st.session_state.pop(loaded_key, None)
                _done(f"Saved persona {md(name)}.")
            except DokaniError as err:
                show_domain_error(err)


def _create(actor: Actor, people: list[personas.Persona]) -> None:
    with st.expander("New persona", expanded=not people):
        provider = st.radio("Provider", personas.PROVIDERS, format_func=lambda p: personas.PROVIDER_LABELS[p],
                            horizontal=True, key="pn_provider")
        with st.form("persona_new"):
            name = st.text_input("Config name", key="pn_name")
            data = _fields("pn", provider, {})
            if st.form_submit_button("Create persona"):
                try:
                    with unit_of_work(actor) as uow:
                        personas.create_persona(uow, provider, name, data)
                    _done(f"Created persona {md(name)}.")
                except DokaniError as err:
                    show_domain_error(err)
