"""Resolve which Postgres server to use.

`DATABASE_URL` is libpq form (``postgresql://user@host:port/db`` or the unix-socket form
``postgresql://user@/db?host=/run/postgresql``). Unset, an embedded server is started.
"""
from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

APP_ROLE = "dokani_app"  # login role the console connects as; never a superuser or table owner


def to_sqlalchemy(url: str) -> str:
    """libpq URL -> SQLAlchemy URL for the psycopg 3 driver."""
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    if scheme.startswith("postgresql+"):
        return url
    raise ValueError(f"not a PostgreSQL URL: {scheme}://…")


def to_libpq(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgresql") or scheme == "postgres" else url


def with_user(url: str, user: str, password: str | None = None) -> str:
    """The same server and database, signed in as another role."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = user + (f":{password}" if password else "") + "@" + host
    if parts.port:
        netloc += f":{parts.port}"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("user", "password")]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def redact(url: str) -> str:
    """A URL safe to show on a page or in a log: no password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def configured_url() -> str | None:
    return os.environ.get("DATABASE_URL") or None
