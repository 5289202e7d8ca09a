"""Formatting shared by every page: money, shares, durations, and honest 'no data' for missing figures."""
from __future__ import annotations

from datetime import datetime, timezone

NO_DATA = "no data"


def money(value: float | None, currency: str = "$") -> str:
    return NO_DATA if value is None else f"{currency}{value:,.2f}"


def share(value: float | None) -> str:
    return NO_DATA if value is None else f"{value:.0%}"


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return NO_DATA
    return f"{value:,.{digits}f}"


def duration_s(seconds: float | None) -> str:
    if seconds is None:
        return NO_DATA
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {(seconds % 3600) // 60:02d}m"


def hours(value: float | None) -> str:
    if value is None:
        return NO_DATA
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def age(hours_old: float | None) -> str:
    """How long something has waited, as a person says it: "45 min", "5 h", "3 d 4 h"."""
    if hours_old is None:
        return NO_DATA
    if hours_old < 1:
        return f"{max(0, round(hours_old * 60))} min"
    if hours_old < 48:
        return f"{int(hours_old)} h"
    days, rest = divmod(int(hours_old), 24)
    return f"{days} d {rest} h" if rest else f"{days} d"


def when(value: datetime | None, zone_name: bool = False) -> str:
    """A moment in the signed-in person's time zone (stored times without a zone are UTC)."""
    if value is None:
        return "—"
    try:
        shown = local(value)
    except (OverflowError, ValueError):  # year 1 or 9999 from outside: shown as stored (UTC), never a crash
        shown = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    return f"{shown:%Y-%m-%d %H:%M}" + (f" {shown.tzname()}" if zone_name else "")


def local(value: datetime) -> datetime:
    from dokani.ui.accounts.preferences import current

    zone = current().zone
    aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(zone)


def delta(now, then, kind: str = "number") -> str | None:
    """Change against an earlier figure; None (no arrow) when either side has no data."""
    if now is None or then is None or (kind != "share" and then == 0 and now == 0):
        return None
    if kind == "share":
        return f"{(now - then) * 100:+.0f} pts"
    if kind == "money":
        return f"{now - then:+,.2f}"
    return f"{now - then:+,}"

def whole_counts(fig, counts) -> None:
    """A chart of counts (a ``dokani.ui.charts.Spec``) gets whole-number ticks (never "0.2 calls"), from zero."""
    highest = max([float(c) for c in counts] or [0])
    fig.with_layout(yaxis={"rangemode": "tozero", "tickformat": ",d", **({"dtick": 1} if highest <= 10 else {})})


# One colour per return status on every chart: decided greens/reds, waiting ambers/greys.
STATUS_COLORS = {
    "approved": "#15803D", "completed": "#86EFAC", "denied": "#B91C1C", "escalated": "#EA580C",
    "pending_review": "#F59E0B", "pending_triage": "#94A3B8", "unknown": "#CBD5E1",
}
STATUS_ORDER = list(STATUS_COLORS)
