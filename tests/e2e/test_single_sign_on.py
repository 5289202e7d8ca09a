"""Single sign-on through st.login against a real local OpenID Connect provider (oidc-provider-mock)."""
from __future__ import annotations

import secrets

import pytest
from oidc_provider_mock import run_server_in_thread
from playwright.sync_api import expect

from db.demo import user
from tests.e2e.conftest import free_port, start_app, stop_app, wait_for_app


@pytest.fixture
def sso_server(fresh_db, tmp_path):
    with run_server_in_thread() as provider:
        port = free_port()
        secrets_file = tmp_path / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "dokani-console"\n'
            'client_secret = "dokani-console-secret"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n'
        )
        server = start_app(fresh_db, tmp_path, port=port, extra_env={"DOKANI_SECRETS_FILE": str(secrets_file)})
        yield server
        stop_app(server)


def _sign_in_through_provider(page, server, email: str) -> None:
    page.goto(server.page_url("returns"))
    assert "/sign-in" in page.url
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.wait_for_selector("input[name=sub]")  # the provider's own authorisation form
    page.fill("input[name=sub]", email)
    page.get_by_role("button", name="Authorize").click()


def test_a_member_signs_in_through_the_provider_and_signs_out_again(sso_server, page):
    reviewer = user("atlas", "reviewer")
    _sign_in_through_provider(page, sso_server, reviewer.email)
    wait_for_app(page)
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("reviewer · Atlas Outfitters")
    page.reload()  # the provider's identity survives a reload
    wait_for_app(page)
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("reviewer · Atlas Outfitters")
    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url("**/sign-in**")
    page.goto(sso_server.page_url("returns"))
    assert "/sign-in" in page.url  # signing out ended the single sign-on identity too


def test_an_email_that_is_no_member_is_refused_with_a_clear_message(sso_server, page):
    _sign_in_through_provider(page, sso_server, "stranger@elsewhere.example")
    wait_for_app(page)
    expect(page.get_by_text("no business here has that email as a member")).to_be_visible()
    assert page.locator("[data-testid=stSidebarNav]").count() == 0


def test_a_member_signed_in_by_single_sign_on_downloads_the_queue_export_a_worker_prepared(sso_server, page,
                                                                                            fresh_db):
    # No console cookie for the streamed route: the console's own worker (serve starts one) prepares the file.
    import csv
    import io

    import psycopg

    reviewer = user("atlas", "reviewer")
    _sign_in_through_provider(page, sso_server, reviewer.email)
    wait_for_app(page)
    page.goto(sso_server.page_url("returns"))
    wait_for_app(page)
    page.get_by_role("button", name="Prepare CSV export (all matching rows)").click()
    download_button = page.get_by_role("button", name="Download the CSV")
    expect(download_button).to_be_visible(timeout=60_000)
    with page.expect_download() as download:
        download_button.click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    with psycopg.connect(fresh_db) as c:
        matching = c.execute("SELECT count(*) FROM return_requests r JOIN business_members m ON "
                             "m.business_id = r.business_id WHERE m.email = %s AND NOT r.is_test AND "
                             "r.status IN ('pending_review', 'escalated')", (reviewer.email,)).fetchone()[0]
    assert len(rows) == matching > 0 and rows[0]["Return id"]
