"""PgBouncer in transaction mode in front of a test server (Debian's ``pgbouncer``).

- ``start(server_url, ...)``: a pgbouncer on a free local port that forwards every database of the server; the
  app role and ``postgres`` are let in (``auth_type = trust``: it only listens on 127.0.0.1, for tests).
- ``python -m tests.pgbouncer [pytest args]`` (``make test-pgbouncer``): start the test server (embedded, or
  ``TEST_DATABASE_URL``), one pgbouncer in front of it, and run pytest with ``TEST_PGBOUNCER_URL`` set, so that
  ``tests/conftest.py`` connects the app (``DOKANI_APP_DATABASE_URL``) and the job queue through the pooler while
  migrations, template clones and seeding go to the server directly, as a deployment does.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ids(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


@dataclass
class Bouncer:
    process: subprocess.Popen
    folder: Path
    port: int

    @property
    def base_url(self) -> str:
        """``postgresql://127.0.0.1:PORT``: add a user and a database."""
        return f"postgresql://127.0.0.1:{self.port}"

    def url(self, user: str, database: str) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        log = self.folder / "pgbouncer.log"
        return log.read_text() if log.exists() else "no log"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def start(server_url: str, *, users: tuple[str, ...], extra_databases: str = "", pool_size: int = 10) -> Bouncer:
    """A pgbouncer in transaction mode in front of `server_url`'s server; waits until it accepts connections."""
    import psycopg

    if PGBOUNCER is None:
        raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer)")
    parts = urlsplit(server_url)
    host = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
    server_port = parts.port or 5432
    # pgbouncer refuses to run as root: run it as the user that owns the server's socket directory, or nobody.
    run_as = Path(host).owner() if host.startswith("/") else "nobody"
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="dokani-pgbouncer-"))
    folder.chmod(0o755)
    (folder / "users.txt").write_text("".join(f'"{u}" ""\n' for u in users))
    (folder / "pgbouncer.ini").write_text(f"""[databases]
{extra_databases}
* = host={host} port={server_port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / 'users.txt'}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
server_idle_timeout = 5
server_check_delay = 1
ignore_startup_parameters = extra_float_digits, options
logfile = {folder / 'pgbouncer.log'}
pidfile = {folder / 'pgbouncer.pid'}
""")
    for f in folder.iterdir():
        f.chmod(0o644)
    os.chown(folder, *_ids(run_as))
    process = subprocess.Popen([PGBOUNCER, "-u", run_as, str(folder / "pgbouncer.ini")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    bouncer = Bouncer(process, folder, port)
    probe = bouncer.url(users[0], "postgres")
    deadline = time.monotonic() + 10
    while True:
        try:
            psycopg.connect(probe, connect_timeout=2).close()
            return bouncer
        except psycopg.OperationalError:
            if time.monotonic() > deadline or process.poll() is not None:
                log = bouncer.log()
                bouncer.stop()
                raise RuntimeError(f"pgbouncer did not start: {log}")
            time.sleep(0.2)


def main(argv: list[str]) -> int:
    from db.url import APP_ROLE
    from tests.conftest import _server_url

    server = _server_url()
    bouncer = start(server, users=(APP_ROLE, "postgres"))
    print(f"pgbouncer (transaction mode) on 127.0.0.1:{bouncer.port} in front of the test server", flush=True)
    started = time.monotonic()
    try:
        env = {**os.environ, "TEST_PGBOUNCER_URL": bouncer.base_url}
        code = subprocess.call([sys.executable, "-m", "pytest", *(argv or ["tests/integration"])], env=env)
        logins = sum(f"user={APP_ROLE}" in line and "login attempt" in line for line in bouncer.log().splitlines())
    finally:
        bouncer.stop()
    print(f"through pgbouncer: pytest exited {code} after {time.monotonic() - started:.0f} s; "
          f"{logins:,} connection(s) of {APP_ROLE} went through the pooler", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
