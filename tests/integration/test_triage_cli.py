"""`python -m dokani triage`: every business, or one, with a progress bar; the database is checked after."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from db.demo import business

ROOT = Path(__file__).resolve().parents[2]


def _pending(url: str) -> dict:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT business_id, count(*) FROM return_requests WHERE status = 'pending_triage' "
                                 "GROUP BY 1").fetchall())


def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("DOKANI_APP_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "dokani", "triage", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_cli_triages_one_business_then_all(fresh_db):
    atlas, bloom = business("atlas").business_id, business("bloom").business_id
    before = _pending(fresh_db)
    assert before[atlas] and before[bloom]

    one = _cli(fresh_db, "--business", str(atlas))
    assert one.returncode == 0, one.stderr
    assert f"Triaged {before[atlas]} of {before[atlas]}" in one.stdout and "Atlas Outfitters" in one.stdout
    assert "return/s" in one.stderr or "%" in one.stderr  # tqdm's bar
    after = _pending(fresh_db)
    assert atlas not in after and after[bloom] == before[bloom]

    everything = _cli(fresh_db, "--quiet")
    assert everything.returncode == 0, everything.stderr
    assert _pending(fresh_db) == {}
    assert "Nothing to triage" in everything.stdout  # Atlas had nothing left


def test_cli_refuses_a_malformed_business_id(fresh_db):
    bad = _cli(fresh_db, "--business", "atlas")
    assert bad.returncode == 2 and "UUID" in bad.stderr
