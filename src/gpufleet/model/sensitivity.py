"""Which assumptions move a number: each parameter swung over its sourced range, one at a time."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from gpufleet.model.data import ProjectData
from gpufleet.model.params import ParameterError, Value, validate

COLUMNS = [
    "output",
    "parameter",
    "label",
    "description",
    "unit",
    "low_value",
    "high_value",
    "at_low",
    "at_high",
    "base",
    "swing",
]


def _variants(
    values: Mapping[str, Value], project: ProjectData, names: Iterable[str]
) -> Iterable[tuple[str, list[tuple[Value, Mapping[str, Value]]]]]:
    """For each parameter, the values to try: its sourced low and high, or every valid choice."""
    for name in names:
        param = project.parameters[name]
        if param.type == "choice":
            options = []
            for choice in param.choices:
                try:
                    validate({**values, name: choice}, project)
                except ParameterError:
                    continue
                options.append((choice, {**values, name: choice}))
            if len(options) >= 2:
                yield name, options
        elif param.low is not None and param.low != param.high:
            yield (
                name,
                [
                    (param.low, {**values, name: param.low}),
                    (param.high, {**values, name: param.high}),
                ],
            )


def swings(
    outputs: Callable[[Mapping[str, Value]], Mapping[str, float]],
    values: Mapping[str, Value],
    project: ProjectData,
    names: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Every output with each parameter at its low and its high end, the others as in ``values``.

    Numeric parameters use the registry's sourced ``low``/``high``; a choice is tried with every
    option the checks accept, and its lowest and highest results are kept. Parameters with no
    range, and those that do not move an output, are left out, as is an output that is not
    finite at the base or at either end (a job that makes no progress never finishes: there is
    no swing to draw). Rows are sorted by swing within each output, largest first.
    """
    base = outputs(values)
    rows = []
    for name, options in _variants(values, project, names if names is not None else values):
        param = project.parameters[name]
        results = [(value, outputs(variant)) for value, variant in options]
        for output, central in base.items():
            if not all(math.isfinite(result[output]) for _, result in [(None, base), *results]):
                continue
            low_value, low = min(results, key=lambda r: r[1][output])
            high_value, high = max(results, key=lambda r: r[1][output])
            if param.type != "choice":
                (low_value, low), (high_value, high) = results
            swing = abs(high[output] - low[output])
            if swing <= 1e-9 * max(abs(central), 1e-300):
                continue
            rows.append(
                {
                    "output": output,
                    "parameter": name,
                    "label": param.label,
                    "description": param.description,
                    "unit": param.unit or "",
                    "low_value": str(low_value),
                    "high_value": str(high_value),
                    "at_low": low[output],
                    "at_high": high[output],
                    "base": central,
                    "swing": swing,
                }
            )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(
        ["output", "swing"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)


def one_at_a_time(
    number: Callable[[Mapping[str, Value]], float],
    values: Mapping[str, Value],
    project: ProjectData,
    names: Iterable[str] | None = None,
) -> pd.DataFrame:
    """:func:`swings` for a single number: one row per parameter that moves it."""
    frame = swings(lambda v: {"number": number(v)}, values, project, names)
    return frame.drop(columns="output").reset_index(drop=True)
