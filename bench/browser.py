"""One decision as a reviewer feels it: a real Chromium (Debian's, driven by Playwright) on the console served by
``python -m dokani serve`` (both started as the browser tests start them, ``tests/e2e/conftest.py``), demo data.
The time runs from the click on Approve to the confirmation on the page: the websocket round trip, the rerun that
writes the decision with its audit row, and the page drawn again.

Target (issue #11, ``bench.report.BROWSER_TARGET_MS``): <= 500 ms on demo data. Each bench run reseeds its own
demo database first (the decisions change it), so every run approves returns the demo left waiting for a person.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def _demo_database(server_url: str) -> str:
    from db.migrate import upgrade
    from db.seed import seed_database
    from db.url import with_database

    name = "dokani_bench_demo"
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            c.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    upgrade(url)
    seed_database(url, seed=7, reset=True, progress=False)
    return url


def _waiting(url: str, n: int) -> list[str]:
    from db.demo import business

    with psycopg.connect(url) as c:
        return [r[0] for r in c.execute(
            "SELECT public_id::text FROM return_requests WHERE business_id = %s AND NOT is_test "
            "AND status = 'pending_review' ORDER BY created_at LIMIT %s", (business("atlas").business_id, n))]


def decision_round_trip(server_url: str, repeat: int = 7) -> dict | None:
    """Median and worst click-to-confirmation time of `repeat` approvals (after one warm-up); None without a
    browser (the bench says so instead of a number)."""
    # The console and the browser as the browser tests have them: `serve` on a free port, Debian's Chromium.
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, open_as, start_app, stop_app, wait_for_app

    if not Path(CHROMIUM).exists():
        print(f"browser round trip: skipped, no Chromium at {CHROMIUM} (apt-get install chromium)")
        return None
    from playwright.sync_api import expect, sync_playwright

    from db.demo import user

    url = _demo_database(server_url)
    public_ids = _waiting(url, repeat + 1)
    (ROOT / "artifacts").mkdir(exist_ok=True)
    server = start_app(url, ROOT / "artifacts")
    times: list[float] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
            page.set_default_timeout(30_000)
            open_as(page, server, "returns", user("atlas", "reviewer"))
            for i, public_id in enumerate(public_ids):
                page.goto(server.page_url("returns", **{"return": public_id}))
                wait_for_app(page)
                expect(page.get_by_text(f"Return {public_id}")).to_be_visible()
                page.get_by_label("Note").fill("Bench: approving.")
                approve = page.get_by_role("button", name="Approve", exact=True)
                started = time.perf_counter()
                approve.click()
                expect(page.get_by_text("Saved: needs review → approved.")).to_be_visible()
                elapsed = (time.perf_counter() - started) * 1000
                if i:  # the first one warms the server's caches and plans
                    times.append(elapsed)
            browser.close()
    finally:
        stop_app(server)
    result = {"name": "one decision: browser round trip on demo data", "median_ms": round(statistics.median(times), 1),
              "max_ms": round(max(times), 1), "runs": len(times)}
    print(f"browser: one decision, click to confirmation   median {result['median_ms']:>7.1f} ms   "
          f"max {result['max_ms']:>7.1f} ms   ({len(times)} approvals)")
    return result
