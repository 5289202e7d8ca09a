"""Page renders as the server does them: the whole app (app.py, sign-in, business, navigation) in AppTest.

For each page: the median of ``repeat`` reruns after a warm-up, the time its own SQL took during those reruns
(every statement on the app's engine is timed), and the floor (a bare page with a 50-row table plus that SQL).
Beside it, the naive Streamlit peer: ``pd.read_sql`` of the business's returns, then filter in pandas.
"""
from __future__ import annotations

import resource
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class SqlClock:
    """Wall time spent inside the database driver, summed over every statement."""

    seconds: float = 0.0
    statements: int = 0
    slowest: list = field(default_factory=list)  # (ms, statement) of the last reset's statements
    _started: dict = field(default_factory=dict)

    def install(self, engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = self._started.pop(id(cursor), None)
        if started is not None:
            self.seconds += time.perf_counter() - started
            self.statements += 1
            self.slowest.append(((time.perf_counter() - started) * 1000, " ".join(statement.split())[:300]))

    def reset(self) -> None:
        self.seconds, self.statements = 0.0, 0
        self.slowest = []


def _shell_pages_manager() -> None:
    """Every AppTest run goes through app.py, as on a real server once st.navigation has run; and, as on a server,
    the scripts are compiled once (AppTest makes a new ScriptCache per run, so it would compile app.py and the
    page, magic included, on every rerun a server answers from its cache)."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    compiled = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: compiled

    class ShellPagesManager(PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    app_test.PagesManager = ShellPagesManager


def open_app(page: str, token: str, business_id: str, query: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["dokani_session_token"] = token
    at.session_state["dokani_business_id"] = business_id
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page != "overview":
        at.switch_page(f"views/{page}.py")
        at.run()
    if at.exception:
        raise RuntimeError(f"{page}: {[e.value for e in at.exception]}")
    return at


def _bare_page_ms(repeat: int) -> float:
    from streamlit.testing.v1 import AppTest

    script = ("import pandas as pd, streamlit as st\nst.title('Bare')\n"
              "st.dataframe(pd.DataFrame({'a': range(50), 'b': [str(i) for i in range(50)]}))\n")
    at = AppTest.from_string(script)
    at.run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


# The console's own empty page: what every page costs before drawing anything (sign-in check against Postgres,
# business and role, settings, sidebar, navigation), beside the stricter floor of a bare script.
SHELL_SCRIPT = """
import streamlit as st
from dokani.ui.accounts import preferences
from dokani.ui.context import signed_in_actor
st.set_page_config(page_title="Dokani console", layout="wide")
actor = signed_in_actor()
if actor is not None:
    preferences.load_for(actor)
def empty():
    pass
st.navigation([st.Page(empty, title="Empty", url_path="empty", default=True)], position="sidebar").run()
"""


@dataclass
class Shell:
    median_ms: float = 0.0
    sql_ms: float = 0.0


def shell_page(token: str, business_id: str, repeat: int, clock: "SqlClock", bare_ms: float) -> Shell:
    """Median of `repeat` reruns of the signed-in shell with an empty page, and the SQL inside them."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(SHELL_SCRIPT, default_timeout=60)
    at.session_state["dokani_session_token"] = token
    at.session_state["dokani_business_id"] = business_id
    timing = time_reruns("the console, signed in, empty page", at, None, repeat, clock, bare_ms)
    return Shell(timing.median_ms, timing.sql_ms)


@dataclass
class PageTiming:
    name: str
    median_ms: float
    sql_ms: float
    statements: float
    floor_ms: float
    shell_floor_ms: float = 0.0  # the console's empty page plus the page's SQL beyond the shell's own

    @property
    def over_floor(self) -> float:
        return self.median_ms / self.floor_ms if self.floor_ms else 0.0

    @property
    def over_shell(self) -> float:
        return self.median_ms / self.shell_floor_ms if self.shell_floor_ms else 0.0


def time_reruns(name: str, at, act: Callable | None, repeat: int, clock: SqlClock, bare_ms: float,
                shell: Shell | None = None) -> PageTiming:
    """Median of `repeat` reruns (or actions: a filter change, a search) and the SQL inside them."""
    (act(at, 0) if act else at).run()  # warm-up
    if at.exception:
        raise RuntimeError(f"{name}: {[e.value for e in at.exception]}")
    times, sql, statements = [], [], []
    for i in range(repeat):
        clock.reset()
        started = time.perf_counter()
        if act:
            act(at, i + 1).run()
        else:
            at.run()
        times.append((time.perf_counter() - started) * 1000)
        sql.append(clock.seconds * 1000)
        statements.append(clock.statements)
    med_sql = statistics.median(sql)
    shell_floor = 0.0 if shell is None else round(shell.median_ms + max(0.0, med_sql - shell.sql_ms), 1)
    timing = PageTiming(name, round(statistics.median(times), 1), round(med_sql, 1), statistics.median(statements),
                        round(bare_ms + med_sql, 1), shell_floor)
    print(f"page {name:<38} median {timing.median_ms:>8.1f} ms   its SQL {timing.sql_ms:>7.1f} ms "
          f"({timing.statements:g} statements)   floor {timing.floor_ms:>7.1f} ms   x{timing.over_floor:.1f}"
          + (f"   empty page + SQL {timing.shell_floor_ms:>6.1f} ms x{timing.over_shell:.1f}" if shell else ""))
    return timing


def naive_peer_ms(owner_url: str, business_id: str, repeat: int = 3) -> float:
    """The naive Streamlit pattern: read every return of the business into pandas, filter and sort there."""
    import pandas as pd
    from sqlalchemy import create_engine, text

    engine = create_engine(owner_url.replace("postgresql://", "postgresql+psycopg://", 1))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with engine.connect() as conn:
            frame = pd.read_sql(text("SELECT * FROM return_requests WHERE business_id = :b"), conn,
                                params={"b": business_id})
        waiting = frame[frame["status"].isin(["pending_review", "escalated"])]
        waiting.sort_values("created_at").head(50)
        times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return round(statistics.median(times), 1)


def resident_mib() -> float:
    """Peak resident memory of this process (the app ran in it), MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
