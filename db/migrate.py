"""Apply the Alembic migrations: idempotent, serialised by an advisory lock, adopts existing databases."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from db.url import to_sqlalchemy

ROOT = Path(__file__).resolve().parent.parent
MIGRATION_LOCK = 7_310_455_001  # any constant; two app processes starting together take turns


def alembic_config() -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return cfg


def upgrade(url: str, revision: str = "head") -> str:
    """Bring the database at `url` (libpq form, an owner role) up to `revision`; return the new revision."""
    engine = create_engine(to_sqlalchemy(url), poolclass=None)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            conn.commit()
            try:
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                conn.commit()
                return current_revision(conn)
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                conn.commit()
    finally:
        engine.dispose()


def current_revision(conn) -> str | None:
    exists = conn.execute(text("SELECT to_regclass('public.alembic_version') IS NOT NULL")).scalar()
    if not exists:
        return None
    return conn.execute(text("SELECT version_num FROM public.alembic_version")).scalar()
