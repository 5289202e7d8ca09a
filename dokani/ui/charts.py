"""Bar charts built as plain plotly figure specs: what ``plotly.express.bar`` draws for a long frame (one trace per
colour, stacked, axis titles from the columns) without its per-call machinery and property validation, which cost
a hundred milliseconds and more per chart on every rerun. The specs are built here from known-good keys, so the
figure skips plotly's validation (``_validate=False``); Streamlit serialises it as it is."""
from __future__ import annotations

from typing import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

PALETTE = qualitative.Plotly  # plotly express's default sequence


def bar(frame: pd.DataFrame, x: str, y: str, color: str | None = None, *, height: int | None = None,
        color_map: dict[str, str] | None = None, order: Sequence[str] | None = None,
        custom: Sequence[str] = (), hover: Sequence[str] = ()) -> go.Figure:
    """Stacked bars of `y` by `x`, one trace per value of `color` (in `order`, then as they come), coloured from
    `color_map` or plotly's default sequence; `custom` columns ride along as each point's ``customdata``."""
    groups: list[tuple[object, pd.DataFrame]] = [(None, frame)]
    if color is not None:
        seen = list(dict.fromkeys(frame[color].tolist()))
        ranked = [v for v in (order or []) if v in seen] + [v for v in seen if v not in (order or [])]
        groups = [(value, frame[frame[color] == value]) for value in ranked]
    columns = list(custom) + [c for c in hover if c not in custom]
    extra = "".join(f"<br>{c}=%{{customdata[{j}]}}" for j, c in enumerate(columns) if c in hover)
    traces = []
    for i, (value, part) in enumerate(groups):
        name = "" if value is None else str(value)
        trace = {
            "type": "bar", "x": part[x].tolist(), "y": part[y].tolist(), "name": name, "showlegend": value is not None,
            "marker": {"color": (color_map or {}).get(name) or PALETTE[i % len(PALETTE)]},
            "hovertemplate": (f"{color}={name}<br>" if value is not None else "")
            + f"{x}=%{{x}}<br>{y}=%{{y}}{extra}<extra></extra>",
        }
        if columns:
            trace["customdata"] = part[columns].to_numpy().tolist()
        traces.append(trace)
    layout = {"barmode": "relative", "legend": {"title": {"text": color or ""}},
              "xaxis": {"title": {"text": x}}, "yaxis": {"title": {"text": y}}}
    if height:
        layout["height"] = height
    return go.Figure({"data": traces, "layout": layout}, _validate=False)
