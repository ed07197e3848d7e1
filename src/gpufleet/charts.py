"""One look for every chart, and helpers that insist on titles, units and tooltips."""

from __future__ import annotations

import altair as alt
import pandas as pd

PALETTE = ["#1f5aa6", "#e07b24", "#3b9a57", "#b23a48", "#6f4e9c", "#8c8c8c"]


@alt.theme.register("gpufleet", enable=True)
def _theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "view": {"stroke": None, "continuousWidth": 560, "continuousHeight": 300},
            "font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
            "title": {"fontSize": 15, "anchor": "start", "subtitleColor": "#555"},
            "axis": {"labelFontSize": 12, "titleFontSize": 12, "gridColor": "#e6e6e6"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom"},
            "range": {"category": PALETTE},
        }
    }


def use() -> None:
    """Enable the report's theme (importing this module already does)."""
    alt.theme.enable("gpufleet")


def bar(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    x_title: str,
    y_title: str,
    tooltip: list[alt.Tooltip],
    color: str | None = None,
    subtitle: str | None = None,
    horizontal: bool = True,
) -> alt.Chart:
    """A bar chart: ``x`` is the quantity (its title must carry the unit), ``y`` the category."""
    if not tooltip:
        raise ValueError("every chart needs tooltips")
    value = alt.X(x, title=x_title) if horizontal else alt.Y(x, title=x_title)
    category = (
        alt.Y(y, title=y_title, sort=None) if horizontal else alt.X(y, title=y_title, sort=None)
    )
    encoding = {"x": value, "y": category} if horizontal else {"y": value, "x": category}
    if color:
        encoding["color"] = alt.Color(color, title=None)
    chart_title = alt.TitleParams(title, subtitle=subtitle) if subtitle else title
    return (
        alt.Chart(frame, title=chart_title)
        .mark_bar()
        .encode(**encoding, tooltip=tooltip)
        .properties(width=560)
    )
