"""The procrastinate app over the console's database.

One app per process holds the tasks (procrastinate binds a task to one app); a worker opens it with a pool on
the database it is pointed at. Pages defer jobs through a plain job manager per database URL (opened once,
synchronously), so a test can switch databases without re-registering tasks.

Workers and console connect as the app role (``dokani_app``), whose role-level ``search_path`` ends with schema
``procrastinate`` (revision 0012). ``prepare_threshold=None``: no server-side prepared statements, so the queue
works through PgBouncer in transaction mode like the rest of the console (a worker's LISTEN needs a session: point
``DOKANI_WORKER_DATABASE_URL`` at the server directly, or the worker only polls, every few seconds).
"""
from __future__ import annotations

import os
import threading

import procrastinate
from procrastinate.manager import JobManager

from db.engine import app_url

CONNECTION = {"prepare_threshold": None, "application_name": "dokani-jobs"}
_app: procrastinate.App | None = None
_managers: dict[str, tuple[procrastinate.SyncPsycopgConnector, JobManager]] = {}
_lock = threading.Lock()


def worker_url() -> str:
    return os.environ.get("DOKANI_WORKER_DATABASE_URL") or app_url()


def queue_app() -> procrastinate.App:
    """The process's app with Dokani's tasks, on a fresh connector to ``worker_url()``: open it with
    ``open_async()`` (a worker) and close it when done."""
    global _app
    from dokani.jobs.tasks import tasks

    with _lock:
        if _app is None:
            _app = procrastinate.App(connector=procrastinate.PsycopgConnector(kwargs=CONNECTION))
            _app.add_tasks_from(tasks, namespace="dokani")
        # The database is chosen when a worker starts, not at import (tests switch it; so could a deployment).
        _app.connector = procrastinate.PsycopgConnector(conninfo=worker_url(), kwargs=CONNECTION, min_size=1,
                                                        max_size=8)  # jobs, LISTEN, heartbeat
        _app.job_manager = JobManager(_app.connector)
        return _app


def job_manager() -> JobManager:
    """Defers jobs on this process's database (opened once per URL)."""
    url = worker_url()
    with _lock:
        if url not in _managers:
            connector = procrastinate.SyncPsycopgConnector(conninfo=url, kwargs=CONNECTION, min_size=1, max_size=4)
            connector.open()
            _managers[url] = (connector, JobManager(connector))
        return _managers[url][1]


def close_all() -> None:
    """Close every deferring connection (tests switch databases)."""
    with _lock:
        for url in list(_managers):
            _managers.pop(url)[0].close()
