"""Explorers: a reader moves an assumption on the page and a headline number follows.

The page has no kernel, so nothing is computed in the browser: :func:`grid` evaluates the
headline with the package's own function (:func:`gpufleet.model.headlines.compute_all`, given
arrays) at every combination of a few values of each numeric assumption (a :class:`Slider`)
and every option of each discrete one (a :class:`Choice`), and the chart
(:func:`gpufleet.book.charts.explorer`) only looks the reader's setting up in that table.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpufleet.errors import InputError
from gpufleet.model.data import METRIC_LABELS, Parameter, ProjectData
from gpufleet.model.headlines import compute_all
from gpufleet.model.params import validate

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


@dataclass(frozen=True)
class Choice:
    """A discrete assumption a reader can pick: the options that hold with the chapter's
    other values, each also in words."""

    name: str
    label: str
    options: tuple[str, ...]
    words: tuple[str, ...]
    default: str  # the report's default
    value: str  # the value the chapter ran with


def option_words(param: Parameter, option: str, project: ProjectData) -> str:
    """A choice's option as a reader reads it: ``dense FP8 throughput``, ``AMD MI300X``."""
    if param.name == "equivalence_metric":
        return METRIC_LABELS.get(option, option)
    if option in project.accelerators:
        return project.accelerators[option].name
    return option.replace("_", " ")


def choice(param: Parameter, values: Mapping[str, object], project: ProjectData) -> Choice:
    """The options of ``param`` a reader may pick with ``values`` for every other assumption
    (an option the other values rule out, such as a GPU without the figure the metric
    counts, is left out)."""
    options = []
    for option in param.choices:
        try:
            validate({**values, param.name: option}, project)
        except InputError:
            continue
        options.append(option)
    value = str(values[param.name])
    return Choice(
        param.name,
        param.label,
        tuple(options),
        tuple(option_words(param, option, project) for option in options),
        default=str(param.default),
        value=value,
    )


def _movable(param: Parameter) -> bool:
    if param.type == "choice":
        return len(param.choices) > 1
    return param.low is not None and param.high is not None and param.low < param.high


def choose(moves: pd.DataFrame, project: ProjectData, count: int = 2) -> list[str]:
    """The assumptions that move a number most (from a sensitivity table, largest swing
    first), the ones a reader would want to move: numeric ones first, since the chart draws
    the number against the first, and one of them at least."""
    names = [name for name in moves["parameter"] if _movable(project.parameters[name])]
    picked = names[:count]
    numeric = [name for name in names if project.parameters[name].type != "choice"]
    if numeric and not set(numeric) & set(picked):
        picked = [numeric[0], *picked[: count - 1]]
    return sorted(picked, key=lambda name: project.parameters[name].type == "choice")


def grid(
    values: Mapping[str, object],
    project: ProjectData,
    output: str,
    names: Sequence[str],
) -> tuple[pd.DataFrame, list[Slider | Choice]]:
    """Headline ``output`` at every combination of the sliders and choices for ``names``, the
    other assumptions as in ``values``; one row per combination, and the controls."""
    choices = [
        choice(project.parameters[name], values, project)
        for name in names
        if project.parameters[name].type == "choice"
    ]
    numeric = [name for name in names if project.parameters[name].type != "choice"]
    settings = list(itertools.product(*[c.options for c in choices]))
    budget = MAX_ROWS // len(settings)
    sliders: list[Slider] = []
    for name in numeric:  # later sliders are coarser, so that the table stays small
        rows = int(np.prod([len(s.values()) for s in sliders]))
        most = max(
            STEPS[0], min(STEPS[1], budget // rows // STEPS[0] ** (len(numeric) - len(sliders) - 1))
        )
        sliders.append(slider(project.parameters[name], float(values[name]), most))
    mesh = np.meshgrid(*[s.values() for s in sliders], indexing="ij")
    columns = {s.name: axis.ravel() for s, axis in zip(sliders, mesh, strict=True)}
    for s in sliders:  # whole numbers stay whole
        if project.parameters[s.name].type == "int":
            columns[s.name] = np.round(columns[s.name])
    parts = []
    for setting in settings:
        picked = {c.name: option for c, option in zip(choices, setting, strict=True)}
        result = compute_all({**values, **columns, **picked}, project)[output]
        part = pd.DataFrame(columns).apply(_significant)
        for name, option in picked.items():
            part[name] = option
        part[output] = _significant(
            pd.Series(np.broadcast_to(np.asarray(result, dtype=float), len(part)))
        )
        parts.append(part)
    return pd.concat(parts, ignore_index=True), [*sliders, *choices]


def _significant(column: pd.Series) -> pd.Series:
    """A column rounded to :data:`FIGURES` significant figures (the page carries less)."""
    magnitude = np.floor(np.log10(np.abs(column.where(column != 0, 1.0))))
    scale = 10.0 ** (FIGURES - 1 - magnitude)
    return np.round(column * scale) / scale
