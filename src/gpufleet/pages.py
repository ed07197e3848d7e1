"""Reference tables for the pages, written as MyST Markdown so that sources become citations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from gpufleet.data import ProjectData
from gpufleet.params import Checked, allowed


def _cite(keys: Iterable[str]) -> str:
    keys = list(keys)
    return "{cite:p}`" + ",".join(keys) + "`" if keys else ""


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _number(value: float | int | None) -> str:
    """A figure as a reader expects it: thousands separated, no spurious decimals."""
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def parameters_markdown(project: ProjectData, users: Mapping[str, list[str]]) -> str:
    """Every parameter: notebooks, default, unit, plausible range, allowed values, sources."""
    rows = []
    for param in project.parameters.values():
        plausible = (
            f"{_number(param.low)} to {_number(param.high)}"
            if param.low is not None
            else "no sourced range"
        )
        if param.type == "choice":
            plausible = "—"
        rows.append(
            [
                f"`{param.name}`",
                ", ".join(f"[{n}]({n}.ipynb)" for n in users.get(param.name, [])) or "none yet",
                f"`{param.default}`" if param.type == "choice" else _number(param.default),
                param.unit or "",
                plausible,
                allowed(param),
                param.description + (f". {param.note}" if param.note else ""),
                _cite(param.source),
            ]
        )
    return markdown_table(
        [
            "parameter",
            "notebooks",
            "default",
            "unit",
            "plausible range",
            "allowed",
            "what it is",
            "source",
        ],
        rows,
    )


def facts_markdown(project: ProjectData) -> str:
    rows = [
        [
            f"`{f.key}`",
            _number(f.value),
            f.unit,
            f.date.isoformat(),
            f'"{f.quote}"' if f.quote else "",
            f.note or "",
            _cite(f.source),
        ]
        for f in project.facts.values()
    ]
    return markdown_table(["figure", "value", "unit", "date", "quote", "note", "source"], rows)


def accelerators_markdown(project: ProjectData, *, notes: bool = True) -> str:
    """The accelerator table; ``notes=False`` leaves out the notes column for a narrow page."""
    header = (
        [
            "GPU",
            "TDP (W)",
            "dense BF16 (TFLOP/s)",
            "dense FP8 (TFLOP/s)",
            "memory (GB)",
            "bandwidth (TB/s)",
        ]
        + (["note"] if notes else [])
        + ["source"]
    )
    rows = [
        [
            g.name,
            _number(g.tdp_w),
            _number(g.bf16_dense_tflops),
            _number(g.fp8_dense_tflops) or "none",
            _number(g.memory_gb),
            _number(g.memory_bandwidth_tbps),
        ]
        + ([g.note or ""] if notes else [])
        + [_cite(g.source)]
        for g in project.accelerators.values()
    ]
    return markdown_table(header, rows)


def run_parameters_markdown(checked: Checked) -> str:
    """The parameters a notebook ran with; values that differ from the default are marked."""
    registry = checked.project.parameters
    rows = []
    for name, value in checked.values.items():
        param = registry[name]
        changed = value != param.default
        shown = f"`{value}`" if param.type == "choice" else _number(value)
        rows.append(
            [
                f"`{name}`",
                f"**{shown}** (changed)" if changed else shown,
                f"`{param.default}`" if param.type == "choice" else _number(param.default),
                param.unit or "",
                param.description,
            ]
        )
    return markdown_table(["parameter", "this run", "default", "unit", "what it is"], rows)
