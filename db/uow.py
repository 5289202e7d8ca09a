"""The tenant-scoped unit of work every service uses.

Each transaction runs as role ``authenticated`` with the acting user's JWT claims
(``request.jwt.claims``, read by ``auth.uid()``) and the business the console is working on
(``dokani.business_id``), so Postgres row-level security decides what is visible and writable.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator
from uuid import UUID

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from db.engine import app_engine


@dataclass(frozen=True)
class Actor:
    """Who is acting, for which business, in which role."""

    user_id: UUID
    business_id: UUID | None
    role: str = "reviewer"
    email: str | None = None

    @property
    def claims(self) -> str:
        return json.dumps({"sub": str(self.user_id), "role": "authenticated", "email": self.email})


class UnitOfWork:
    """A session bound to one actor; nothing is written until `commit()`."""

    def __init__(self, actor: Actor, engine: Engine | None = None):
        self.actor = actor
        self.session = Session(engine or app_engine(), expire_on_commit=False)
        self.session.info["actor"] = actor
        event.listen(self.session, "after_begin", _enter_tenant)

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def close(self) -> None:
        self.session.close()


def _enter_tenant(session: Session, transaction, connection) -> None:
    actor: Actor = session.info["actor"]
    connection.execute(text("SET LOCAL ROLE authenticated"))
    connection.execute(
        text(
            "SELECT set_config('request.jwt.claims', :claims, true), "
            "set_config('dokani.business_id', :business, true)"
        ),
        {"claims": actor.claims, "business": str(actor.business_id or "")},
    )


@contextmanager
def unit_of_work(actor: Actor, engine: Engine | None = None) -> Iterator[UnitOfWork]:
    uow = UnitOfWork(actor, engine)
    try:
        yield uow
    except BaseException:
        uow.rollback()
        raise
    finally:
        uow.rollback()  # whatever was not committed is discarded
        uow.close()


@contextmanager
def sign_in_transaction(engine: Engine | None = None) -> Iterator[Connection]:
    """One transaction as ``dokani_signin``: credentials, sessions and lockouts, no business's data.

    Commits when the block ends normally. This is how a session is verified; only then does a
    unit of work (above) turn its user into ``request.jwt.claims``.
    """
    with (engine or app_engine()).connect() as conn:
        conn.execute(text("SET LOCAL ROLE dokani_signin"))
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
