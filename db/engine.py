"""Engines: the owner connection (migrations, seeding) and the app connection (everything else).

The app never runs as a superuser or table owner, so row-level security always applies to it:
it signs in as ``dokani_app`` (a NOINHERIT member of ``authenticated``) and each unit of work
switches to ``authenticated`` with the signed-in user's JWT claims.
"""
from __future__ import annotations

import os
from functools import lru_cache

from sqlalchemy import Engine, create_engine

from db import embedded
from db.url import APP_ROLE, configured_url, to_sqlalchemy, with_user


def owner_url() -> str:
    """libpq URL of a role that may run migrations and bulk loads."""
    return configured_url() or embedded.ensure_running()


def app_url() -> str:
    """libpq URL the console connects with (``DOKANI_APP_DATABASE_URL`` overrides, e.g. on Supabase)."""
    return os.environ.get("DOKANI_APP_DATABASE_URL") or with_user(owner_url(), APP_ROLE)


_opened: dict[str, Engine] = {}


@lru_cache(maxsize=16)
def engine_for(url: str, pool_size: int = 5) -> Engine:
    engine = _opened[url] = create_engine(
        to_sqlalchemy(url),
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,
        # prepare_threshold=None: no server-side prepared statements, so the same settings work through
        # PgBouncer (or Supabase's pooler) in transaction mode, where consecutive statements may reach
        # different server connections.
        connect_args={"connect_timeout": 5, "application_name": "dokani-console", "prepare_threshold": None},
    )
    return engine


def read_url() -> str:
    """Where read-only analytics go: ``DATABASE_READ_URL`` (a replica, signed in as the app role), else the
    app's own URL. A replica lags the primary by a little: only pages that show aggregates read from it."""
    return os.environ.get("DATABASE_READ_URL") or app_url()


def owner_engine() -> Engine:
    return engine_for(owner_url())


def app_engine() -> Engine:
    return engine_for(app_url())


def read_engine() -> Engine:
    return engine_for(read_url())


def dispose_all() -> None:
    """Close every pooled connection (tests switch databases; the app never needs this)."""
    for url in list(_opened):
        _opened.pop(url).dispose()
    engine_for.cache_clear()
