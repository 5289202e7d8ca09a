"""The risk score told in words: each factor with what it counted, its weight and its evidence (no raw JSON)."""
from __future__ import annotations

from typing import Iterable, Mapping

from dokani.risk.weights import BY_NAME, WEIGHTS


def _amount(name: str, amount: float, count: int) -> str:
    w = BY_NAME[name]
    if name == "return_rate":
        return f"{count} return(s) against the orders: {amount:.0%} above the ordinary share"
    if name == "refunded_value":
        return f"{amount * 500:,.2f} refunded over {count} return(s)" if count else f"{amount:.2f} × {w.unit}"
    if name in ("not_received", "not_as_described"):
        return f"{count} claim(s), {int(amount)} after the first"
    return f"{count} {w.unit}(s)"


def factor_lines(factors: Iterable, public_ids: Mapping[int, str] | None = None) -> list[str]:
    """One line per factor: '+0.12  returns in the last 30 days: 2 return(s) (0.06 each, at most 0.18) · ...'."""
    lines = []
    for f in factors:
        w = BY_NAME.get(f.name)
        label = w.label if w else f.name
        line = f"+{f.contribution:.3f}  {label}: {_amount(f.name, f.amount, f.count)} ({f.weight:g} per {w.unit if w else 'unit'}, at most {f.cap:g})"
        if f.returns:
            shown = [public_ids.get(i, f"#{i}")[:8] if public_ids else f"#{i}" for i in f.returns[:10]]
            line += " · returns " + ", ".join(shown) + (" …" if len(f.returns) > 10 else "")
        if f.events:
            line += f" · {len(f.events)} open security event(s)"
        lines.append(line)
    return lines


def patterns_sentence(patterns: dict) -> str:
    """Behaviour patterns in words."""
    return (f"{patterns.get('returns', 0)} return(s) on record, {patterns.get('returns_365d', 0)} in the last 365 days; "
            f"{patterns.get('orders', 0)} order(s) in the shop's records; "
            f"{float(patterns.get('refunded_value') or 0):,.2f} refunded in the last 365 days.")


def weights_table() -> list[dict]:
    return [{"factor": w.label, "per": w.unit, "weight": w.weight, "at most": w.cap} for w in WEIGHTS]
