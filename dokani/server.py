"""The console's ASGI server: Streamlit's ``st.App`` with the routes a Streamlit script cannot serve.

- ``GET/POST /sign-in``: the email + password form; success sets the HttpOnly session cookie and returns
  to the page asked for (``next``, a path on this site only).
- ``GET/POST /sign-out``: revokes the session and clears the cookie.
- ``GET/POST /set-password``: the one-time invitation / reset link's form.
- ``GET /healthz``: the process and the database answer.
- ``POST /webhooks/elevenlabs``, ``POST /webhooks/tavus/<token>``: provider call events (``dokani.calls``).
- A middleware sends a browser that opens a console page without a live session to ``/sign-in`` first,
  so a deep link survives sign-in. ``app.py`` checks the session again on every run: it is the guard,
  the redirect is a convenience.

``python -m dokani serve [--port N]`` runs it under uvicorn.
"""
from __future__ import annotations

import html
import logging
import os
from pathlib import Path
from urllib.parse import quote, urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

log = logging.getLogger("dokani.server")
ROOT = Path(__file__).resolve().parent.parent
SIGN_IN = "/sign-in"
SIGN_OUT = "/sign-out"
# Paths that are not console pages: Streamlit's own routes and assets, and ours.
SET_PASSWORD = "/set-password"
_NOT_PAGES = ("/_stcore", "/static", "/media", "/component", "/app/static", SIGN_IN, SIGN_OUT, SET_PASSWORD,
              "/healthz", "/auth/", "/oauth2callback", "/exports/", "/webhooks/")
SSO_COOKIE = "_streamlit_user"  # Streamlit's signed identity cookie after st.login
SSO_START = "/?sso=1"  # the console hands over to the identity provider (st.login) on this URL


def safe_next(target: str | None) -> str:
    """A path on this site to return to after sign-in; anything else (other hosts, schemes) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith((SIGN_IN, SIGN_OUT)):
        return "/"
    return target


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _demo_accounts_html() -> str:
    """The demo accounts, only when the database is the embedded demo one (never on a real server)."""
    from db.url import configured_url

    if configured_url() is not None:
        return ""
    from db.demo import BUSINESSES, DEMO_PASSWORD, users_of

    first = BUSINESSES[0]
    rows = "".join(
        f"<tr><td><code>{html.escape(u.email)}</code></td><td>{html.escape(u.role)}</td></tr>"
        for u in users_of(first.key)
    )
    return (
        f"<section class='demo'><h2>Demo accounts</h2><p>This console runs on the embedded demo database. "
        f"Every account of {html.escape(first.name)} has the password <code>{html.escape(DEMO_PASSWORD)}</code>.</p>"
        f"<table><tr><th>email</th><th>role</th></tr>{rows}</table></section>"
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Dokani console</title>
<style>
body {{ font-family: "Source Sans Pro", system-ui, sans-serif; background: #f6f7f9; color: #262730; margin: 0; }}
main {{ max-width: 26rem; margin: 8vh auto; background: #fff; padding: 2rem 2.25rem; border-radius: .75rem;
        box-shadow: 0 1px 4px rgba(0,0,0,.08); }}
h1 {{ font-size: 1.5rem; margin: 0 0 .25rem; }} h2 {{ font-size: 1rem; margin: 1.5rem 0 .5rem; }}
p.lead {{ color: #6b6f76; margin: 0 0 1.5rem; }}
label {{ display: block; font-size: .9rem; margin: .9rem 0 .3rem; }}
input {{ width: 100%; box-sizing: border-box; padding: .55rem .7rem; border: 1px solid #d5d7dc; border-radius: .4rem;
         font-size: 1rem; }}
button {{ margin-top: 1.25rem; width: 100%; padding: .6rem; border: 0; border-radius: .4rem; background: #0F766E;
          color: #fff; font-size: 1rem; cursor: pointer; }}
.error {{ background: #fdecea; color: #8a1c12; padding: .6rem .8rem; border-radius: .4rem; margin-bottom: 1rem; }}
.notice {{ background: #eaf4fd; color: #0b4a7a; padding: .6rem .8rem; border-radius: .4rem; margin-bottom: 1rem; }}
.or {{ text-align: center; color: #6b6f76; margin: 1rem 0 .5rem; }}
a.sso {{ display: block; text-align: center; padding: .55rem; border: 1px solid #d5d7dc; border-radius: .4rem;
         color: #262730; text-decoration: none; }}
.demo {{ border-top: 1px solid #eee; margin-top: 1.5rem; font-size: .9rem; }}
.demo table {{ border-collapse: collapse; width: 100%; }} .demo td, .demo th {{ text-align: left; padding: .2rem .3rem; }}
</style></head>
<body><main>
<h1>Dokani console</h1><p class="lead">Sign in to work on your shop's returns.</p>
{message}
{body}
</main></body></html>"""

_SIGN_IN_FORM = """<form method="post" action="{action}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="{email}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
{sso}{demo}"""

_SSO_LINK = """<p class="or">or</p><a class="sso" href="{href}">Sign in with single sign-on</a>"""


def sso_configured() -> bool:
    """True when Streamlit's ``[auth]`` secrets are set, so st.login can run."""
    try:
        from streamlit.runtime.secrets import secrets_singleton

        return "auth" in secrets_singleton
    except Exception:  # no secrets file
        return False


def _page(body: str, error: str | None = None, notice: str | None = None, status_code: int = 200) -> HTMLResponse:
    """The console's own small pages (sign-in, set password): `body` is HTML built here, messages are escaped."""
    message = ""
    if error:
        message = f"<div class='error' role='alert'>{html.escape(error)}</div>"
    elif notice:
        message = f"<div class='notice' role='status'>{html.escape(notice)}</div>"
    return HTMLResponse(_PAGE.format(message=message, body=body), status_code=status_code,
                        headers={"Cache-Control": "no-store"})


def sign_in_page(next_path: str = "/", email: str = "", error: str | None = None, notice: str | None = None,
                 status_code: int = 200) -> HTMLResponse:
    sso = _SSO_LINK.format(href=html.escape(SSO_START)) if sso_configured() else ""
    form = _SIGN_IN_FORM.format(action=html.escape(f"{SIGN_IN}?next={quote(next_path)}"), email=html.escape(email),
                                sso=sso, demo=_demo_accounts_html())
    return _page(form, error=error, notice=notice, status_code=status_code)


async def sign_in_route(request: Request) -> Response:
    from dokani.accounts.sessions import ABSOLUTE, COOKIE, verify_session
    from dokani.accounts.sign_in import SignInRefused, sign_in

    next_path = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        if await anyio.to_thread.run_sync(verify_session, request.cookies.get(COOKIE)):
            return RedirectResponse(next_path, status_code=303)
        from dokani.accounts.sign_in import NO_MEMBERS, anyone_can_sign_in

        notice = "You are signed out." if request.query_params.get("signed_out") else None
        try:
            if not await anyio.to_thread.run_sync(anyone_can_sign_in):
                notice = NO_MEMBERS.replace("`", "")
        except Exception:
            log.exception("database unreachable")
            return sign_in_page(next_path, status_code=503,
                                error="The console cannot reach its database right now. Try again in a moment.")
        return sign_in_page(next_path, notice=notice)
    form = await request.form()
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    try:
        signed = await anyio.to_thread.run_sync(sign_in, email, password, request.headers.get("user-agent"))
    except SignInRefused as refused:
        return sign_in_page(next_path, email=email[:320], error=str(refused), status_code=401)
    except Exception:  # the database is unreachable: say so, keep the form
        log.exception("sign-in failed")
        return sign_in_page(next_path, email=email[:320], status_code=503,
                            error="The console cannot reach its database right now. Try again in a moment.")
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(COOKIE, signed.token, max_age=int(ABSOLUTE.total_seconds()), path="/", httponly=True,
                        samesite="lax", secure=_secure(request))
    return response


_SET_FORM = """<form method="post" action="{action}">
<p>Choose a password for <strong>{email}</strong> (at least {min_length} characters).</p>
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required>
<label for="repeated">Repeat it</label>
<input id="repeated" name="repeated" type="password" autocomplete="new-password" required>
<button type="submit">Set password</button>
</form>"""


async def set_password_route(request: Request) -> Response:
    from dokani.accounts.password_links import link_email, use_link
    from dokani.accounts.passwords import MIN_LENGTH
    from dokani.errors import Invalid

    token = request.query_params.get("token") or ""
    email = await anyio.to_thread.run_sync(link_email, token)
    if email is None:
        return _page("", error="This link has expired or was already used. "
                               "Ask an owner or admin of your business for a new one.", status_code=404)
    form_html = _SET_FORM.format(action=html.escape(f"{SET_PASSWORD}?token={quote(token)}"), email=html.escape(email),
                                 min_length=MIN_LENGTH)
    if request.method == "GET":
        return _page(form_html)
    form = await request.form()
    try:
        await anyio.to_thread.run_sync(use_link, token, str(form.get("password") or ""), str(form.get("repeated") or ""))
    except Invalid as err:
        return _page(form_html, error=str(err), status_code=400)
    return sign_in_page("/", email=email, notice="Your password is set. Sign in with it now.")


async def sign_out_route(request: Request) -> Response:
    from dokani.accounts.sessions import COOKIE, revoke_session

    try:
        await anyio.to_thread.run_sync(revoke_session, request.cookies.get(COOKIE))
    except Exception:  # the cookie is cleared below in any case
        pass
    response = RedirectResponse(f"{SIGN_IN}?signed_out=1", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    if any(name.startswith(SSO_COOKIE) for name in request.cookies):  # signed in through st.login: end that too
        from streamlit.web.server.starlette.starlette_auth_routes import _clear_auth_cookie

        _clear_auth_cookie(response, request)
    return response


async def health_route(request: Request) -> Response:
    from sqlalchemy import text

    from db.engine import app_engine

    def ping() -> None:
        with app_engine().connect() as conn:
            conn.execute(text("SELECT 1"))

    try:
        await anyio.to_thread.run_sync(ping)
    except Exception:
        return JSONResponse({"status": "database unreachable"}, status_code=503)
    return JSONResponse({"status": "ok"})


class SignInFirst:
    """ASGI middleware: a browser opening a console page with no live session goes to the sign-in form."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and self._is_page(scope):
            request = Request(scope)
            if "text/html" in request.headers.get("accept", "") and not await self._signed_in(request):
                target = scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
                response = RedirectResponse(f"{SIGN_IN}?next={quote(safe_next(target))}", status_code=303)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _is_page(scope) -> bool:
        path = scope["path"]
        return not path.startswith(_NOT_PAGES) and "." not in path.rsplit("/", 1)[-1]

    @staticmethod
    async def _signed_in(request: Request) -> bool:
        from dokani.accounts.sessions import COOKIE, verify_session

        if SSO_COOKIE in request.cookies:  # single sign-on through st.login: app.py checks it
            return True
        if request.query_params.get("sso") == "1" and sso_configured():  # app.py hands over to the provider
            return True
        try:
            return await anyio.to_thread.run_sync(verify_session, request.cookies.get(COOKIE)) is not None
        except Exception:  # database down: let the page load and show its outage banner
            return True


def create_app():
    import streamlit as st

    from dokani.returns.export_http import export_routes
    from starlette.middleware import Middleware

    from dokani.calls.webhooks_http import webhook_routes

    return st.App(
        str(ROOT / "app.py"),
        routes=[
            Route(SIGN_IN, sign_in_route, methods=["GET", "POST"]),
            Route(SIGN_OUT, sign_out_route, methods=["GET", "POST"]),
            Route(SET_PASSWORD, set_password_route, methods=["GET", "POST"]),
            Route("/healthz", health_route, methods=["GET"]),
            *export_routes(),
            *webhook_routes(),
        ],
        middleware=[Middleware(SignInFirst)],
    )


def use_secrets_file() -> None:
    """``DOKANI_SECRETS_FILE`` names the secrets file (its ``[auth]`` section turns single sign-on on) when it
    is not ``.streamlit/secrets.toml``: a deployment mounts it anywhere, tests point at a temporary one."""
    path = os.environ.get("DOKANI_SECRETS_FILE")
    if path:
        from streamlit import config

        config.set_option("secrets.files", [path], "DOKANI_SECRETS_FILE")


def serve(port: int = 8501, host: str = "0.0.0.0") -> None:
    import uvicorn

    use_secrets_file()
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", proxy_headers=True)
