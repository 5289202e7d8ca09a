"""What each page's statements do in the database: ``EXPLAIN (ANALYZE, BUFFERS)`` of every read a page runs, in
the page's own transaction (same role, same tenant claims, same row-level security), written to
``benchmarks/PLANS.md``.

For each page: its slowest reads with their execution time, the buffers they touched and every scan of a table in
the plan: which index it used, or a sequential scan (named, with the rows it read, so a big one stands out).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import event

SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan", "Function Scan",
         "CTE Scan", "Subquery Scan", "Values Scan"}
BIG_SEQ_SCAN_ROWS = 10_000  # a sequential scan that reads more rows than this is listed as a finding


@dataclass
class Plan:
    statement: str
    execution_ms: float
    planning_ms: float
    hit: int
    read: int
    scans: list[str]
    big_seq_scans: list[str]


@dataclass
class PlanRecorder:
    """While ``on``, every read statement on the engine is explained right after it ran, on its own connection."""

    on: bool = False
    plans: list[Plan] = field(default_factory=list)

    def install(self, engine) -> None:
        event.listen(engine, "after_cursor_execute", self._after)

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if not self.on or executemany:
            return
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if head not in ("SELECT", "WITH") or "set_config(" in statement:
            return
        self.on = False  # the EXPLAIN below goes through this hook too
        try:
            raw = conn.connection.driver_connection
            with raw.cursor() as c:
                c.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
                doc = c.fetchone()[0]
            self.plans.append(_summary(statement, doc[0] if isinstance(doc, list) else json.loads(doc)[0]))
        except Exception as err:  # noqa: BLE001 - a statement that cannot be explained is noted, not fatal
            self.plans.append(Plan(" ".join(statement.split())[:400], 0.0, 0.0, 0, 0, [f"not explained: {err}"], []))
        finally:
            self.on = True


def _summary(statement: str, doc: dict) -> Plan:
    scans: list[str] = []
    big: list[str] = []

    def walk(node: dict) -> None:
        kind = node.get("Node Type", "")
        if kind in SCANS:
            target = node.get("Index Name") or node.get("Relation Name") or node.get("Function Name") or \
                node.get("CTE Name") or node.get("Alias") or ""
            rows = int(node.get("Actual Rows", 0)) * int(node.get("Actual Loops", 1))
            removed = int(node.get("Rows Removed by Filter", 0)) * int(node.get("Actual Loops", 1))
            label = f"{kind} {target}".strip()
            if kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan") and node.get("Relation Name"):
                label += f" (on {node['Relation Name']})"
            scans.append(f"{label}: {rows:,} rows" + (f", {removed:,} filtered out" if removed else ""))
            if kind == "Seq Scan" and rows + removed > BIG_SEQ_SCAN_ROWS:
                big.append(f"{target}: {rows + removed:,} rows read")
        for child in node.get("Plans", []):
            walk(child)

    root = doc["Plan"]
    walk(root)
    return Plan(" ".join(statement.split())[:400], round(float(doc.get("Execution Time", 0.0)), 2),
                round(float(doc.get("Planning Time", 0.0)), 2), int(root.get("Shared Hit Blocks", 0)),
                int(root.get("Shared Read Blocks", 0)), list(dict.fromkeys(scans)), big)


def write_plans(path: Path, returns: int, by_page: dict[str, list[Plan]], top: int = 6) -> None:
    lines = ["# Query plans of every page", "",
             f"Written by `make bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC at {returns:,} returns, as "
             "the owner of the largest business.",
             "Each read a page ran, explained with `EXPLAIN (ANALYZE, BUFFERS)` in the page's own transaction "
             "(same role, same tenant claims, same row-level security); the slowest of each page first, with the "
             "scans in its plan. Buffers are 8 kB pages (hit: in shared buffers; read: from the disk or the OS).",
             ""]
    findings = [(page, p, s) for page, plans in by_page.items() for p in plans for s in p.big_seq_scans]
    lines += ["## Sequential scans over more than 10,000 rows", ""]
    if findings:
        lines += [f"- **{page}**: {s} (`{p.statement[:140]}`)" for page, p, s in findings]
    else:
        lines.append("None: every read of every page is served by an index, or by a scan of a small table.")
    lines.append("")
    for page, plans in by_page.items():
        slowest = sorted(plans, key=lambda p: -p.execution_ms)[:top]
        total = sum(p.execution_ms for p in plans)
        lines += [f"## {page}", "", f"{len(plans)} reads, {total:,.1f} ms of execution in all.", ""]
        for p in slowest:
            lines.append(f"- **{p.execution_ms:,.2f} ms** (planning {p.planning_ms:,.2f} ms; buffers hit {p.hit:,}, "
                         f"read {p.read:,}): `{p.statement[:220]}`")
            lines += [f"  - {s}" for s in p.scans[:8]]
        lines.append("")
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
