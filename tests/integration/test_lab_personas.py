"""Persona configs: create and edit with validation, one default per provider, concurrency, roles, audit."""
from __future__ import annotations

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.lab import personas
from dokani.errors import Conflict, Invalid, NotAllowed
from tests.lab_fixtures import load_lab_business
from tests.conftest import actor_for


@pytest.fixture
def lab(empty_db):
    load_lab_business(empty_db)
    return empty_db


def test_create_validates_config_and_keeps_unknown_keys(lab):
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        with pytest.raises(Invalid) as err:
            personas.create_persona(uow, "elevenlabs", "Nia", {"persona_name": "Nia", "stability": 2})
        assert {"voice_id", "stability"} <= set(err.value.problems)
        made = personas.create_persona(uow, "elevenlabs", "Nia", {"persona_name": "Nia", "voice_id": "voice_nia_1",
                                                                   "tone": "empathetic", "dashboard_flag": True})
        assert made.config_data["dashboard_flag"] is True and made.config_data["stability"] == 0.5
        with pytest.raises(Conflict):
            personas.create_persona(uow, "tavus", "nia", {"persona_name": "Nia", "replica_id": "r_nia_1"})
        assert [p.config_name for p in personas.list_personas(uow)] == ["Ava", "Max", "Nia"]  # default first


def test_set_default_touches_only_is_default(lab):
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        ava = personas.get_persona(uow, "ava")
        made = personas.create_persona(uow, "elevenlabs", "Nia", {"persona_name": "Nia", "voice_id": "voice_nia_1"})
        personas.set_default(uow, made.id)
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        after_ava = personas.get_persona(uow, ava.id)
        nia = personas.get_persona(uow, made.id)
    assert nia.is_default and not after_ava.is_default
    assert after_ava.config_data == ava.config_data and after_ava.updated_at == ava.updated_at
    assert nia.config_data == made.config_data


def test_edit_detects_a_concurrent_save(lab):
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        ava = personas.get_persona(uow, "Ava")
        saved = personas.update_persona(uow, ava.id, expected_updated_at=ava.updated_at, config_name="Ava",
                                        config_data={"tone": "concise"})
        assert saved.config_data["tone"] == "concise" and saved.config_data["voice_id"] == "voice_ava_001"
        with pytest.raises(Conflict):
            personas.update_persona(uow, ava.id, expected_updated_at=ava.updated_at, config_name="Ava",
                                    config_data={"tone": "formal"})
        with pytest.raises(Invalid):
            personas.update_persona(uow, ava.id, expected_updated_at=saved.updated_at, config_name="Ava",
                                    config_data={"tone": "sarcastic"})
    with psycopg.connect(lab) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log WHERE entity = 'provider_configs'")]
        tone = conn.execute("SELECT config_data->>'tone' FROM provider_configs WHERE config_name = 'Ava'").fetchone()[0]
    assert actions == ["persona.update"] and tone == "concise"


def test_reviewers_cannot_edit_personas(lab):
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        ava = personas.get_persona(uow, "Ava")  # reading is fine
        with pytest.raises(NotAllowed):
            personas.set_default(uow, ava.id)


def test_another_business_cannot_see_atlas_personas(lab):
    from dokani.errors import NotFound

    with unit_of_work(actor_for("bloom", "owner")) as uow:
        assert personas.list_personas(uow) == []
        with pytest.raises(NotFound):
            personas.get_persona(uow, "Ava")
