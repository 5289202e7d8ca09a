"""Charts built as plain plotly figure specs: what ``plotly.express`` draws for a long frame (one trace per colour,
stacked bars or lines with markers, axis titles from the columns) without its per-call machinery and property
validation, which cost a hundred milliseconds and more per chart on every rerun.

The specs are built here from known-good keys and handed to Streamlit as a ``Spec``: a figure whose ``to_dict`` is
the spec itself, so neither plotly's validation nor its deep copies of every trace run again (``st.plotly_chart``
serialises ``to_dict()``, with orjson when it is installed)."""
from __future__ import annotations

from typing import Any, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

PALETTE = qualitative.Plotly  # plotly express's default sequence
TIGHT = {"margin": {"l": 0, "r": 0, "t": 10, "b": 0}}  # the console's charts sit flush in their column
TIGHT_UNTITLED_LEGEND = {**TIGHT, "legend": {"title": {"text": ""}}}  # ... with a legend that needs no title


class Spec(go.Figure):
    """A finished figure spec (``{"data": [...], "layout": {...}}``) that Streamlit serialises as it is."""

    def __init__(self, spec: dict[str, Any]):
        # Not plotly's constructor: even an empty figure costs milliseconds, and nothing here reads its properties.
        object.__setattr__(self, "_spec", spec)

    @property
    def spec(self) -> dict[str, Any]:
        return self._spec

    def to_dict(self) -> dict[str, Any]:  # what st.plotly_chart reads
        return self._spec

    def to_plotly_json(self) -> dict[str, Any]:
        return self._spec

    def with_layout(self, **sections: Any) -> "Spec":
        """Merge layout sections (nested dicts merge key by key, ``legend={"title": {"text": ""}}``)."""
        _merge(self.spec["layout"], sections)
        return self

    def add_line(self, x: Sequence, y: Sequence, name: str, **extra: Any) -> "Spec":
        """A line with markers over the same x (``yaxis="y2"`` puts it on a second axis)."""
        self.spec["data"].append({"type": "scatter", "mode": "lines+markers", "x": _values(x), "y": _values(y),
                                  "name": name, **extra})
        return self


def _merge(into: dict, more: dict) -> None:
    """`more` into `into`, key by key; nested dicts are copied, so shared sections (``TIGHT``) stay as they are."""
    for key, value in more.items():
        if isinstance(value, dict):
            if not isinstance(into.get(key), dict):
                into[key] = {}
            _merge(into[key], value)
        else:
            into[key] = value


def _values(column: Any) -> list:
    """Plain Python values (NaN as None: a gap in the line, as plotly draws a missing value)."""
    values = column.tolist() if hasattr(column, "tolist") else list(column)
    return [None if isinstance(v, float) and v != v else v for v in values]


def _groups(frame: pd.DataFrame, color: str | None, order: Sequence[str] | None,
            columns: Sequence[str]) -> list[tuple[object, dict[str, list]]]:
    """The frame's `columns` as plain lists, split by the value of `color` (in `order`, then as they come)."""
    values = {c: _values(frame[c]) for c in dict.fromkeys([*columns, *([color] if color else [])])}
    if color is None:
        return [(None, values)]
    parts: dict[object, dict[str, list]] = {}
    for i, key in enumerate(values[color]):
        part = parts.get(key)
        if part is None:
            part = parts[key] = {c: [] for c in columns}
        for c in columns:
            part[c].append(values[c][i])
    ranked = [v for v in (order or []) if v in parts] + [v for v in parts if v not in (order or [])]
    return [(value, parts[value]) for value in ranked]


def _layout(x: str, y: str, color: str | None, height: int | None, layout: dict | None, **more: Any) -> dict:
    out: dict[str, Any] = {"legend": {"title": {"text": color or ""}}, "xaxis": {"title": {"text": x}},
                           "yaxis": {"title": {"text": y}}, **more}
    if height:
        out["height"] = height
    _merge(out, layout or {})
    return out


def bar(frame: pd.DataFrame, x: str, y: str, color: str | None = None, *, height: int | None = None,
        color_map: dict[str, str] | None = None, order: Sequence[str] | None = None,
        custom: Sequence[str] = (), hover: Sequence[str] = (), layout: dict | None = None) -> Spec:
    """Stacked bars of `y` by `x`, one trace per value of `color` (in `order`, then as they come), coloured from
    `color_map` or plotly's default sequence; `custom` columns ride along as each point's ``customdata``."""
    columns = list(custom) + [c for c in hover if c not in custom]
    extra = "".join(f"<br>{c}=%{{customdata[{j}]}}" for j, c in enumerate(columns) if c in hover)
    traces = []
    for i, (value, part) in enumerate(_groups(frame, color, order, [x, y, *columns])):
        name = "" if value is None else str(value)
        trace = {
            "type": "bar", "x": part[x], "y": part[y], "name": name, "showlegend": value is not None,
            "marker": {"color": (color_map or {}).get(name) or PALETTE[i % len(PALETTE)]},
            "hovertemplate": (f"{color}={name}<br>" if value is not None else "")
            + f"{x}=%{{x}}<br>{y}=%{{y}}{extra}<extra></extra>",
        }
        if columns:
            trace["customdata"] = [list(row) for row in zip(*(part[c] for c in columns))]
        traces.append(trace)
    return Spec({"data": traces, "layout": _layout(x, y, color, height, layout, barmode="relative")})


def grouped_bars(x: Sequence[str], series: dict[str, Sequence[float]], *, y_title: str, height: int | None = None,
                 layout: dict | None = None) -> Spec:
    """Bars side by side: one trace per series (name → a value per x)."""
    traces = [{"type": "bar", "x": list(x), "y": list(values), "name": name,
               "marker": {"color": PALETTE[i % len(PALETTE)]}} for i, (name, values) in enumerate(series.items())]
    return Spec({"data": traces, "layout": _layout("", y_title, None, height, layout, barmode="group")})


def line(frame: pd.DataFrame, x: str, y: str | Sequence[str], color: str | None = None, *,
         height: int | None = None, hover: Sequence[str] = (), layout: dict | None = None) -> Spec:
    """Lines with markers: of `y` by `x`, one per value of `color`; or one per column when `y` names several."""
    traces = []
    if isinstance(y, str):
        extra = "".join(f"<br>{c}=%{{customdata[{j}]}}" for j, c in enumerate(hover))
        for i, (value, part) in enumerate(_groups(frame, color, None, [x, y, *hover])):
            name = "" if value is None else str(value)
            trace = {"type": "scatter", "mode": "lines+markers", "x": part[x], "y": part[y],
                     "name": name, "showlegend": value is not None,
                     "marker": {"color": PALETTE[i % len(PALETTE)]}, "line": {"color": PALETTE[i % len(PALETTE)]},
                     "hovertemplate": (f"{color}={name}<br>" if value is not None else "")
                     + f"{x}=%{{x}}<br>{y}=%{{y}}{extra}<extra></extra>"}
            if hover:
                trace["customdata"] = [list(row) for row in zip(*(part[c] for c in hover))]
            traces.append(trace)
        y_title = y
    else:
        traces = [{"type": "scatter", "mode": "lines+markers", "x": _values(frame[x]), "y": _values(frame[c]),
                   "name": c} for c in y]
        y_title = "value"
    return Spec({"data": traces, "layout": _layout(x, y_title, color, height, layout)})
