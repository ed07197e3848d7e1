"""Loading and validating the reviewed input files in ``data/``.

Every figure the report uses lives in a CSV file with its unit and its source (a key of
``book/references.bib``). Each file is declared once, as a frozen record class (``_FILES``
names its file): its fields are the file's columns in header order, and each field says, by
``_column`` or ``_optional``, which parser checks and converts its cell and whether the cell may
be empty. This module reads the files once, checks the header and every cell against those
declarations and raises :class:`DataError` naming the file, the line, the row's key and the
column when something is wrong. It does no arithmetic: that is
:mod:`gpufleet.model.formulas`'s job.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from gpufleet.errors import InputError

#: Units a figure may carry. A new unit is added here, on purpose, not by a typo in a file.
UNITS: frozenset[str] = frozenset(
    {
        "count",
        "id",  # a number that names something (a seed): written without separators
        "fraction",
        "ratio",
        "W",
        "kW",
        "MW",
        "TWh",
        "MWh",
        "TFLOP/s",
        "EFLOP/s",
        "FLOP",
        "GB",
        "TB/s",
        "USD",
        "USD/MWh",
        "USD/GPU-hour",
        "years",
        "days",
        "hours",
        "kgCO2e/kWh",
        "kgCO2/kWh",
        "tCO2",
        "kgCO2e",
        "tCO2e",
        "tokens",
        "parameters",
        "kWh",
        "minutes",
        "USD/MW",
        "ML",
        "L/kWh",
    }
)

#: The capabilities by which a GPU can be counted in H100 equivalents, and their units.
METRIC_UNITS: Mapping[str, str] = {
    "bf16_dense": "TFLOP/s",
    "fp8_dense": "TFLOP/s",
    "memory_bandwidth": "TB/s",
    "memory_capacity": "GB",
}

METRIC_LABELS: Mapping[str, str] = {
    "bf16_dense": "dense BF16 throughput",
    "fp8_dense": "dense FP8 throughput",
    "memory_bandwidth": "memory bandwidth",
    "memory_capacity": "memory capacity",
}


#: The GPU every other is counted against, in H100 equivalents.
REFERENCE_GPU = "h100_sxm"

#: The source of a figure no published source supports; allowed only with a note saying why.
UNSOURCED = "unsourced"


class DataError(InputError):
    """A data file that does not follow its schema; the message says where and why."""


# --- cell parsers: each takes the raw text and returns the value or raises ValueError ------


def _text(raw: str) -> str:
    return raw


def _number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a finite number")
    return value


def _positive(raw: str) -> float:
    value = _number(raw)
    if value <= 0:
        raise ValueError(f"{raw!r} must be greater than 0")
    return value


def _unit(raw: str) -> str:
    if raw not in UNITS:
        raise ValueError(f"unknown unit {raw!r}; known units: {', '.join(sorted(UNITS))}")
    return raw


def _iso_date(raw: str) -> str:
    """A date to the precision the source gives: YYYY, YYYY-MM or YYYY-MM-DD."""
    formats = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}
    try:
        datetime.strptime(raw, formats[len(raw)])
    except (KeyError, ValueError):
        raise ValueError(f"{raw!r} is not a date in the form YYYY, YYYY-MM or YYYY-MM-DD") from None
    return raw


def _identifier(raw: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", raw):
        raise ValueError(f"{raw!r} must be lower-case letters, digits and underscores")
    return raw


#: The longest label: a parameter's name in a few words, for tables and notebook comments.
LABEL_LENGTH = 40


def _short_text(raw: str) -> str:
    if len(raw) > LABEL_LENGTH:
        raise ValueError(
            f"{raw!r} has {len(raw)} characters; a label has at most {LABEL_LENGTH} "
            "(the description says the rest)"
        )
    return raw


def _words(raw: str) -> tuple[str, ...]:
    return tuple(raw.split())


DISTRIBUTIONS = ("triangular", "uniform")


def _distribution(raw: str) -> str:
    if raw not in DISTRIBUTIONS:
        raise ValueError(f"{raw!r} is not a distribution; allowed: {', '.join(DISTRIBUTIONS)}")
    return raw


def _param_type(raw: str) -> str:
    if raw not in ("int", "float", "choice"):
        raise ValueError(f"{raw!r} is not a parameter type; allowed: int, float, choice")
    return raw


# --- the records: one class per file, one field per column, in header order --------------


def _column(parse: Callable[[str], object]) -> Any:
    """A field read from the CSV column of its name: ``parse`` checks and converts the cell,
    which may not be empty."""
    return field(metadata={"parse": parse, "required": True})


def _optional(parse: Callable[[str], object]) -> Any:
    """A field read like :func:`_column` from a cell that may be empty, giving None."""
    return field(metadata={"parse": parse, "required": False})


@dataclass(frozen=True)
class Accelerator:
    id: str = _column(_identifier)
    name: str = _column(_text)
    vendor: str = _column(_text)
    tdp_w: float = _column(_positive)
    bf16_dense_tflops: float = _column(_positive)
    fp8_dense_tflops: float | None = _optional(_positive)
    memory_gb: float = _column(_positive)
    memory_bandwidth_tbps: float = _column(_positive)
    source: tuple[str, ...] = _column(_words)
    count_parameter: str | None = _optional(_identifier)
    server_power_ratio: float | None = _optional(_positive)
    server_price_usd: float | None = _optional(_positive)
    embodied_kgco2e_per_gpu: float | None = _optional(_positive)
    server_source: tuple[str, ...] | None = _optional(_words)
    note: str | None = _optional(_text)

    @property
    def in_servers(self) -> bool:
        """Whether its servers are known well enough for it to be part of the fleet."""
        return self.server_power_ratio is not None

    def metric(self, metric: str) -> float | None:
        """This accelerator's value of an H100-equivalence metric (None where it has none)."""
        return {
            "bf16_dense": self.bf16_dense_tflops,
            "fp8_dense": self.fp8_dense_tflops,
            "memory_bandwidth": self.memory_bandwidth_tbps,
            "memory_capacity": self.memory_gb,
        }[metric]


@dataclass(frozen=True)
class Fact:
    key: str = _column(_identifier)
    value: float = _column(_number)
    unit: str = _column(_unit)
    date: str = _column(_iso_date)
    source: tuple[str, ...] = _column(_words)
    quote: str | None = _optional(_text)
    note: str | None = _optional(_text)


@dataclass(frozen=True)
class Parameter:
    """A registry row; :func:`_parameter` checks it as a whole and types its default (read as
    text) and its choices (empty for a numeric parameter)."""

    name: str = _column(_identifier)
    label: str = _column(_short_text)
    type: str = _column(_param_type)
    default: int | float | str = _column(_text)
    unit: str | None = _optional(_unit)
    low: float | None = _optional(_number)
    high: float | None = _optional(_number)
    min: float | None = _optional(_number)
    max: float | None = _optional(_number)
    choices: tuple[str, ...] = _optional(_words)
    distribution: str | None = _optional(_distribution)
    description: str = _column(_text)
    source: tuple[str, ...] = _column(_words)
    note: str | None = _optional(_text)


@dataclass(frozen=True)
class PublishedRun:
    """A training run as its publisher reports it (for checking the model against)."""

    key: str = _column(_identifier)
    model: str = _column(_text)
    gpu_hours: float = _column(_positive)
    gpu_power_w: float = _column(_positive)
    location_tco2e: float = _column(_number)
    market_tco2e: float = _column(_number)
    source: tuple[str, ...] = _column(_words)
    note: str | None = _optional(_text)


@dataclass(frozen=True)
class Interruption:
    """One row of the Llama 3 paper's table of unexpected interruptions by cause."""

    cause: str = _column(_identifier)
    category: str = _column(_text)
    count: float = _column(_positive)
    source: tuple[str, ...] = _column(_words)


@dataclass(frozen=True)
class Headline:
    key: str = _column(_identifier)
    unit: str = _column(_unit)
    notebook: str = _column(_identifier)
    description: str = _column(_text)


#: How far a milestone of the fleet's history had got when its source described it.
MILESTONE_STATUSES = ("installed", "announced", "planned")


def _milestone_status(raw: str) -> str:
    if raw not in MILESTONE_STATUSES:
        raise ValueError(f"{raw!r} is not a status; allowed: {', '.join(MILESTONE_STATUSES)}")
    return raw


def _year(raw: str) -> int:
    if not re.fullmatch(r"(19|20)\d\d", raw):
        raise ValueError(f"{raw!r} is not a year (YYYY)")
    return int(raw)


@dataclass(frozen=True)
class Milestone:
    """A step of Meta's fleet as a source described it: GPUs of one kind, or power."""

    key: str = _column(_identifier)
    date: str = _column(_iso_date)
    event: str = _column(_text)
    status: str = _column(_milestone_status)
    accelerator: str | None = _optional(_identifier)
    gpus: float | None = _optional(_positive)
    h100_equivalents: float | None = _optional(_positive)
    power_mw: float | None = _optional(_positive)
    source: tuple[str, ...] = _column(_words)
    quote: str | None = _optional(_text)
    note: str | None = _optional(_text)


@dataclass(frozen=True)
class YearAccount:
    """What Meta reported for one year: capital expenditure, data-center electricity and water."""

    year: int = _column(_year)
    capex_usd: float | None = _optional(_positive)
    capex_source: tuple[str, ...] | None = _optional(_words)
    dc_electricity_mwh: float | None = _optional(_positive)
    electricity_source: tuple[str, ...] | None = _optional(_words)
    dc_water_ml: float | None = _optional(_positive)
    water_source: tuple[str, ...] | None = _optional(_words)
    note: str | None = _optional(_text)


@dataclass(frozen=True)
class PeerEstimate:
    """A published estimate of one company's accelerators, by one measure, for one year."""

    key: str = _column(_identifier)
    company: str = _column(_text)
    measure: str = _column(_identifier)
    year: int = _column(_year)
    value: float = _column(_positive)
    unit: str = _column(_unit)
    source: tuple[str, ...] = _column(_words)
    quote: str | None = _optional(_text)
    note: str | None = _optional(_text)


#: The file in ``data/`` each record class is read from; the first field is the row's key.
_FILES: Mapping[type, str] = {
    Accelerator: "accelerators.csv",
    Fact: "facts.csv",
    Parameter: "parameters.csv",
    PublishedRun: "published_runs.csv",
    Interruption: "llama3_interruptions.csv",
    Headline: "headlines.csv",
    Milestone: "timeline.csv",
    YearAccount: "meta_accounts.csv",
    PeerEstimate: "peers.csv",
}


# --- reading a file into records ------------------------------------------------------------


def _read_table(path: Path, cls: type) -> list[tuple[str, Any]]:
    """Read a CSV file into ``(where, record)`` pairs, checking its header against the class's
    fields and parsing every cell with its field's parser; errors name file, line, column."""
    label = _label(path)
    if not path.is_file():
        raise DataError(f"{label}: file not found")
    columns = fields(cls)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        _check_header(label, next(reader, None), [column.name for column in columns])
        rows = []
        for line_number, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                where = f"{label}, line {line_number} ({cells[0] or 'no key'})"
                rows.append((where, cls(**_parse_row(where, columns, cells))))
    if not rows:
        raise DataError(f"{label}: no rows")
    counts = Counter(_key(record) for _, record in rows)
    for where, record in rows:
        if counts[_key(record)] > 1:
            raise DataError(f"{where}, column {columns[0].name}: {_key(record)!r} appears twice")
    return rows


def _check_header(label: str, header: list[str] | None, expected: list[str]) -> None:
    if header is None:
        raise DataError(f"{label}: the file is empty; expected a header row")
    if header == expected:
        return
    missing = [name for name in expected if name not in header]
    extra = [name for name in header if name not in expected]
    detail = "; ".join(
        f"{problem} column(s) {', '.join(names)}"
        for problem, names in (("missing", missing), ("unexpected", extra))
        if names
    )
    raise DataError(
        f"{label}, line 1 (header): {detail or 'columns out of order'}; "
        f"expected: {','.join(expected)}"
    )


def _parse_row(where: str, columns: tuple[Field, ...], cells: list[str]) -> dict[str, object]:
    if len(cells) != len(columns):
        raise DataError(f"{where}: {len(cells)} cells, expected {len(columns)}")
    return {
        column.name: _parse_cell(where, column, raw.strip())
        for column, raw in zip(columns, cells, strict=True)
    }


def _parse_cell(where: str, column: Field, raw: str) -> object:
    if raw == "":
        if column.metadata["required"]:
            raise DataError(f"{where}, column {column.name}: a value is required")
        return None
    try:
        return column.metadata["parse"](raw)
    except ValueError as error:
        raise DataError(f"{where}, column {column.name}: {error}") from None


def _key(record: Any) -> str:
    """A record's key: the value of its first field."""
    return getattr(record, fields(record)[0].name)


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


# --- checks across cells, rows and files ----------------------------------------------------


def _check_sources(where: str, record: object, references: frozenset[str]) -> None:
    """Every figure has a source, an unsourced figure says why, and every cited key is in
    the bibliography. A figure's source is the column ``source``, or ``X_source`` beside it."""
    server_figures = ("server_power_ratio", "server_price_usd", "embodied_kgco2e_per_gpu")
    given = [column for column in server_figures if getattr(record, column, None) is not None]
    if given and not record.server_source:
        raise DataError(f"{where}, column server_source: {given[0]} needs a source")
    for figure, column in (
        ("capex_usd", "capex_source"),
        ("dc_electricity_mwh", "electricity_source"),
        ("dc_water_ml", "water_source"),
    ):
        if getattr(record, figure, None) is not None and not getattr(record, column):
            raise DataError(f"{where}, column {column}: {figure} needs a source")
    if getattr(record, "source", None) == (UNSOURCED,) and not getattr(record, "note", None):
        raise DataError(f"{where}, column note: an unsourced figure must say why in its note")
    for column in (f.name for f in fields(record) if f.name.endswith("source")):
        cited = [key for key in getattr(record, column, None) or () if key != UNSOURCED]
        unknown = [key for key in cited if key not in references]
        if unknown:
            raise DataError(
                f"{where}, column {column}: {', '.join(unknown)} not in "
                "book/references.bib; add the reference or fix the key"
            )


def _parameter(where: str, parameter: Parameter) -> Parameter:
    """Check a registry row's internal consistency and type its default."""
    if parameter.type == "choice":
        return _choice_parameter(where, parameter)
    if parameter.choices:
        raise DataError(f"{where}, column choices: only choice parameters have choices")
    if parameter.unit is None:
        raise DataError(f"{where}, column unit: a numeric parameter needs a unit")
    default = _numeric_default(where, parameter)
    low, high = parameter.low, parameter.high
    if (low is None) != (high is None):
        raise DataError(f"{where}, columns low/high: give both or neither")
    if parameter.distribution is not None and (low is None or low == high):
        raise DataError(
            f"{where}, column distribution: {parameter.distribution} needs a sourced range "
            "(low below high)"
        )
    if low is not None and not low <= default <= high:
        raise DataError(f"{where}, column default: {default} is outside its range {low}..{high}")
    for column, value in (("default", default), ("low", low), ("high", high)):
        _check_bounds(f"{where}, column {column}", value, parameter.min, parameter.max)
    return replace(parameter, default=default, choices=())


def _choice_parameter(where: str, parameter: Parameter) -> Parameter:
    choices = parameter.choices or ()
    if not choices:
        raise DataError(f"{where}, column choices: a choice parameter needs its choices")
    if parameter.default not in choices:
        raise DataError(f"{where}, column default: {parameter.default!r} is not one of its choices")
    for column in ("low", "high", "min", "max", "unit", "distribution"):
        if getattr(parameter, column) is not None:
            raise DataError(f"{where}, column {column}: must be empty for a choice parameter")
    return replace(parameter, choices=choices)


def _numeric_default(where: str, parameter: Parameter) -> int | float:
    raw = str(parameter.default)
    try:
        default = _number(raw)
    except ValueError as error:
        raise DataError(f"{where}, column default: {error}") from None
    if parameter.type != "int":
        return default
    if default != int(default):
        raise DataError(f"{where}, column default: {raw!r} is not a whole number")
    return int(default)


def _check_bounds(where: str, value: float | None, lo: float | None, hi: float | None) -> None:
    if value is None:
        return
    if lo is not None and value < lo:
        raise DataError(f"{where}: {value} is below the minimum {lo}")
    if hi is not None and value > hi:
        raise DataError(f"{where}: {value} is above the maximum {hi}")


def _check_choices(
    parameters: Mapping[str, Parameter], where: Mapping[str, str], gpus: Mapping[str, Accelerator]
) -> None:
    """The choices of ``remainder_gpu`` are accelerators whose servers are known, and those
    of ``equivalence_metric`` known metrics."""
    in_servers = {key: gpu for key, gpu in gpus.items() if gpu.in_servers}
    cross_checks = {
        "remainder_gpu": (
            in_servers,
            "not in data/accelerators.csv with its server figures (server_power_ratio, "
            "server_price_usd)",
        ),
        "equivalence_metric": (METRIC_UNITS, f"unknown; known: {', '.join(METRIC_UNITS)}"),
    }
    for name, (known, problem) in cross_checks.items():
        choices = parameters[name].choices if name in parameters else ()
        unknown = [choice for choice in choices if choice not in known]
        if unknown:
            raise DataError(f"{where[name]}, column choices: {', '.join(unknown)} {problem}")


def _check_fleet_members(
    gpus: Mapping[str, Accelerator], where: Mapping[str, str], parameters: Mapping[str, Parameter]
) -> None:
    """An accelerator counted by a parameter names a whole-number parameter of the registry,
    and its servers are known (the H100's price is a parameter, the others' a figure here)."""
    for key, gpu in gpus.items():
        if gpu.count_parameter is None:
            continue
        line = where[key]
        parameter = parameters.get(gpu.count_parameter)
        if parameter is None or parameter.type != "int":
            raise DataError(
                f"{line}, column count_parameter: {gpu.count_parameter!r} is not a whole-number "
                "parameter in data/parameters.csv"
            )
        needed = ["server_power_ratio"] + ([] if key == REFERENCE_GPU else ["server_price_usd"])
        for column in needed:
            if getattr(gpu, column) is None:
                raise DataError(
                    f"{line}, column {column}: a GPU counted in the fleet needs its server figures"
                )


# --- the project ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectData:
    """Everything in ``data/``, validated."""

    root: Path
    accelerators: Mapping[str, Accelerator]
    facts: Mapping[str, Fact]
    parameters: Mapping[str, Parameter]
    headlines: Mapping[str, Headline]
    references: frozenset[str]
    published_runs: Mapping[str, PublishedRun]
    interruptions: Mapping[str, Interruption]
    milestones: Mapping[str, Milestone]
    meta_accounts: Mapping[int, YearAccount]
    peers: Mapping[str, PeerEstimate]

    def fact(self, key: str) -> float:
        return self.facts[key].value


def bibliography_keys(path: Path) -> frozenset[str]:
    """The citation keys of a BibTeX file."""
    if not path.is_file():
        raise DataError(f"{_label(path)}: file not found")
    text = path.read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", text, flags=re.MULTILINE))


def find_root(start: Path | None = None) -> Path:
    """The project folder: the nearest folder at or above ``start`` holding data/parameters.csv."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "data" / "parameters.csv").is_file() and (folder / "_config.yml").is_file():
            return folder
    raise DataError(
        f"no project found at or above {here}: expected a folder with _config.yml and "
        "data/parameters.csv (run from the project, or pass --root)"
    )


def load(root: Path | None = None) -> ProjectData:
    """Read and validate every file in ``data/`` (cached per project folder and file times)."""
    root = find_root(root) if root is None else Path(root).resolve()
    files = sorted((root / "data").glob("*.csv"))
    files.append(root / "book" / "references.bib")
    stamp = tuple(path.stat().st_mtime_ns if path.exists() else 0 for path in files)
    return _load(root, stamp)


@cache
def _load(root: Path, _stamp: tuple[int, ...]) -> ProjectData:
    references = bibliography_keys(root / "book" / "references.bib")
    tables = {cls: _read_table(root / "data" / name, cls) for cls, name in _FILES.items()}
    for rows in tables.values():
        for where, record in rows:
            _check_sources(where, record, references)
    by_key = {cls: {_key(record): record for _, record in rows} for cls, rows in tables.items()}
    if REFERENCE_GPU not in by_key[Accelerator]:
        raise DataError(f"data/accelerators.csv: the reference GPU {REFERENCE_GPU} is missing")
    parameters = {_key(record): _parameter(where, record) for where, record in tables[Parameter]}
    lines = {_key(record): where for where, record in tables[Parameter]}
    _check_choices(parameters, lines, by_key[Accelerator])
    gpu_lines = {_key(record): where for where, record in tables[Accelerator]}
    _check_fleet_members(by_key[Accelerator], gpu_lines, parameters)
    for where, milestone in tables[Milestone]:
        if milestone.accelerator and milestone.accelerator not in by_key[Accelerator]:
            raise DataError(
                f"{where}, column accelerator: {milestone.accelerator!r} is not in "
                "data/accelerators.csv"
            )
    return ProjectData(
        root,
        accelerators=by_key[Accelerator],
        facts=by_key[Fact],
        parameters=parameters,
        headlines=by_key[Headline],
        references=references,
        published_runs=by_key[PublishedRun],
        interruptions=by_key[Interruption],
        milestones=by_key[Milestone],
        meta_accounts=by_key[YearAccount],
        peers=by_key[PeerEstimate],
    )
