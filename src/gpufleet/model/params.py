"""The parameter registry: checking and typing every value an analyst can set.

The registry is ``data/parameters.csv``. The same checks run whether a value comes from
``gpufleet run --set``, a scenario file or plain ``papermill -p``: notebooks call
:func:`check` on their parameters before computing anything.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from gpufleet.errors import InputError
from gpufleet.formatting import number
from gpufleet.model import data as _data
from gpufleet.model.data import Parameter, ProjectData

Value = int | float | str


class ParameterError(InputError):
    """A parameter value that is not allowed; the message names it and says what is."""


def allowed(param: Parameter) -> str:
    """What values a parameter accepts, in words."""
    if param.type == "choice":
        return "one of " + ", ".join(param.choices)
    kind = "a whole number" if param.type == "int" else "a number"
    if param.min is not None and param.max is not None:
        return f"{kind} from {number(param.min)} to {number(param.max)}"
    if param.min is not None:
        return f"{kind} of at least {number(param.min)}"
    if param.max is not None:
        return f"{kind} of at most {number(param.max)}"
    return kind


def coerce(param: Parameter, value: object) -> Value:
    """Type and range-check one value (text from the command line, or a Python value)."""
    name = param.name
    if value is None:
        raise ParameterError(f"{name}: the value is empty; allowed: {allowed(param)}")
    if param.type == "choice":
        text = str(value).strip() if isinstance(value, str) else value
        if text not in param.choices:
            hint = nearest(str(text), param.choices)
            raise ParameterError(
                f"{name}: {value!r} is not an allowed choice; allowed: {', '.join(param.choices)}"
                + (f" (did you mean {hint!r}?)" if hint else "")
            )
        return text
    if isinstance(value, bool):
        raise ParameterError(f"{name}: {value!r} is not a number; allowed: {allowed(param)}")
    if isinstance(value, str) and not value.strip():
        raise ParameterError(f"{name}: the value is empty; allowed: {allowed(param)}")
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            number = float(text)
        except ValueError:
            raise ParameterError(
                f"{name}: {value!r} is not a number; allowed: {allowed(param)}"
            ) from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(value)  # NumPy scalars
        except (TypeError, ValueError):
            raise ParameterError(
                f"{name}: {value!r} is not a number; allowed: {allowed(param)}"
            ) from None
    if not math.isfinite(number):
        raise ParameterError(f"{name}: {value!r} is not a finite number; allowed: {allowed(param)}")
    if param.type == "int":
        if number != int(number):
            raise ParameterError(
                f"{name}: {value!r} is not a whole number; allowed: {allowed(param)}"
            )
        number = int(number)
    if (param.min is not None and number < param.min) or (
        param.max is not None and number > param.max
    ):
        raise ParameterError(f"{name}: {value!r} is out of range; allowed: {allowed(param)}")
    return number


def nearest(name: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return matches[0] if matches else None


def unknown_name_error(name: str, known: Iterable[str]) -> ParameterError:
    known = sorted(known)
    hint = nearest(name, known)
    if hint:
        return ParameterError(
            f"unknown parameter {name!r}; did you mean {hint!r}? "
            f"(`gpufleet params` lists all {len(known)})"
        )
    return ParameterError(
        f"unknown parameter {name!r} (known parameters: {', '.join(known)}; see gpufleet params)"
    )


def _constraints(values: Mapping[str, Value], project: ProjectData) -> None:
    """Checks that involve more than one parameter (only when all their names are present)."""
    if {"h100_count", "h100_equivalents_total"} <= values.keys():
        if values["h100_equivalents_total"] < values["h100_count"]:
            raise ParameterError(
                f"h100_equivalents_total: {values['h100_equivalents_total']:,} is below "
                f"h100_count ({values['h100_count']:,}); the total in H100 equivalents includes "
                "the H100s, so it must be at least h100_count"
            )
    if {"equivalence_metric", "remainder_gpu"} <= values.keys():
        gpu = project.accelerators[str(values["remainder_gpu"])]
        metric = str(values["equivalence_metric"])
        if gpu.metric(metric) is None:
            raise ParameterError(
                f"remainder_gpu: {gpu.id} has no {_data.METRIC_LABELS[metric]} figure, so it "
                f"cannot be counted with equivalence_metric={metric}; choose another "
                "remainder_gpu or another equivalence_metric"
            )
    if {"h100_unit_price_usd", "h100_server_price_usd"} <= values.keys():
        per_gpu = values["h100_server_price_usd"] / 8
        if values["h100_unit_price_usd"] > per_gpu:
            raise ParameterError(
                f"h100_unit_price_usd: {number(values['h100_unit_price_usd'])} is more than an "
                f"eighth of h100_server_price_usd ({number(per_gpu)}); the server's price includes "
                "its eight GPUs, so raise h100_server_price_usd with it"
            )


def validate(values: Mapping[str, object], project: ProjectData | None = None) -> dict[str, Value]:
    """Check and type a set of named values; raises ParameterError on the first problem."""
    project = project or _data.load()
    registry = project.parameters
    typed: dict[str, Value] = {}
    for name, value in values.items():
        if name not in registry:
            raise unknown_name_error(name, registry)
        typed[name] = coerce(registry[name], value)
    _constraints(typed, project)
    return typed


def defaults(project: ProjectData | None = None) -> dict[str, Value]:
    project = project or _data.load()
    return {name: param.default for name, param in project.parameters.items()}


@dataclass(frozen=True)
class Checked:
    """A notebook's parameters after checking: attribute access, and what differs from default."""

    values: Mapping[str, Value]
    project: ProjectData
    notebook: str | None = None  # the chapter these are the parameters of, if any

    def __getattr__(self, name: str) -> Value:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def changed(self) -> dict[str, Value]:
        """The parameters whose value is not the registry's default."""
        registry = self.project.parameters
        return {name: v for name, v in self.values.items() if v != registry[name].default}

    def everything(self) -> dict[str, Value]:
        """Every parameter of the registry: these values, and the defaults for the rest."""
        return {**defaults(self.project), **self.values}


def check(root: Path | None = None, **values: object) -> Checked:
    """Validate a notebook's parameters; call it right after the parameters cell.

    ``p = check(mfu=mfu, ...)`` gives ``p.mfu``, typed, or raises a clear ParameterError.
    """
    project = _data.load(root)
    return Checked(MappingProxyType(validate(values, project)), project)
