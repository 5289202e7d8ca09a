"""Importing returns: all or nothing, into the acting business only, never over an open return."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from db.demo import business
from db.uow import unit_of_work
from dokani.errors import Invalid, NotAllowed
from dokani.returns.csv_import import import_returns, preview_returns_csv
from tests.conftest import actor_for

ROOT = Path(__file__).resolve().parents[2]
GOOD = (
    "order_id,customer_email,reason_for_return,order_value,product_category\n"
    "IMP-1,ann@example.com,The lamp arrived cracked,40,home\n"
    "IMP-2,bob@example.com,<b>Too small</b>,25,apparel\n"
).encode()


def _count(url: str, where: str, *params) -> int:
    with psycopg.connect(url) as c:
        return c.execute(f"SELECT count(*) FROM return_requests WHERE {where}", params).fetchone()[0]


def test_a_good_file_becomes_pending_triage_returns_of_the_acting_business_with_an_audit_row(fresh_db):
    atlas = business("atlas").business_id
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        assert import_returns(uow, preview_returns_csv(GOOD), file_name="shop.csv") == 2
        uow.commit()
    assert _count(fresh_db, "order_id LIKE 'IMP-%%' AND business_id = %s AND status = 'pending_triage'", atlas) == 2
    with psycopg.connect(fresh_db) as c:
        reason = c.execute("SELECT reason_for_return FROM return_requests WHERE order_id = 'IMP-2'").fetchone()[0]
        audit = c.execute("SELECT actor_email, after FROM audit_log WHERE action = 'import'").fetchall()
    assert reason == "<b>Too small</b>"  # stored as written; pages render it as text
    assert audit == [("admin@atlas.example", {"returns": 2, "file": "shop.csv"})]


def test_an_order_with_an_open_return_refuses_the_whole_file(fresh_db):
    with psycopg.connect(fresh_db) as c:
        open_order = c.execute(
            "SELECT order_id FROM return_requests WHERE business_id = %s AND status = 'pending_review' LIMIT 1",
            (business("atlas").business_id,),
        ).fetchone()[0]
    data = GOOD + f"{open_order},cy@example.com,broken,10,home\n".encode()
    before = _count(fresh_db, "TRUE")
    with unit_of_work(actor_for("atlas", "owner")) as uow, pytest.raises(Invalid) as err:
        import_returns(uow, preview_returns_csv(data), file_name="x.csv")
    assert f"order {open_order} already has an open return" in err.value.problems["file"]
    assert _count(fresh_db, "TRUE") == before


def test_reviewers_cannot_import(fresh_db):
    with unit_of_work(actor_for("atlas", "reviewer")) as uow, pytest.raises(NotAllowed):
        import_returns(uow, preview_returns_csv(GOOD), file_name="x.csv")


def test_cli_reports_line_precise_problems_and_writes_nothing(fresh_db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("order_id,customer_email,reason_for_return\nA-1,nope,broken\n")
    result = subprocess.run([sys.executable, "-m", "dokani", "import-returns", str(bad), "--business",
                             str(business("bloom").business_id), "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "bad.csv: line 2, customer_email: not an email address" in result.stderr
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD)
    result = subprocess.run([sys.executable, "-m", "dokani", "import-returns", str(good), "--business",
                             str(business("bloom").business_id), "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert _count(fresh_db, "order_id LIKE 'IMP-%%' AND business_id = %s", business("bloom").business_id) == 2
