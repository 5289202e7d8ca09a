"""Revision 0005: test returns are marked, and the marker is what keeps them out of the live queue."""
from __future__ import annotations

import psycopg


def test_return_requests_has_a_test_marker_defaulting_to_live(empty_db):
    with psycopg.connect(empty_db) as conn:
        row = conn.execute(
            "SELECT is_nullable, column_default FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = 'return_requests' AND column_name = 'is_test'"
        ).fetchone()
        assert row == ("NO", "false")
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'return_requests'")}
        assert "return_requests_live_queue_idx" in indexes


def test_one_default_persona_per_business_and_provider(empty_db):
    with psycopg.connect(empty_db) as conn:
        conn.execute("INSERT INTO auth.users (id, email) VALUES ('00000000-0000-0000-0000-000000000001', 'o@x.example')")
        conn.execute(
            "INSERT INTO public.profiles (id, business_name, business_id) VALUES "
            "('00000000-0000-0000-0000-000000000001', 'X', '00000000-0000-0000-0000-0000000000b1')"
        )
        insert = (
            "INSERT INTO public.provider_configs (business_id, provider, config_name, is_default) "
            "VALUES ('00000000-0000-0000-0000-0000000000b1', 'elevenlabs', %s, true)"
        )
        conn.execute(insert, ("first",))
        try:
            conn.execute(insert, ("second",))
        except psycopg.errors.UniqueViolation:
            return
        raise AssertionError("two default ElevenLabs personas were accepted")
