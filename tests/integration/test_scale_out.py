"""Two console processes over one Postgres, 20 reviewers deciding the same returns at once: every return is
decided exactly once, the audit log says so, and every other attempt gets the clear "changed since you opened it"
message, or, for a reviewer who opened it after it was decided, that it is already approved (no other error)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import psycopg

from db.demo import business
from tests.conftest import ROOT

ATLAS = business("atlas").business_id


def _rows(url, sql, *params):
    with psycopg.connect(url) as c:
        return c.execute(sql, params).fetchall()


def test_twenty_reviewers_in_two_processes_decide_each_return_exactly_once(fresh_db):
    ids = [i for (i,) in _rows(fresh_db, "SELECT id FROM return_requests WHERE business_id = %s AND status = "
                               "'pending_review' ORDER BY id LIMIT 500", ATLAS)]
    assert len(ids) >= 10
    env = {**os.environ, "DATABASE_URL": fresh_db}
    env.pop("DOKANI_APP_DATABASE_URL", None)
    procs = [subprocess.Popen([sys.executable, "-m", "tests.integration.reviewer_swarm", "10", *map(str, ids)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    attempts = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        attempts += [json.loads(line) for line in out.splitlines()]
    assert len(attempts) == 20 * len(ids)
    assert [a for a in attempts if a["outcome"] == "error"] == []
    decided = Counter(a["id"] for a in attempts if a["outcome"] == "decided")
    assert decided == Counter({i: 1 for i in ids})  # each return exactly once
    refused = [a for a in attempts if a["outcome"] != "decided"]
    # Seen before the decision: "changed since you opened it" (and who decided it); opened after it: already approved.
    assert {a["message"] for a in refused if "changed since you opened it" not in a["message"]} <= {
        "A return that is approved cannot be approved."}
    assert sum("changed since you opened it" in a["message"] for a in refused) > len(ids)  # the race did happen
    assert _rows(fresh_db, "SELECT count(*) FROM return_requests WHERE id = ANY(%s) AND status = 'approved'",
                 ids) == [(len(ids),)]
    audited = Counter(int(e) for (e,) in _rows(
        fresh_db, "SELECT entity_id FROM audit_log WHERE action = 'approve' AND entity_id = ANY(%s)",
        [str(i) for i in ids]))
    assert audited == decided
