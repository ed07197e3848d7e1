"""Loading and validating the reviewed input files in ``data/``.

Every figure the report uses lives in a CSV file with its unit and its source (a key of
``book/references.bib``). This module reads those files once, checks each cell against a
schema and raises :class:`DataError` naming the file, the line, the row's key and the
column when something is wrong. It does no arithmetic: that is :mod:`gpufleet.model`'s job.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

#: Units a figure may carry. A new unit is added here, on purpose, not by a typo in a file.
UNITS: frozenset[str] = frozenset(
    {
        "count",
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
        "kgCO2e",
        "tCO2e",
        "tokens",
        "parameters",
        "kWh",
        "minutes",
        "USD/MW",
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


#: The source of a figure no published source supports; allowed only with a note saying why.
UNSOURCED = "unsourced"


class DataError(ValueError):
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


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], object]
    required: bool = True


def _read_table(path: Path, columns: tuple[Column, ...]) -> list[dict[str, object]]:
    """Read a CSV file, check its header and parse every cell; errors name file, line, column."""
    label = _label(path)
    if not path.is_file():
        raise DataError(f"{label}: file not found")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(f"{label}: the file is empty; expected a header row") from None
        expected = [column.name for column in columns]
        if header != expected:
            missing = [name for name in expected if name not in header]
            extra = [name for name in header if name not in expected]
            detail = "; ".join(
                part
                for part in (
                    f"missing column(s) {', '.join(missing)}" if missing else "",
                    f"unexpected column(s) {', '.join(extra)}" if extra else "",
                    "columns out of order" if not (missing or extra) else "",
                )
                if part
            )
            raise DataError(f"{label}, line 1 (header): {detail}; expected: {','.join(expected)}")
        rows: list[dict[str, object]] = []
        for line_number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            where = f"{label}, line {line_number} ({cells[0] or 'no key'})"
            if len(cells) != len(columns):
                raise DataError(f"{where}: {len(cells)} cells, expected {len(columns)}")
            row: dict[str, object] = {"_where": where}
            for column, raw in zip(columns, cells, strict=True):
                raw = raw.strip()
                if raw == "":
                    if column.required:
                        raise DataError(f"{where}, column {column.name}: a value is required")
                    row[column.name] = None
                    continue
                try:
                    row[column.name] = column.parse(raw)
                except ValueError as error:
                    raise DataError(f"{where}, column {column.name}: {error}") from None
            rows.append(row)
    if not rows:
        raise DataError(f"{label}: no rows")
    keys = [row[columns[0].name] for row in rows]
    for row, key in zip(rows, keys, strict=True):
        if keys.count(key) > 1:
            raise DataError(f"{row['_where']}, column {columns[0].name}: {key!r} appears twice")
    return rows


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


# --- the records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Accelerator:
    id: str
    name: str
    vendor: str
    tdp_w: float
    bf16_dense_tflops: float
    fp8_dense_tflops: float | None
    memory_gb: float
    memory_bandwidth_tbps: float
    source: tuple[str, ...]
    unit_price_usd: float | None
    price_source: tuple[str, ...] | None
    note: str | None

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
    key: str
    value: float
    unit: str
    date: str
    source: tuple[str, ...]
    quote: str | None
    note: str | None


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: int | float | str
    unit: str | None
    low: float | None
    high: float | None
    min: float | None
    max: float | None
    choices: tuple[str, ...]
    distribution: str | None
    description: str
    source: tuple[str, ...]
    note: str | None


@dataclass(frozen=True)
class PublishedRun:
    """A training run as its publisher reports it (for checking the model against)."""

    key: str
    model: str
    gpu_hours: float
    gpu_power_w: float
    location_tco2e: float
    market_tco2e: float
    source: tuple[str, ...]
    note: str | None


@dataclass(frozen=True)
class Interruption:
    """One row of the Llama 3 paper's table of unexpected interruptions by cause."""

    cause: str
    category: str
    count: float
    source: tuple[str, ...]


@dataclass(frozen=True)
class Headline:
    key: str
    unit: str
    notebook: str
    description: str


_ACCELERATOR_COLUMNS = (
    Column("id", _identifier),
    Column("name", _text),
    Column("vendor", _text),
    Column("tdp_w", _positive),
    Column("bf16_dense_tflops", _positive),
    Column("fp8_dense_tflops", _positive, required=False),
    Column("memory_gb", _positive),
    Column("memory_bandwidth_tbps", _positive),
    Column("source", _words),
    Column("unit_price_usd", _positive, required=False),
    Column("price_source", _words, required=False),
    Column("note", _text, required=False),
)
_FACT_COLUMNS = (
    Column("key", _identifier),
    Column("value", _number),
    Column("unit", _unit),
    Column("date", _iso_date),
    Column("source", _words),
    Column("quote", _text, required=False),
    Column("note", _text, required=False),
)
_PARAMETER_COLUMNS = (
    Column("name", _identifier),
    Column("type", _param_type),
    Column("default", _text),
    Column("unit", _unit, required=False),
    Column("low", _number, required=False),
    Column("high", _number, required=False),
    Column("min", _number, required=False),
    Column("max", _number, required=False),
    Column("choices", _words, required=False),
    Column("distribution", _distribution, required=False),
    Column("description", _text),
    Column("source", _words),
    Column("note", _text, required=False),
)
_RUN_COLUMNS = (
    Column("key", _identifier),
    Column("model", _text),
    Column("gpu_hours", _positive),
    Column("gpu_power_w", _positive),
    Column("location_tco2e", _number),
    Column("market_tco2e", _number),
    Column("source", _words),
    Column("note", _text, required=False),
)
_INTERRUPTION_COLUMNS = (
    Column("cause", _identifier),
    Column("category", _text),
    Column("count", _positive),
    Column("source", _words),
)
_HEADLINE_COLUMNS = (
    Column("key", _identifier),
    Column("unit", _unit),
    Column("notebook", _identifier),
    Column("description", _text),
)


def _record(cls, row: Mapping[str, object]):
    return cls(**{key: value for key, value in row.items() if key != "_where"})


def _parameter(row: dict[str, object]) -> Parameter:
    """Check a registry row's internal consistency and type its default."""
    where = row["_where"]
    kind = row["type"]
    raw_default = str(row["default"])
    if kind == "choice":
        choices = row["choices"] or ()
        if not choices:
            raise DataError(f"{where}, column choices: a choice parameter needs its choices")
        if raw_default not in choices:
            raise DataError(f"{where}, column default: {raw_default!r} is not one of its choices")
        for column in ("low", "high", "min", "max", "unit", "distribution"):
            if row[column] is not None:
                raise DataError(f"{where}, column {column}: must be empty for a choice parameter")
        row["choices"] = choices
        return _record(Parameter, row)
    if row["choices"]:
        raise DataError(f"{where}, column choices: only choice parameters have choices")
    if row["unit"] is None:
        raise DataError(f"{where}, column unit: a numeric parameter needs a unit")
    try:
        default = _number(raw_default)
    except ValueError as error:
        raise DataError(f"{where}, column default: {error}") from None
    if kind == "int":
        if default != int(default):
            raise DataError(f"{where}, column default: {raw_default!r} is not a whole number")
        default = int(default)
    low, high, lo, hi = row["low"], row["high"], row["min"], row["max"]
    if (low is None) != (high is None):
        raise DataError(f"{where}, columns low/high: give both or neither")
    if row["distribution"] is not None and (low is None or low == high):
        raise DataError(
            f"{where}, column distribution: {row['distribution']} needs a sourced range "
            "(low below high)"
        )
    if low is not None and not low <= default <= high:
        raise DataError(f"{where}, column default: {default} is outside its range {low}..{high}")
    for column, value in (("default", default), ("low", low), ("high", high)):
        if value is None:
            continue
        if lo is not None and value < lo:
            raise DataError(f"{where}, column {column}: {value} is below the minimum {lo}")
        if hi is not None and value > hi:
            raise DataError(f"{where}, column {column}: {value} is above the maximum {hi}")
    row["default"] = default
    row["choices"] = ()
    return _record(Parameter, row)


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
    data_dir = root / "data"
    references = bibliography_keys(root / "book" / "references.bib")
    tables = {
        "accelerators": _read_table(data_dir / "accelerators.csv", _ACCELERATOR_COLUMNS),
        "facts": _read_table(data_dir / "facts.csv", _FACT_COLUMNS),
        "parameters": _read_table(data_dir / "parameters.csv", _PARAMETER_COLUMNS),
        "published_runs": _read_table(data_dir / "published_runs.csv", _RUN_COLUMNS),
        "interruptions": _read_table(data_dir / "llama3_interruptions.csv", _INTERRUPTION_COLUMNS),
    }
    for rows in tables.values():
        for row in rows:
            if row.get("unit_price_usd") is not None and not row.get("price_source"):
                raise DataError(f"{row['_where']}, column price_source: a price needs a source")
            if row["source"] == (UNSOURCED,) and not row.get("note"):
                raise DataError(
                    f"{row['_where']}, column note: an unsourced figure must say why in its note"
                )
            for column in ("source", "price_source"):
                cited = [key for key in row.get(column) or () if key != UNSOURCED]
                unknown = [key for key in cited if key not in references]
                if unknown:
                    raise DataError(
                        f"{row['_where']}, column {column}: {', '.join(unknown)} not in "
                        "book/references.bib; add the reference or fix the key"
                    )
    accelerators = {row["id"]: _record(Accelerator, row) for row in tables["accelerators"]}
    if "h100_sxm" not in accelerators:
        raise DataError("data/accelerators.csv: the reference GPU h100_sxm is missing")
    facts = {row["key"]: _record(Fact, row) for row in tables["facts"]}
    parameters = {row["name"]: _parameter(row) for row in tables["parameters"]}
    where = {row["name"]: row["_where"] for row in tables["parameters"]}
    cross_checks = {
        "other_gpu": (accelerators, "not in data/accelerators.csv"),
        "equivalence_metric": (METRIC_UNITS, f"unknown; known: {', '.join(METRIC_UNITS)}"),
    }
    for name, (known, problem) in cross_checks.items():
        unknown = (
            [c for c in parameters[name].choices if c not in known] if name in parameters else []
        )
        if unknown:
            raise DataError(f"{where[name]}, column choices: {', '.join(unknown)} {problem}")
    headlines = {
        row["key"]: _record(Headline, row)
        for row in _read_table(data_dir / "headlines.csv", _HEADLINE_COLUMNS)
    }
    published_runs = {row["key"]: _record(PublishedRun, row) for row in tables["published_runs"]}
    interruptions = {row["cause"]: _record(Interruption, row) for row in tables["interruptions"]}
    return ProjectData(
        root, accelerators, facts, parameters, headlines, references, published_runs, interruptions
    )
