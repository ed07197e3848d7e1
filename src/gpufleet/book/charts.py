"""One look for every chart, and helpers that insist on titles, units and tooltips.

Encodings are given as channel objects (``alt.X("start:Q")``), not as bare shorthand strings:
Altair works out the class of a bare string by hashing the schemas of all its classes, about
3 ms for each one, and a chapter's charts have dozens. The specification is the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from gpufleet.book.explorer import Choice
from gpufleet.formatting import number

#: Plot width in pixels: fits the book's text column beside axis labels of about 200 pixels.
WIDTH = 440
PALETTE = ["#1f5aa6", "#e07b24", "#3b9a57", "#b23a48", "#6f4e9c", "#8c8c8c"]
#: One colour per accelerator on every page, found by a word of its name; the assumed
#: remainder of the fleet is grey, whatever GPU it is taken to be.
ACCELERATOR_COLORS = {
    "H100": PALETTE[0],
    "MI300X": PALETTE[1],
    "A100": PALETTE[2],
    "H200": PALETTE[4],
}
REMAINDER_COLOR = PALETTE[5]


def accelerator_color(label: str) -> str | None:
    """The colour of the accelerator a label names (None if it names none)."""
    if "(remainder)" in label:
        return REMAINDER_COLOR
    return next((color for word, color in ACCELERATOR_COLORS.items() if word in label), None)


@alt.theme.register("gpufleet", enable=True)
def _theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": 300},
            "font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
            "title": {"fontSize": 15, "anchor": "start", "subtitleColor": "#555"},
            "axis": {
                "labelFontSize": 12,
                "titleFontSize": 12,
                "gridColor": "#e6e6e6",
                "labelLimit": 280,
            },
            "legend": {
                "labelFontSize": 12,
                "titleFontSize": 12,
                "orient": "bottom",
                "labelLimit": 0,
                "columns": 2,
            },
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
        .properties(width=WIDTH)
    )


def stacked_bar(
    frame: pd.DataFrame,
    *,
    value: str,
    category: str,
    stack: str,
    title: str,
    subtitle: str,
    value_title: str,
    tooltip_title: str,
    value_format: str,
    stack_title: str | None = None,
    details: Sequence[tuple[str, str]] = (),
    step: int = 40,
) -> alt.Chart:
    """Horizontal bars, one per ``category``, each the sum of its parts stacked by ``stack``.

    Categories keep the order of the frame, and so do the parts: in each bar, from left to
    right, and in the legend. ``value_title`` carries the unit; ``details`` adds
    ``(column, title)`` pairs to the tooltip.
    """
    parts = list(dict.fromkeys(frame[stack]))
    data = frame.assign(_part_rank=frame[stack].map(parts.index))
    colors = [accelerator_color(str(part)) for part in parts]
    scale = alt.Scale(domain=parts, range=colors) if all(colors) else alt.Undefined
    return (
        alt.Chart(data, title=alt.TitleParams(title, subtitle=subtitle))
        .mark_bar()
        .encode(
            x=alt.X(f"sum({value}):Q", title=value_title),
            y=alt.Y(f"{category}:N", title=None, sort=None),
            color=alt.Color(f"{stack}:N", title=stack_title, sort=parts, scale=scale),
            order=alt.Order("_part_rank:Q"),
            tooltip=[
                alt.Tooltip(f"{category}:N"),
                alt.Tooltip(f"{stack}:N"),
                *[alt.Tooltip(f"{column}:N", title=name) for column, name in details],
                alt.Tooltip(f"{value}:Q", title=tooltip_title, format=value_format),
            ],
        )
        .properties(width=WIDTH, height=alt.Step(step))
    )


def grouped_bar(
    frame: pd.DataFrame,
    *,
    value: str,
    category: str,
    group: str,
    title: str,
    subtitle: str,
    value_title: str,
    value_format: str,
) -> alt.Chart:
    """Horizontal bars side by side: one row per ``category``, one bar per ``group`` in it,
    groups in the order of the frame (in the rows and in the legend)."""
    groups = list(dict.fromkeys(frame[group]))
    return (
        alt.Chart(frame, title=alt.TitleParams(title, subtitle=subtitle))
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=value_title),
            y=alt.Y(f"{category}:N", title=None, sort=None),
            yOffset=alt.YOffset(f"{group}:N", sort=groups),
            color=alt.Color(f"{group}:N", title=None, sort=groups),
            tooltip=[
                alt.Tooltip(f"{category}:N"),
                alt.Tooltip(f"{group}:N"),
                alt.Tooltip(f"{value}:Q", title=value_title, format=value_format),
            ],
        )
        .properties(width=WIDTH, height=alt.Step(16))
    )


def timeline(
    frame: pd.DataFrame,
    *,
    date: str,
    values: Sequence[tuple[str, str]],
    status: str,
    tooltip: list[alt.Tooltip],
    title: str,
    subtitle: str,
) -> alt.VConcatChart:
    """Points over time, one panel per ``(column, axis title)`` in ``values`` on a log scale,
    coloured and shaped by ``status`` (what was installed, planned, estimated)."""
    statuses = list(dict.fromkeys(frame[status.split(":")[0]]))
    panels = [
        alt.Chart(frame)
        .mark_point(size=90, filled=True, opacity=0.85)
        .encode(
            x=alt.X(date, title=None),
            y=alt.Y(f"{column}:Q", title=axis_title, scale=alt.Scale(type="log")),
            color=alt.Color(status, title=None, sort=statuses),
            shape=alt.Shape(status, title=None, sort=statuses),
            tooltip=tooltip,
        )
        .properties(width=WIDTH, height=180)
        for column, axis_title in values
    ]
    return alt.vconcat(*panels, title=alt.TitleParams(title, subtitle=subtitle))


def ranking(
    frame: pd.DataFrame,
    *,
    value: str,
    category: str,
    panel: str,
    highlight: str,
    title: str,
    subtitle: str,
    value_title: str,
    tooltip: list[alt.Tooltip],
) -> alt.VConcatChart:
    """One bar chart per ``panel`` (each estimate on its own scale), bars from largest to
    smallest, the rows where ``highlight`` is true in the accent colour."""
    panels = [
        alt.Chart(frame[frame[panel] == name], title=alt.TitleParams(name, fontSize=12))
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=value_title),
            y=alt.Y(f"{category}:N", title=None, sort="-x"),
            color=alt.condition(alt.datum[highlight], alt.value(PALETTE[1]), alt.value(PALETTE[0])),
            tooltip=tooltip,
        )
        .properties(width=WIDTH, height=alt.Step(16))
        for name in dict.fromkeys(frame[panel])
    ]
    return alt.vconcat(*panels, title=alt.TitleParams(title, subtitle=subtitle))


def explorer(
    frame: pd.DataFrame,
    controls: Sequence,
    *,
    output: str,
    title: str,
    quantity: str,
    unit: str,
    value_format: str,
) -> alt.VConcatChart:
    """A panel a reader plays with: a slider per numeric assumption and a selector per
    discrete one, a readout of ``output`` for their setting, and ``output`` against the first
    slider's assumption with the others held.

    ``frame`` and ``controls`` are :func:`gpufleet.book.explorer.grid`'s: every value shown is
    looked up in the table, nothing is computed in the page. Each slider spans the
    assumption's sourced range, each selector offers the options that hold, and both say
    what the report's default is.
    """
    choices = [c for c in controls if isinstance(c, Choice)]
    sliders = [c for c in controls if not isinstance(c, Choice)]
    params = [
        alt.param(
            name=s.name,
            value=s.value,
            bind=alt.binding_range(
                min=s.start,
                max=s.stop,
                step=s.step,
                name=f"{s.label} ({s.unit}; range {_plain(s.low)} to {_plain(s.high)}, "
                f"default {_plain(s.default)}) ",
            ),
        )
        for s in sliders
    ] + [
        alt.param(
            name=c.name,
            value=c.value,
            bind=alt.binding_select(
                options=list(c.options),
                labels=list(c.words),
                name=f"{c.label} (default {c.words[c.options.index(c.default)]}) "
                if c.default in c.options
                else f"{c.label} ",
            ),
        )
        for c in choices
    ]

    def at(control) -> str:
        if isinstance(control, Choice):
            return f"datum['{control.name}'] == {control.name}"
        return f"abs(datum['{control.name}'] - {control.name}) < {control.step / 2}"

    first, others = sliders[0], [*sliders[1:], *choices]
    at_setting = " && ".join(at(c) for c in controls)
    readout = (
        alt.Chart(frame)
        .transform_filter(at_setting)
        .mark_text(align="left", baseline="middle", fontSize=26, fontWeight="bold", dx=4)
        .encode(
            x=alt.value(0),
            y=alt.value(22),
            text=alt.Text(f"{output}:Q", format=value_format),
            tooltip=[alt.Tooltip(f"{output}:Q", title=f"{quantity} ({unit})", format=value_format)],
        )
        .properties(
            width=WIDTH, height=44, title=alt.TitleParams(f"{quantity} ({unit})", fontSize=12)
        )
    )
    held = alt.Chart(frame).transform_filter(" && ".join(at(c) for c in others) or "true")
    x = alt.X(f"{first.name}:Q", title=f"{first.label} ({first.unit})", scale=alt.Scale(zero=False))
    y = alt.Y(f"{output}:Q", title=f"{quantity} ({unit})", scale=alt.Scale(zero=False))
    curve = held.mark_line(color=PALETTE[0]).encode(
        x=x,
        y=y,
        tooltip=[
            alt.Tooltip(f"{first.name}:Q", title=first.label),
            alt.Tooltip(f"{output}:Q", title=quantity, format=value_format),
        ],
    )
    here = (
        alt.Chart(frame)
        .transform_filter(at_setting)
        .mark_point(size=120, filled=True, color=PALETTE[1])
        .encode(x=x, y=y, tooltip=[alt.Tooltip(f"{output}:Q", title=quantity, format=value_format)])
    )
    default = (
        alt.Chart(pd.DataFrame({"default": [first.default]}))
        .mark_rule(color="#333", strokeDash=[4, 3])
        .encode(
            x=alt.X("default:Q"), tooltip=[alt.Tooltip("default:Q", title="the report's default")]
        )
    )
    return alt.vconcat(
        readout,
        alt.layer(curve, default, here).properties(width=WIDTH, height=200),
        title=alt.TitleParams(
            title,
            subtitle="Move the controls under the chart; the dashed line is the report's default",
        ),
    ).add_params(*params)


def _plain(value: float) -> str:
    """A slider's bound as a reader reads it (``0.64``, ``297,000``)."""
    return number(value)


def _end_value(text: str) -> str:
    """An input's value at one end of a bar, as a reader reads it (a choice stays a word)."""
    try:
        return number(float(text))
    except ValueError:
        return text


def tornado(frame: pd.DataFrame, *, title: str, quantity: str, unit: str) -> alt.LayerChart:
    """How far a number moves as each assumption goes from one end of its range to the other.

    ``frame`` is :func:`gpufleet.model.sensitivity.one_at_a_time`'s table. Bars are named by
    the assumptions' labels; each end of a bar carries the input's value there, and the dashed
    line marks the number as assumed.
    """
    axis_title = f"{quantity} ({unit})"
    low_first = frame["at_low"] <= frame["at_high"]
    data = frame.assign(
        start=frame[["at_low", "at_high"]].min(axis=1),
        end=frame[["at_low", "at_high"]].max(axis=1),
        left=frame["low_value"].where(low_first, frame["high_value"]).map(_end_value),
        right=frame["high_value"].where(low_first, frame["low_value"]).map(_end_value),
    )
    order = list(data["label"])
    base_chart = alt.Chart(data).encode(y=alt.Y("label:N", sort=order, title=None))
    tooltip = [
        alt.Tooltip("label:N", title="assumption"),
        alt.Tooltip("parameter:N", title="name"),
        alt.Tooltip("low_value:N", title="low value"),
        alt.Tooltip("at_low:Q", title=f"{quantity} at low", format=",.3~s"),
        alt.Tooltip("high_value:N", title="high value"),
        alt.Tooltip("at_high:Q", title=f"{quantity} at high", format=",.3~s"),
    ]
    bars = base_chart.mark_bar(color=PALETTE[0]).encode(
        x=alt.X("start:Q", title=axis_title, scale=alt.Scale(zero=False)),
        x2=alt.X2("end:Q"),
        tooltip=tooltip,
    )
    left = base_chart.mark_text(align="right", dx=-4, fontSize=11, color="#444").encode(
        x=alt.X("start:Q"), text=alt.Text("left:N")
    )
    right = base_chart.mark_text(align="left", dx=4, fontSize=11, color="#444").encode(
        x=alt.X("end:Q"), text=alt.Text("right:N")
    )
    base = (
        alt.Chart(data.head(1))
        .mark_rule(color="#333", strokeDash=[4, 3])
        .encode(
            x=alt.X("base:Q"),
            tooltip=[alt.Tooltip("base:Q", title="as assumed here", format=",.3~s")],
        )
    )
    return alt.layer(
        bars,
        left,
        right,
        base,
        title=alt.TitleParams(
            title,
            subtitle="Each bar: one assumption from one end of its sourced range to the other "
            "(its value written at each end); dashed: as assumed here",
        ),
    ).properties(width=WIDTH, height=alt.Step(26))


def tornado_by_output(
    frame: pd.DataFrame, *, labels: dict[str, str], title: str, first: str | None = None
) -> alt.Chart:
    """Tornado charts for many numbers in one, with a menu to pick the number.

    ``frame`` is :func:`gpufleet.model.sensitivity.swings`'s table; ``labels`` names each output
    (with its unit) in the menu; ``first`` is the output shown until the reader picks another.
    """
    data = frame.assign(
        start=frame[["at_low", "at_high"]].min(axis=1),
        end=frame[["at_low", "at_high"]].max(axis=1),
        output_label=frame["output"].map(labels),
    )
    options = [labels[key] for key in labels if key in set(frame["output"])]
    pick = alt.param(
        name="number",
        value=labels[first] if first in labels else options[0],
        bind=alt.binding_select(options=options, name="Number: "),
    )
    return (
        alt.Chart(
            data,
            title=alt.TitleParams(
                title,
                subtitle="Each bar: one assumption over its sourced range, the others at "
                "the values assumed here. Pick a number below the chart.",
            ),
        )
        .mark_bar(color=PALETTE[0])
        .encode(
            x=alt.X("start:Q", title="value (unit in the menu)", scale=alt.Scale(zero=False)),
            x2=alt.X2("end:Q"),
            y=alt.Y("label:N", sort=alt.EncodingSortField("swing", order="descending"), title=None),
            tooltip=[
                alt.Tooltip("output_label:N", title="number"),
                alt.Tooltip("label:N", title="assumption"),
                alt.Tooltip("low_value:N", title="low value"),
                alt.Tooltip("at_low:Q", title="number at low", format=",.4~g"),
                alt.Tooltip("high_value:N", title="high value"),
                alt.Tooltip("at_high:Q", title="number at high", format=",.4~g"),
            ],
        )
        .add_params(pick)
        .transform_filter(alt.datum.output_label == pick)
        .properties(width=WIDTH, height=alt.Step(22))
    )


def histogram(
    samples, *, title: str, quantity: str, unit: str, central: float, bins: int = 40
) -> alt.LayerChart:
    """A distribution of samples as an area, pre-binned so that the page carries a few dozen
    numbers, with its 5th, 50th and 95th percentiles and the central value marked and named
    on the chart itself. Samples that are all the same (nothing they depend on is drawn, as
    when a run sets every such assumption) are drawn as one bar, and the chart says why."""
    import numpy as np

    samples = np.asarray(samples, dtype=float)
    middle = float(np.mean(samples))
    size = max(abs(middle), 1e-12)
    subtitle = None
    if float(np.ptp(samples)) <= 1e-9 * size:  # one value, give or take rounding
        odd = bins | 1  # the value in the middle of a bin, not on an edge between two
        spread = (middle - size / 100, middle + size / 100)
        counts, edges = np.histogram(samples, bins=odd, range=spread)
        subtitle = (
            "Every sample gives the same value: none of the assumptions it depends on is "
            "drawn with these settings."
        )
    else:
        counts, edges = np.histogram(samples, bins=bins)
    data = pd.DataFrame(
        {
            "start": edges[:-1],
            "middle": (edges[:-1] + edges[1:]) / 2,
            "share": counts / counts.sum(),
        }
    )
    p5, p50, p95 = np.percentile(samples, [5, 50, 95])
    marks = pd.DataFrame(
        {
            "value": [p5, p50, p95, central],
            "what": ["5th percentile", "median", "95th percentile", "as assumed here"],
        }
    )
    # Names stacked at the top of the chart so that neighbouring lines' names do not collide.
    top = float(data["share"].max())
    marks["label_y"] = [top, top * 0.88, top, top * 0.76]
    x = alt.X("middle:Q", title=f"{quantity} ({unit})", scale=alt.Scale(zero=False))
    area = (
        alt.Chart(data)
        .mark_area(color=PALETTE[0], opacity=0.6, interpolate="step")
        .encode(
            x=x,
            y=alt.Y("share:Q", title="share of samples", axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("start:Q", title="from", format=",.4~g"),
                alt.Tooltip("share:Q", title="share", format=".1%"),
            ],
        )
    )
    rules = (
        alt.Chart(marks)
        .mark_rule(strokeWidth=2, color="#333")
        .encode(
            x=alt.X("value:Q"),
            strokeDash=alt.condition(
                alt.datum.what == "as assumed here", alt.value([4, 3]), alt.value([1, 0])
            ),
            tooltip=[alt.Tooltip("what:N"), alt.Tooltip("value:Q", format=",.4~g")],
        )
    )
    names = (
        alt.Chart(marks)
        .mark_text(align="left", dx=3, fontSize=10, color="#333")
        .encode(x=alt.X("value:Q"), y=alt.Y("label_y:Q"), text=alt.Text("what:N"))
    )
    heading = alt.Title(title, subtitle=subtitle) if subtitle else title
    return alt.layer(area, rules, names, title=heading).properties(width=WIDTH, height=180)
