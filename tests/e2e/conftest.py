"""Real-browser fixtures: the console served by `python -m dokani serve` (st.App + sign-in routes) on a free port, driven by Playwright + Debian Chromium.

The browser is Debian's `chromium` package (`/usr/bin/chromium`, or `DOKANI_CHROMIUM`); Playwright never downloads one.
When it is missing the tests are skipped on a developer machine but FAIL in CI (`CI` or `DOKANI_REQUIRE_BROWSER` set).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DOKANI_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def _browser_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("DOKANI_REQUIRE_BROWSER"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if _browser_required():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class AppServer:
    def __init__(self, url: str, process: subprocess.Popen, log: Path):
        self.url = url
        self.process = process
        self.log = log

    def page_url(self, path: str = "", **query: str) -> str:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.url}/{path.lstrip('/')}" + (f"?{q}" if q else "")


def start_app(database_url: str, tmp_path: Path, port: int | None = None, extra_env: dict | None = None) -> AppServer:
    port = port or free_port()
    log = tmp_path / "streamlit.log"
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    env.pop("DOKANI_APP_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "dokani", "serve", "--port", str(port), "--host", "127.0.0.1"],
        cwd=ROOT, env={**env, "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return AppServer(url, process, log)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"streamlit did not become healthy:\n{log.read_text()}")


def stop_app(server: AppServer) -> None:
    """SIGTERM (the console stops its workers), then SIGKILL if it has not ended within 10 s."""
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture
def app_server(fresh_db, tmp_path):
    server = start_app(fresh_db, tmp_path)
    yield server
    stop_app(server)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    p = context.new_page()
    p.set_default_timeout(30_000)
    yield p
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        p.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def wait_for_app(page) -> None:
    """Wait until the script finished running and nothing is left spinning."""
    page.wait_for_selector("[data-testid=stApp][data-test-connection-state=CONNECTED]")
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]")


def sign_in(page, server: AppServer, email: str, password: str) -> None:
    """Fill in the sign-in form (whatever page the browser is on redirected there) and submit it."""
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


def open_as(page, server: AppServer, path: str, user, **query: str) -> None:
    """Open `path` as the demo user `user` (a DemoUser): the console sends the browser to sign in first."""
    from db.demo import DEMO_PASSWORD

    page.goto(server.page_url(path, **query))
    if "/sign-in" in page.url:
        sign_in(page, server, user.email, DEMO_PASSWORD)
    wait_for_app(page)
