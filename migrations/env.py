"""Alembic environment: runs online against the connection handed in by ``dokani.migrate``."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from db.url import to_sqlalchemy

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    with create_engine(to_sqlalchemy(url)).connect() as conn:
        _run(conn)
        conn.commit()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover
    raise SystemExit("offline mode is not supported: migrations adopt existing databases and must look at them")
run_migrations_online()
