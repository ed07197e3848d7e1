"""Reference tables for the pages, written as MyST Markdown so that sources become citations."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from gpufleet.formatting import number
from gpufleet.model.data import UNSOURCED, Parameter, ProjectData
from gpufleet.model.params import Checked, Value, allowed


def citation_text(keys: Iterable[str], project: ProjectData) -> str:
    """Sources in plain words for a chart's tooltip, where no citation can be rendered:
    ``Meta AI (2023); Epoch AI (2024)``, read from book/references.bib."""
    labels = _bibliography_labels(project.root / "book" / "references.bib")
    return "; ".join(labels.get(key, key) for key in keys if key != UNSOURCED)


@functools.cache
def _bibliography_labels(path: Path) -> dict[str, str]:
    """``{key: "First author (year)"}`` for every entry of a BibTeX file."""
    labels = {}
    for entry in re.split(r"\n(?=@)", path.read_text(encoding="utf-8")):
        key = re.match(r"@\w+\s*\{\s*([^,\s]+)", entry.strip())
        if not key:
            continue
        author = re.search(r"\bauthor\s*=\s*\{(.*?)\},?\s*\n", entry, flags=re.S)
        year = re.search(r"\byear\s*=\s*\{?(\d{4})", entry)
        who = re.sub(r"[{}]", "", author.group(1)).split(" and ")[0] if author else key.group(1)
        who = who.split(",")[0] if "," in who and not who.endswith("Inc.") else who
        labels[key.group(1)] = f"{' '.join(who.split())} ({year.group(1)})" if year else who
    return labels


def cite(keys: Iterable[str]) -> str:
    keys = [key for key in keys if key != UNSOURCED]
    if not keys:
        return "no published source (see note)"
    return "{cite:p}`" + ",".join(keys) + "`" if keys else ""


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _capitalised(word: str) -> bool:
    """``Carlo``, ``SuperCluster``: a word written with a capital, not an acronym (``FLOPs``,
    ``IT``, ``H100``)."""
    return word[:1].isupper() and word[1:2].islower()


def label_in_sentence(param: Parameter, *, with_name: bool = True) -> str:
    """A parameter's label as it reads inside a sentence, with its name:
    ``average draw as a share of peak (avg_power_fraction)``.

    Only an ordinary first word is lower-cased: an acronym or a name with capitals inside it
    keeps them (``NVIDIA H100 GPUs``, ``GPU-hours``), and so does the first word of a proper
    noun, a capitalised word followed by another (``Monte Carlo samples``)."""
    words = param.label
    first, *rest = words.split(" ")
    ordinary = _capitalised(first) and first[1:].islower()
    if ordinary and not (rest and _capitalised(rest[0])):
        words = first[0].lower() + words[1:]
    return f"{words} ({param.name})" if with_name else words


#: Units a value is written without: the label says what it counts or divides.
UNITLESS = ("count", "id", "fraction", "ratio", "unit")


def value_with_unit(param: Parameter, value: Value) -> str:
    """A parameter's value as a page shows it: ``1.3``, ``310,000 USD``, `` `mi300x` ``."""
    if param.type == "choice":
        return f"`{value}`"
    if param.unit == "id":
        return str(value)  # a seed is a name, not a quantity: no separators
    if param.unit in (None, *UNITLESS):
        return number(value)
    return f"{number(value)} {unit_for(param.unit, value)}"


def unit_for(unit: str, value: object) -> str:
    """A unit as it follows ``value``: a unit written as a plural word (``minutes``, ``hours``,
    ``years``) is singular after exactly 1 (``1 minute``); symbols (``W``, ``USD/MWh``) never
    change."""
    if unit.isalpha() and unit.islower() and unit.endswith("s") and value == 1:
        return unit[:-1]
    return unit


def parameters_markdown(project: ProjectData, users: Mapping[str, list[str]]) -> str:
    """Every parameter at a glance (default, sourced range, source), then what each is, where
    its range comes from and which chapters use it."""
    rows = []
    notes = []
    for param in project.parameters.values():
        if param.type == "choice":
            default = f"`{param.default}`"
            plausible = "one of " + ", ".join(f"`{c}`" for c in param.choices)
        else:
            unit = "" if param.unit in (None, *UNITLESS) else f" {param.unit}"
            default = value_with_unit(param, param.default)
            plausible = (
                f"{number(param.low)} to {number(param.high)}{unit}"
                if param.low is not None
                else "none sourced"
            )
        chapters = ", ".join(f"[{n}]({n}.ipynb)" for n in users.get(param.name, []))
        rows.append([f"{param.label} (`{param.name}`)", default, plausible, cite(param.source)])
        notes.append(
            f"- **{param.label}** (`{param.name}`; {allowed(param)}): {param.description}."
            + (f" {_names_as_code(param.note, project)}." if param.note else "")
            + f" Used by: {chapters or 'no chapter yet'}."
        )
    table = markdown_table(["assumption", "default", "sourced range", "source"], rows)
    return (
        table
        + "\n\n**Each assumption, its sources and the ends of its range:**\n\n"
        + "\n".join(notes)
    )


def _names_as_code(text: str, project: ProjectData) -> str:
    """``text`` with each parameter name it mentions written as code: a note in the registry
    may name another parameter (``must be at least h100_count``), which a reader should see
    as a name, not a word."""
    names = sorted((n for n in project.parameters if "_" in n), key=len, reverse=True)
    if not names:
        return text
    pattern = re.compile(r"(?<![\w`])(" + "|".join(map(re.escape, names)) + r")(?![\w`])")
    return pattern.sub(r"`\1`", text)


def facts_markdown(project: ProjectData) -> str:
    """Every sourced figure: value and date at a glance, then what each is, quoted."""
    rows = []
    for f in project.facts.values():
        unit = "" if f.unit == "count" else f" {f.unit}"
        rows.append([f"`{f.key}`", number(f.value) + unit, f.date, cite(f.source)])
    notes = [
        f"- `{f.key}`: " + (f.note or "") + (f' "{f.quote}"' if f.quote else "")
        for f in project.facts.values()
        if f.note or f.quote
    ]
    table = markdown_table(["figure", "value", "date", "source"], rows)
    return table + "\n\n**What each figure is:**\n\n" + "\n".join(notes)


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
            number(g.tdp_w),
            number(g.bf16_dense_tflops),
            number(g.fp8_dense_tflops) or "none",
            number(g.memory_gb),
            number(g.memory_bandwidth_tbps),
        ]
        + ([g.note or ""] if notes else [])
        + [cite(g.source)]
        for g in project.accelerators.values()
    ]
    return markdown_table(header, rows)


def run_parameters_markdown(checked: Checked) -> str:
    """What a notebook ran with: a sentence on what changed, then every value in a dropdown."""
    registry = checked.project.parameters

    def shown(name: str, value: Value) -> str:
        return value_with_unit(registry[name], value)

    changed = checked.changed()
    total = len(checked.values)
    if changed:
        changes = "; ".join(
            f"`{name}` = **{shown(name, value)}** (default {shown(name, registry[name].default)})"
            for name, value in changed.items()
        )
        summary = (
            f"These numbers depart from the report's defaults in {len(changed)} of the {total} "
            f"assumptions of this page: {changes}."
        )
    else:
        summary = f"This page uses the report's default for all {total} of its assumptions."
    rows = []
    for name, value in checked.values.items():
        param = registry[name]
        rows.append(
            [
                f"{param.label} (`{name}`)",
                f"**{shown(name, value)}** (changed)" if name in changed else shown(name, value),
                shown(name, param.default),
                param.description,
            ]
        )
    table = markdown_table(["assumption", "value here", "default", "what it is"], rows)
    return (
        f"{summary}\n\n:::{{dropdown}} All {total} assumptions, with their defaults\n{table}\n:::\n"
    )
