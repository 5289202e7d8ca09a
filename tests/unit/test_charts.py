"""The console's charts are plain plotly specs: what they draw is what Streamlit is handed."""
from __future__ import annotations

import json

import pandas as pd
import plotly.io as pio
import plotly.tools

from dokani.ui import charts
from dokani.ui.format import whole_counts


def _per_day() -> pd.DataFrame:
    return pd.DataFrame({"day": ["2026-11-01", "2026-11-01", "2026-11-02", "2026-11-03"],
                         "returns": [3, 1, 2, 5], "status": ["denied", "approved", "approved", "escalated"]})


def test_stacked_bars_one_trace_per_status_in_the_given_order_with_their_points():
    fig = charts.bar(_per_day(), "day", "returns", "status", order=["approved", "escalated", "denied"],
                     custom=["status"], color_map={"denied": "#B91C1C"})
    traces = fig.spec["data"]
    assert [t["name"] for t in traces] == ["approved", "escalated", "denied"]
    approved = traces[0]
    assert approved["x"] == ["2026-11-01", "2026-11-02"] and approved["y"] == [1, 2]
    assert approved["customdata"] == [["approved"], ["approved"]]  # what a click on a bar segment reads
    assert traces[2]["marker"]["color"] == "#B91C1C" and fig.spec["layout"]["barmode"] == "relative"


def test_streamlit_gets_the_spec_itself_with_every_layout_change():
    fig = charts.bar(_per_day(), "day", "returns", height=300, layout={**charts.TIGHT, "legend": {"title": {"text": ""}}})
    whole_counts(fig, [1, 2, 5])
    handed = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)  # what st.plotly_chart does
    layout = json.loads(pio.to_json(handed, validate=False))["layout"]
    assert layout["yaxis"] == {"title": {"text": "returns"}, "rangemode": "tozero", "tickformat": ",d", "dtick": 1}
    assert layout["height"] == 300 and layout["margin"] == {"l": 0, "r": 0, "t": 10, "b": 0}
    assert layout["legend"] == {"title": {"text": ""}}


def test_lines_leave_gaps_where_a_value_is_missing():
    frame = pd.DataFrame({"week": ["w1", "w2", "w3"], "decisions": [4, 0, 6], "agreement %": [50.0, float("nan"), 75.0]})
    fig = charts.bar(frame, "week", "decisions").add_line(frame["week"], frame["agreement %"], "agreement %",
                                                          yaxis="y2")
    line = fig.spec["data"][-1]
    assert line["y"] == [50.0, None, 75.0] and line["yaxis"] == "y2"
    several = charts.line(frame, "week", ["decisions", "agreement %"])
    assert [t["name"] for t in several.spec["data"]] == ["decisions", "agreement %"]
