"""Run workers: ``python -m dokani worker`` (until stopped) and ``work_until_idle`` (tests, one-off catch-up)."""
from __future__ import annotations

import asyncio
import logging

from dokani.jobs.queue import queue_app
from dokani.jobs.tasks import STALLED_AFTER_SECONDS, retry_stalled

log = logging.getLogger("dokani.jobs")


async def _run(wait: bool, concurrency: int, name: str | None, stalled_after: float, **options) -> None:
    app = queue_app()
    async with app.open_async():
        again = await retry_stalled(app, stalled_after)  # a worker killed before this one started
        if again:
            log.warning("%s job(s) whose worker died were queued again", again)
        await app.run_worker_async(wait=wait, concurrency=concurrency, name=name,
                                   stalled_worker_timeout=stalled_after, **options)


def listens() -> bool:
    """Whether a worker LISTENs for new jobs (else it polls every few seconds).

    LISTEN is session state: through a pooler in transaction mode it would stay on whichever server connection ran
    it, and be heard by other clients. So a worker listens only on a connection that is the server's own:
    ``DOKANI_WORKER_DATABASE_URL`` set (a direct URL), or the app URL derived from ``DATABASE_URL`` (no
    ``DOKANI_APP_DATABASE_URL``, which is where a pooler is named). ``DOKANI_WORKER_LISTEN=0|1`` decides outright
    (e.g. ``0`` when ``DATABASE_URL`` itself is a pooler)."""
    import os

    forced = os.environ.get("DOKANI_WORKER_LISTEN", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return bool(os.environ.get("DOKANI_WORKER_DATABASE_URL")) or not os.environ.get("DOKANI_APP_DATABASE_URL")


def run_worker(concurrency: int = 1, name: str | None = None) -> None:
    """Work until SIGINT / SIGTERM; a running job finishes first (a second signal stops it, and it is queued
    again by the next worker's stalled-job check)."""
    asyncio.run(_run(True, concurrency, name, STALLED_AFTER_SECONDS, listen_notify=listens()))


def work_until_idle(stalled_after: float = STALLED_AFTER_SECONDS, **options) -> None:
    """Run every job queued now, then return (in-process: tests and catch-up)."""
    options.setdefault("listen_notify", False)
    options.setdefault("install_signal_handlers", False)
    _run_to_end(_run(False, 1, "in-process", stalled_after, **options))


def _run_to_end(coroutine) -> None:
    """asyncio.run, also from a thread that already has a running loop (a caller inside async code, or a
    Playwright session in the same test process): then on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def _die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM when the console process ends, however it ends."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: the console's own shutdown still stops it
        pass


def spawn_workers(count: int, database_url: str) -> list:
    """Start `count` worker processes beside the console (``python -m dokani serve``); stop them with
    ``stop_workers``. They get the database the console resolved, so an embedded server is joined, not started."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": database_url}
    return [subprocess.Popen([sys.executable, "-m", "dokani", "worker", "--name", f"beside-console-{i + 1}"],
                             env=env, preexec_fn=_die_with_parent) for i in range(count)]


def stop_workers(processes: list, timeout: float = 20.0) -> None:
    """SIGTERM (a running job finishes first), then SIGKILL after `timeout` (its job is queued again later)."""
    import subprocess

    for p in processes:
        if p.poll() is None:
            p.terminate()
    for p in processes:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
