"""Bulk loading for the seed: COPY with a progress bar, emptying tables, and the bulk path that suspends
plain indexes and foreign keys of the big tables during a large load (same transaction, restored after)."""
from __future__ import annotations

import re
import time
from datetime import datetime

import psycopg
from psycopg import sql

# Tables the seed writes, in dependency order; reset truncates these (CASCADE reaches the rest).
SEEDED_TABLES = [
    "auth.users", "profiles", "business_members", "policies", "provider_configs", "mock_orders",
    "return_requests", "customer_risk_profiles", "security_events", "chat_sessions", "chat_messages",
    "agent_performance_logs", "conversation_sessions", "call_sessions", "call_return_links", "call_transcripts",
    "call_analytics", "persona_test_logs", "audit_log", "return_history",
]
SEQUENCED = ["policies", "return_requests", "mock_orders"]


BULK_TABLES = ["mock_orders", "return_requests", "customer_risk_profiles", "security_events", "call_sessions",
               "call_return_links", "call_transcripts", "call_analytics", "audit_log", "return_history",
               # summaries the load fills once at the end (their plain indexes are built after it)
               "return_decision_times", "call_facts"]


class Loader:
    def __init__(self, conn: psycopg.Connection, bar, counts: dict[str, int], timings: dict[str, float],
                 freeze: bool):
        self.conn, self.bar, self.counts, self.timings = conn, bar, counts, timings
        self.options = " WITH (FREEZE)" if freeze else ""

    def copy(self, table: str, columns: str, rows, lines: bool = False) -> int:
        """COPY ``rows`` into ``table``: tuples (adapted by psycopg) or, with ``lines``, ready COPY text lines."""
        name = table if "." in table else f"public.{table}"
        started = time.perf_counter()
        n = 0
        bar = self.bar
        if bar is not None:
            bar.set_postfix_str(table)
        with self.conn.cursor() as cur, cur.copy(f"COPY {name} ({columns}) FROM STDIN{self.options}") as cp:
            if lines:
                batch: list[str] = []
                for line in rows:
                    batch.append(line)
                    n += 1
                    if not n % 5000:
                        cp.write("".join(batch).encode())
                        batch.clear()
                        if bar is not None:
                            bar.update(5000)
                if batch:
                    cp.write("".join(batch).encode())
            else:
                write = cp.write_row
                for row in rows:
                    write(row)
                    n += 1
                    if bar is not None and not n % 5000:
                        bar.update(5000)
        if bar is not None:
            bar.update(n % 5000)
        self.counts[table] = self.counts.get(table, 0) + n
        self.timings[table] = self.timings.get(table, 0.0) + time.perf_counter() - started
        return n


def analyze(url: str, tables: list[str]) -> None:
    """ANALYZE the tables on two connections at once, the biggest first (each is one core's work)."""
    from concurrent.futures import ThreadPoolExecutor

    first = [t for t in ("return_requests", "audit_log") if t in tables]
    pending = first + [t for t in tables if t not in first]

    def worker(_: int) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while pending:
                try:
                    table = pending.pop(0)
                except IndexError:
                    return
                conn.execute(f"ANALYZE {qualified(table)}")

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(worker, range(2)))


def qualified(table: str) -> str:
    return table if "." in table else f"public.{table}"


def truncate_seeded(conn: psycopg.Connection) -> None:
    tables = ", ".join(qualified(t) for t in SEEDED_TABLES)
    conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def nothing_to_lose(conn: psycopg.Connection) -> bool:
    """True when the seeded tables, and every table a TRUNCATE ... CASCADE of them would reach, hold no row."""
    reached = {qualified(t) for t in SEEDED_TABLES}
    while True:
        more = {r[0] for r in conn.execute(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = ANY (CAST(%s AS regclass[]))", (sorted(reached),))}
        more = {t if "." in t else f"public.{t}" for t in more}
        if more <= reached:
            break
        reached |= more
    return not any(conn.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0] for t in sorted(reached))




def drop_plain_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the non-unique, non-constraint indexes of the bulk tables; return their definitions to rebuild.

    Same transaction as the load, so a failure leaves them in place; unique indexes and constraints stay.
    """
    rows = conn.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY (CAST(%s AS regclass[])) AND NOT i.indisunique AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        ([f"public.{t}" for t in BULK_TABLES],),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f"DROP INDEX {name}")
    return [definition for _, definition in rows]


def drop_foreign_keys(conn: psycopg.Connection) -> list[str]:
    """Drop the foreign keys of the bulk tables; return the statements that put them back (and check every row).

    One validating scan per key at the end is much cheaper than a trigger call per row; same transaction.
    """
    rows = conn.execute(
        """
        SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE contype = 'f' AND conrelid = ANY (CAST(%s AS regclass[]))
        ORDER BY 1, 2
        """,
        ([f"public.{t}" for t in BULK_TABLES],),
    ).fetchall()
    for table, name, _ in rows:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    return [f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}" for table, name, definition in rows]


_CLOCK = re.compile(r"\b(now|clock_timestamp|statement_timestamp|transaction_timestamp)\(\)|\bcurrent_(timestamp|date)\b"
                    r"|\blocaltimestamp\b", re.IGNORECASE)


def pin_clock_defaults(conn: psycopg.Connection, anchor: datetime) -> list[str]:
    """For the load, a column of a seeded table whose default reads the clock defaults to ``anchor`` instead.

    Columns added by later migrations (``updated_at DEFAULT now()`` ...) that the seed does not know about
    would otherwise differ from run to run; returns the statements that put the real defaults back.
    """
    rows = conn.execute(
        """
        SELECT a.attrelid::regclass::text, quote_ident(a.attname), pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = ANY (CAST(%s AS regclass[])) AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attgenerated = ''
        ORDER BY 1, 2
        """,
        ([qualified(t) for t in SEEDED_TABLES],),
    ).fetchall()
    restore = []
    for table, column, default in rows:
        if _CLOCK.search(default):
            conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                sql.SQL(table), sql.SQL(column), sql.Literal(anchor)))
            restore.append(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default}")
    return restore


# The statement-level triggers of revision 0019 that keep the maintained summaries: suspended while the seed loads into
# emptied tables, the summaries are then filled once from the loaded rows by the revision's own backfill.
SUMMARY_TRIGGERS = [("return_requests", "return_summaries_insert"), ("mock_orders", "order_summary_insert"),
                    ("call_sessions", "call_facts_insert"), ("call_analytics", "call_facts_insert"),
                    ("call_return_links", "call_facts_insert")]
SUMMARIES_REVISION = "20261203_0019_maintained_summaries.py"


def suspend_summary_triggers(conn: psycopg.Connection) -> list[str]:
    """Disable the summary triggers of the seeded tables for this transaction's load; return the statements that
    enable them again. Only for a load into empty tables, followed by ``fill_summaries``."""
    enabled = conn.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
        "WHERE NOT tgisinternal AND tgenabled <> 'D' AND tgrelid = ANY (CAST(%s AS regclass[]))",
        (sorted({f"public.{t}" for t, _ in SUMMARY_TRIGGERS}),)).fetchall()
    restore = []
    for table, name in SUMMARY_TRIGGERS:
        if (table, name) in enabled or (f"public.{table}", name) in enabled:
            conn.execute(f"ALTER TABLE public.{table} DISABLE TRIGGER {name}")
            restore.append(f"ALTER TABLE public.{table} ENABLE TRIGGER {name}")
    return restore


def fill_summaries(conn: psycopg.Connection) -> None:
    """Every maintained summary recomputed from the base tables, by revision 0019's own backfill (the definition the
    triggers keep): what the suspended triggers would have written for a load into empty tables."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "migrations" / "versions" / SUMMARIES_REVISION
    spec = importlib.util.spec_from_file_location("dokani_summaries_backfill", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module._x = lambda statement: conn.execute(statement)  # a module of its own: nothing shared with other callers
    # Statistics of the call tables first: planned blind, the calls' refresh joins them row by row (minutes at scale).
    for table in ("provider_configs", "chat_sessions", "call_sessions", "call_analytics", "call_return_links"):
        conn.execute(f"ANALYZE public.{table}")
    module._backfill_returns()
    module._backfill_calls()


def lz4_toast(conn: psycopg.Connection) -> None:
    """Compress this transaction's long values (the rule traces, the conversations) with lz4 where the server has it:
    a fraction of pglz's time for the same rows (values read back the same either way)."""
    have = conn.execute("SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
                        ).fetchone()
    if have and have[0]:
        conn.execute("SET LOCAL default_toast_compression = 'lz4'")
