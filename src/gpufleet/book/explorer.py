"""Explorers: a reader moves an assumption on the page and a headline number follows.

The page has no kernel, so nothing is computed in the browser: :func:`grid` evaluates the
headline with the package's own function (:func:`gpufleet.model.headlines.compute_all`, given
arrays) at every combination of a few values of each assumption, and the chart
(:func:`gpufleet.book.charts.explorer`) only looks the reader's setting up in that table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpufleet.model.data import Parameter, ProjectData
from gpufleet.model.headlines import compute_all

#: Steps a slider takes across its range: at least enough to move smoothly, at most what
#: keeps two sliders' table to a few hundred rows (tens of KB on the page).
STEPS = (8, 48)
#: The most rows a page's table may have (about 40 KB).
MAX_ROWS = 600
#: Significant figures kept in the table: more than any readout shows.
FIGURES = 6


@dataclass(frozen=True)
class Slider:
    """One assumption a reader can move, over its sourced range, from the chapter's value."""

    name: str
    label: str
    unit: str
    low: float  # the sourced range, as data/parameters.csv gives it
    high: float
    default: float  # the report's default
    value: float  # the value the chapter ran with
    start: float  # the slider's own positions: start, start + step, ..., stop
    stop: float
    step: float

    def values(self) -> np.ndarray:
        """The slider's positions; the chapter's value is one of them."""
        count = round((self.stop - self.start) / self.step) + 1
        return self.start + self.step * np.arange(count)


def slider(param: Parameter, value: float, most: int = STEPS[1]) -> Slider:
    """A slider over ``param``'s sourced range (widened to hold ``value`` if it lies outside),
    with evenly spaced positions, one of them exactly ``value``.

    The step is the coarsest that puts ``value`` on a position with both ends exact; where no
    such step is fine enough, the ends are the positions nearest them inside the range (never
    past it: a share stays at most 1).
    """
    low, high = min(param.low, value), max(param.high, value)
    fewest = STEPS[0]
    for steps in range(fewest, max(most, fewest) + 1):
        step = (high - low) / steps
        if abs((value - low) / step - round((value - low) / step)) < 1e-6:
            start, stop = low, high
            break
    else:
        below = round((value - low) / (high - low) * fewest)
        step = (value - low) / below if below else (high - low) / fewest
        start, stop = (
            value - below * step,
            value + int(np.floor((high - value) / step + 1e-9)) * step,
        )
    return Slider(
        param.name,
        param.label,
        param.unit or "",
        low=param.low,
        high=param.high,
        default=param.default,
        value=value,
        start=start,
        stop=stop,
        step=step,
    )


def choose(moves: pd.DataFrame, project: ProjectData, count: int = 2) -> list[str]:
    """The numeric assumptions that move a number most (from a sensitivity table, largest
    swing first), the ones a reader would want to move."""
    names = []
    for name in moves["parameter"]:
        param = project.parameters[name]
        if param.type != "choice" and param.low is not None and param.low < param.high:
            names.append(name)
    return names[:count]


def grid(
    values: Mapping[str, object],
    project: ProjectData,
    output: str,
    names: Sequence[str],
) -> tuple[pd.DataFrame, list[Slider]]:
    """Headline ``output`` at every combination of the sliders for ``names``, the other
    assumptions as in ``values``; one row per combination."""
    sliders: list[Slider] = []
    for name in names:  # later sliders are coarser, so that the table stays small
        rows = int(np.prod([len(s.values()) for s in sliders]))
        most = max(
            STEPS[0], min(STEPS[1], MAX_ROWS // rows // STEPS[0] ** (len(names) - len(sliders) - 1))
        )
        sliders.append(slider(project.parameters[name], float(values[name]), most))
    mesh = np.meshgrid(*[s.values() for s in sliders], indexing="ij")
    columns = {s.name: axis.ravel() for s, axis in zip(sliders, mesh, strict=True)}
    for s in sliders:  # whole numbers stay whole
        if project.parameters[s.name].type == "int":
            columns[s.name] = np.round(columns[s.name])
    result = compute_all({**values, **columns}, project)[output]
    frame = pd.DataFrame(columns)
    frame[output] = np.broadcast_to(np.asarray(result, dtype=float), len(frame))
    return frame.apply(_significant), sliders


def _significant(column: pd.Series) -> pd.Series:
    """A column rounded to :data:`FIGURES` significant figures (the page carries less)."""
    magnitude = np.floor(np.log10(np.abs(column.where(column != 0, 1.0))))
    scale = 10.0 ** (FIGURES - 1 - magnitude)
    return np.round(column * scale) / scale
