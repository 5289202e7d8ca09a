"""Hostile strings planted in customer- and admin-controlled fields; every page opened in a real browser:
no script runs, no element is injected, no markdown or Streamlit directive from the data is rendered, and no
image from a customer's link is fetched inline."""
from __future__ import annotations

import json

import psycopg
import pytest

from db.demo import business, user
from tests.e2e.conftest import open_as

pytestmark = pytest.mark.e2e

MARK = "zq"  # every planted string carries it, so the elements showing them can be found
EVIL = "https://evil.example"
PAYLOADS = [
    f"{MARK}<img src={EVIL}/x.png onerror=alert(1)>", f"{MARK}<script>alert(2)</script>", f"{MARK} :red[red]",
    f"{MARK} :material/home:", f"{MARK} $x^2$", f"{MARK} [link]({EVIL})", f"{MARK} **bold** # h", f"{MARK}\u202eevil",
]
INJECTED = ("a:not([data-testid=stLinkButton] a), img, script, iframe, h1, h2, h3, h4, h5, h6, ul, ol, table, code, "
            "strong, em, .katex, [data-testid=stIconMaterial], [class*=Colored]")


def _plant(url: str) -> str:
    atlas = business("atlas").business_id
    with psycopg.connect(url) as c:
        rid, pid = c.execute("SELECT id, public_id::text FROM return_requests WHERE business_id = %s AND "
                             "status = 'pending_review' AND NOT is_test ORDER BY id LIMIT 1", (atlas,)).fetchone()
        c.execute(
            "UPDATE return_requests SET reason_for_return = %s, product_category = %s, ai_recommendation = %s, "
            "admin_notes = %s, policy_version_used = %s, evidence_urls = %s, conversation_log = %s WHERE id = %s",
            (PAYLOADS[0] + PAYLOADS[6], PAYLOADS[2], PAYLOADS[3], PAYLOADS[4], PAYLOADS[5],
             [f"{EVIL}/photo.jpg", "javascript:alert(3)"], json.dumps([{"speaker": PAYLOADS[1], "text": PAYLOADS[7]}]),
             rid))
        c.execute("UPDATE return_requests SET order_id = order_id || %s WHERE id = %s", (" " + PAYLOADS[2], rid))
        c.execute("INSERT INTO public.policies (business_id, version, is_active, rules) VALUES (%s, %s, false, '{}')",
                  (atlas, PAYLOADS[5]))
        c.execute("UPDATE public.provider_configs SET config_name = %s WHERE id = (SELECT id FROM public.provider_configs "
                  "WHERE business_id = %s ORDER BY id LIMIT 1)", (PAYLOADS[3], atlas))
        c.execute("UPDATE public.chat_sessions SET session_name = %s WHERE id = (SELECT id FROM public.chat_sessions "
                  "WHERE business_id = %s ORDER BY created_at DESC LIMIT 1)", (PAYLOADS[2], atlas))
    return pid


def test_hostile_data_is_shown_as_text_on_every_page(app_server, page, fresh_db):
    pid = _plant(fresh_db)
    dialogs, fetched = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: fetched.append(r.url) if r.url.startswith(EVIL) else None)
    owner = user("atlas", "owner")
    visits = [("overview", {}), ("returns", {}), ("returns", {"return": pid}), ("policies", {}), ("chat", {}),
              ("calls", {}), ("risk", {}), ("import", {})]
    problems = []
    for path, query in visits:
        open_as(page, app_server, path, owner, **query)
        page.locator("h1").first.wait_for()
        page.wait_for_timeout(500)
        assert page.locator("[data-testid=stException]").count() == 0, path
        for box in page.locator("[data-testid=stMarkdownContainer]").filter(has_text=MARK).all():
            bad = box.locator(INJECTED)
            if bad.count():
                problems.append((path, bad.first.evaluate("e => e.outerHTML")[:160]))
        if "\u202e" in page.locator("body").inner_text():
            problems.append((path, "a bidi override is applied instead of shown"))
    assert not problems, problems
    assert not dialogs and not fetched, (dialogs, fetched)
