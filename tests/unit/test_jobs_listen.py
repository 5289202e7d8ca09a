"""Workers LISTEN for new jobs only on a connection of their own to the server: LISTEN is session state, which a
pooler in transaction mode would leave on whichever server connection ran it."""
from __future__ import annotations

import pytest

from dokani.jobs.worker import listens


@pytest.mark.parametrize("env, expected", [
    ({}, True),  # the app role on DATABASE_URL's server: direct
    ({"DOKANI_APP_DATABASE_URL": "postgresql://dokani_app@pooler:6432/d"}, False),  # named pooler: poll
    ({"DOKANI_APP_DATABASE_URL": "postgresql://dokani_app@pooler:6432/d",
      "DOKANI_WORKER_DATABASE_URL": "postgresql://dokani_app@db:5432/d"}, True),  # workers given a direct URL
    ({"DOKANI_WORKER_LISTEN": "0"}, False),  # DATABASE_URL itself is a pooler: said outright
    ({"DOKANI_APP_DATABASE_URL": "postgresql://dokani_app@pooler:6432/d", "DOKANI_WORKER_LISTEN": "1"}, True),
])
def test_a_worker_listens_only_on_a_direct_connection(monkeypatch, env, expected):
    for name in ("DOKANI_APP_DATABASE_URL", "DOKANI_WORKER_DATABASE_URL", "DOKANI_WORKER_LISTEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert listens() is expected
