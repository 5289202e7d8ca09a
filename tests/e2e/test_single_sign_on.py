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
