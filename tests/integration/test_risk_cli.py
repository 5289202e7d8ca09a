"""`python -m dokani risk --business ID`: scores every customer of that business, with progress; bad ids refused."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from db.demo import business
from dokani.risk.weights import SCORER_ID

ROOT = Path(__file__).resolve().parents[2]


def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("DOKANI_APP_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "dokani", "risk", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def _scored(url: str) -> dict:
    with psycopg.connect(url) as c:
        return dict(c.execute("SELECT business_id, count(*) FROM customer_risk_profiles "
                              "WHERE behavior_patterns ->> 'model' = %s GROUP BY 1", (SCORER_ID,)).fetchall())


def test_cli_scores_one_business(fresh_db):
    atlas = business("atlas").business_id
    with psycopg.connect(fresh_db) as c:  # profiles from elsewhere, never scored here (the seed scores everyone)
        c.execute("UPDATE customer_risk_profiles SET behavior_patterns = '{}'")
    assert _scored(fresh_db) == {}
    done = _cli(fresh_db, "--business", str(atlas), "--chunk", "10")
    assert done.returncode == 0, done.stderr
    scored = _scored(fresh_db)
    assert list(scored) == [atlas]
    assert f"Scored {scored[atlas]:,} customer(s)" in done.stdout and "Atlas Outfitters" in done.stdout
    assert "customer/s" in done.stderr or "%" in done.stderr  # tqdm's bar
    again = _cli(fresh_db, "--business", str(atlas))
    assert again.returncode == 0 and f"0 profile(s) created or changed, {scored[atlas]:,} unchanged" in again.stdout


def test_cli_refuses_a_bad_business(fresh_db):
    bad = _cli(fresh_db, "--business", "not-a-uuid")
    assert bad.returncode == 2 and "not-a-uuid" in bad.stderr and "Traceback" not in bad.stderr
    missing = _cli(fresh_db, "--business", "00000000-0000-0000-0000-000000000000")
    assert missing.returncode == 2 and "no business" in missing.stderr


def test_demo_seed_shows_computed_scores(empty_db, capsys):
    from dokani.__main__ import main

    assert main(["seed", "--quiet", "--returns", "60", "--anchor", "2026-11-20"]) == 0
    with psycopg.connect(empty_db) as c:
        unscored = c.execute("SELECT count(*) FROM customer_risk_profiles "
                             "WHERE behavior_patterns ->> 'model' IS DISTINCT FROM %s", (SCORER_ID,)).fetchone()[0]
    assert unscored == 0 and _scored(empty_db)
