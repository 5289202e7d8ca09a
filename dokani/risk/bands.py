"""The one definition of risk bands (pure: the triage engine, services and pages all read it here)."""
from __future__ import annotations

# band -> [low, high); the top band has no upper bound. Low matches the default auto-approve limit.
RISK_BANDS: dict[str, tuple[float, float | None]] = {"low": (0.0, 0.35), "medium": (0.35, 0.7), "high": (0.7, None)}
RISK_BANDS_HELP = "low < 0.35 ≤ medium < 0.70 ≤ high"
BAND_ORDER = {"low": 0, "medium": 1, "high": 2}
# What a manual band override stands for when the engine needs a number: the middle of the band
# (the top band's middle taken between 0.70 and 1.00).
BAND_MIDPOINT = {"low": 0.175, "medium": 0.525, "high": 0.85}
NOT_SCORED = "not scored yet"


def band_of(score: float | None) -> str | None:
    if score is None:
        return None
    return next((name for name, (lo, hi) in RISK_BANDS.items() if float(score) >= lo and (hi is None or float(score) < hi)),
                "low")
