"""benchmarks/RESULTS.md: what `make bench` measured, on which machine, against the targets of issue #11."""
from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

PAGE_TARGET_MS = 150
FLOOR_RATIO = 3
QUERY_AFTER_CHANGE_MS = 60
SERVICE_TARGETS_MS = [  # (what a service measurement's name starts with, target in ms)
    ("returns: one decision with audit", 15),
    ("returns: bulk approve of 1,000", 1000),
    ("policies: backtest", 3000),  # over at least 100,000 returns (the scenario widens its period until it has them)
    ("risk: recompute all", 5000),  # 100,000 customers (issue #9)
    ("returns: risk band + reason filter", 60),  # a filter change, as a service call (all statuses)
    ("returns: substring search", 60),
]
MEMORY_TARGET_MIB = 400
BROWSER_TARGET_MS = 500


def _service_target(name: str) -> int | None:
    return next((ms for prefix, ms in SERVICE_TARGETS_MS if name.startswith(prefix)), None)


def _why_page(p, shell_ms: float | None) -> str:
    """Why a page misses, from what was measured: its SQL against the rest (drawing the page's elements)."""
    rest = p.median_ms - p.sql_ms
    out = f"its SQL is {p.sql_ms:,.1f} ms ({p.statements:g} statements) of {p.median_ms:,.1f} ms; the other " \
          f"{rest:,.1f} ms are Python drawing the page"
    if shell_ms is not None:
        out += f" (the console's empty page alone, signed in with its sidebar and navigation, takes " \
               f"{shell_ms:,.0f} ms)"
    return out + "."


SEED_TARGET_S = 90


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def _verdict(ok: bool, miss: str) -> str:
    return "met" if ok else f"**missed** ({miss})"


def write_results(path: Path, *, returns: int, services: list[dict], pages: list, naive_peer_ms: float | None,
                  resident_mib: float, seed_s: float | None, browser: dict | None = None,
                  seed_detail: str | None = None, shell=None, last_seed: dict | None = None) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. Machine: {_machine()}.",
        f"Database: {returns:,} returns over 4 businesses; pages are rendered as the owner of the largest one.",
        "",
    ]
    if pages:
        lines += [
            "## Pages (AppTest running the whole app, median of the reruns after a warm-up)",
            "",
            "The floor is a bare page with a 50-row table plus the page's own SQL (every statement the page ran, timed",
            "at the driver). The naive peer reads the business's returns with `pd.read_sql` and filters in pandas.",
            "As on a server, each script is compiled once. Pages read their figures through caches of a few seconds;",
            "the \"uncached\" rows empty them before every rerun (a first visit, or one after the caches expired).",
            "",
        ]
        if shell is not None:
            lines += [f"Beside the floor, the console's own empty page: signed in (the session checked against "
                      f"Postgres), business, role, settings, sidebar and navigation, and nothing drawn: "
                      f"{shell.median_ms:,.1f} ms, {shell.sql_ms:,.1f} ms of it SQL. \"x empty page\" compares each "
                      f"page with it plus the page's SQL beyond the shell's.", ""]
        lines += [
            "| page | median ms | its SQL ms | statements | floor ms | x floor | x empty page | naive peer ms | "
            "peer / page | target |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for p in pages:
            limit = QUERY_AFTER_CHANGE_MS if "after a" in p.name else PAGE_TARGET_MS
            ok = p.median_ms <= limit and p.median_ms <= FLOOR_RATIO * p.floor_ms
            peer = f"{naive_peer_ms:,.0f}" if naive_peer_ms else "—"
            ratio = f"{naive_peer_ms / p.median_ms:,.0f}x" if naive_peer_ms and p.median_ms else "—"
            miss = f"{p.median_ms - limit:+.0f} ms over {limit} ms" if p.median_ms > limit else \
                f"{p.over_floor:.1f}x the floor"
            lines.append(f"| {p.name} | {p.median_ms:,.1f} | {p.sql_ms:,.1f} | {p.statements:g} | {p.floor_ms:,.1f} | "
                         f"{p.over_floor:.1f} | {f'{p.over_shell:.1f}' if p.shell_floor_ms else '—'} | {peer} | "
                         f"{ratio} | <= {limit} ms and <= {FLOOR_RATIO}x floor: "
                         f"{_verdict(ok, miss)} |")
        lines.append("")
    if services:
        lines += ["## Service calls (median of the repeats after a warm-up)", "",
                  "| measurement | median ms | worst ms | peak Python MiB | target |", "|---|---:|---:|---:|---|"]
        for r in services:
            target = _service_target(r["name"])
            verdict = "—" if target is None else f"<= {target:,} ms: " + _verdict(
                r["median_ms"] <= target, f"{r['median_ms'] - target:+,.0f} ms")
            lines.append(f"| {r['name']} | {r['median_ms']:,.1f} | {r['max_ms']:,.1f} | {r['peak_python_mib']:.2f} | "
                         f"{verdict} |")
        lines.append("")
    if browser:
        lines += ["## In the browser (demo data, Debian Chromium driven by Playwright)", "",
                  "| measurement | median ms | worst ms | runs | target |", "|---|---:|---:|---:|---|",
                  f"| {browser['name']}: click on Approve to the confirmation | {browser['median_ms']:,.1f} | "
                  f"{browser['max_ms']:,.1f} | {browser['runs']} | <= {BROWSER_TARGET_MS} ms: "
                  + _verdict(browser["median_ms"] <= BROWSER_TARGET_MS,
                             f"{browser['median_ms'] - BROWSER_TARGET_MS:+,.0f} ms") + " |", ""]
    elif browser is None and pages:
        lines += ["## In the browser", "", "- Not measured: no Chromium on this machine (`apt-get install chromium`).",
                  ""]
    shell_ms = None if shell is None else shell.median_ms
    missed = []
    for p in pages:
        limit = QUERY_AFTER_CHANGE_MS if "after a" in p.name else PAGE_TARGET_MS
        if p.median_ms > limit or p.median_ms > FLOOR_RATIO * p.floor_ms:
            missed.append((p.name, _why_page(p, shell_ms)))
    for r in services:
        target = _service_target(r["name"])
        if target is not None and r["median_ms"] > target:
            missed.append((r["name"], f"{r['median_ms']:,.0f} ms against {target:,} ms."))
    if browser and browser["median_ms"] > BROWSER_TARGET_MS:
        missed.append((browser["name"], f"{browser['median_ms']:,.0f} ms against {BROWSER_TARGET_MS} ms."))
    if missed:
        lines += ["## Why the missed targets are missed", ""] + [f"- **{n}**: {w}" for n, w in missed] + [""]
    lines += ["## Process", "",
              f"- Peak resident memory of the process that rendered every page: {resident_mib:,.0f} MiB "
              f"(target <= {MEMORY_TARGET_MIB} MiB: {_verdict(resident_mib <= MEMORY_TARGET_MIB, f'{resident_mib - MEMORY_TARGET_MIB:+,.0f} MiB')})."]
    if seed_s is not None:
        lines.append(f"- Seed of {returns:,} returns (with migrations): {seed_s:,.0f} s "
                     f"(target <= {SEED_TARGET_S} s: {_verdict(seed_s <= SEED_TARGET_S, f'{seed_s - SEED_TARGET_S:+,.0f} s')})"
                     + (f"; {seed_detail}" if seed_detail else "") + ".")
    elif last_seed:
        s = last_seed["seconds"]
        lines.append(f"- Seed: this run reused the database seeded on {last_seed['when']}, when the seed of {returns:,} "
                     f"returns took {s:,.0f} s (target <= {SEED_TARGET_S} s: "
                     f"{_verdict(s <= SEED_TARGET_S, f'{s - SEED_TARGET_S:+,.0f} s')})"
                     + (f"; {last_seed['detail']}" if last_seed.get("detail") else "")
                     + " (`benchmarks/seed.json`; `python -m bench --reseed` times it again).")
    else:
        lines.append("- Seed: the database was reused from an earlier run (`python -m bench --reseed` times it).")
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
