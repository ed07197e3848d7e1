"""Which assumptions move a number: each parameter swung over its sourced range, one at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from gpufleet.data import ProjectData
from gpufleet.params import ParameterError, Value, validate


def one_at_a_time(
    number: Callable[[Mapping[str, Value]], float],
    values: Mapping[str, Value],
    project: ProjectData,
    names: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The number with each parameter at its low and its high end, the others as in ``values``.

    Numeric parameters use the registry's sourced ``low``/``high``; a choice is tried with every
    option the checks accept, and its lowest and highest results are kept. Parameters with no
    range are left out. Rows are sorted by swing, largest first.
    """
    base = number(values)
    rows = []
    for name in names if names is not None else values:
        param = project.parameters[name]
        if param.type == "choice":
            options = {}
            for choice in param.choices:
                try:
                    validate({**values, name: choice}, project)
                except ParameterError:
                    continue
                options[choice] = number({**values, name: choice})
            if len(options) < 2:
                continue
            low_choice = min(options, key=options.get)
            high_choice = max(options, key=options.get)
            low, high = (low_choice, options[low_choice]), (high_choice, options[high_choice])
        elif param.low is None or param.low == param.high:
            continue
        else:
            low = (param.low, number({**values, name: param.low}))
            high = (param.high, number({**values, name: param.high}))
        rows.append(
            {
                "parameter": name,
                "description": param.description,
                "unit": param.unit or "",
                "low_value": str(low[0]),
                "high_value": str(high[0]),
                "at_low": low[1],
                "at_high": high[1],
                "base": base,
                "swing": abs(high[1] - low[1]),
            }
        )
    columns = [
        "parameter",
        "description",
        "unit",
        "low_value",
        "high_value",
        "at_low",
        "at_high",
        "base",
        "swing",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
