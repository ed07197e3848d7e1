"""Reading the headline numbers back out of the executed notebooks in ``book/``.

A chapter glues its headlines with :func:`gpufleet.book.chapter.headlines`; the glued value is
stored in the executed notebook's outputs, so results always match the page they were rendered
on. Each executed notebook also records what it was computed with
(:mod:`gpufleet.build.provenance`).

To read the numbers out of a notebook you ran yourself with papermill::

    from gpufleet.build.results import read_notebook

    found = read_notebook("out.ipynb")
    found.numbers["annual_energy_twh"]   # every number the chapter glued, by name
    found.assumptions.parameters         # the parameters papermill injected
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gpufleet.book.notebooks import discover
from gpufleet.build import provenance
from gpufleet.build.provenance import Assumptions
from gpufleet.model import data as _data

GLUE_MIME = "application/papermill.record/text/plain"
UNCERTAINTY = "uncertainty"
PERCENTILE_NAMES = ("p5", "p50", "p95")

#: The columns of ``gpufleet results --csv`` and of the site's download of every headline.
CSV_COLUMNS = (
    "key",
    "description",
    "value",
    "p5",
    "p50",
    "p95",
    "unit",
    "chapter",
    "scenario",
    "assumptions",
)


@dataclass(frozen=True)
class NotebookResults:
    """What an executed notebook holds: the numbers it glued, and what they were computed
    with (``None`` for a notebook that records nothing)."""

    numbers: dict[str, float]
    assumptions: Assumptions | None


def _glued(notebook: Mapping) -> dict[str, float]:
    values: dict[str, float] = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get(GLUE_MIME)
            if name is None or text is None:
                continue
            try:
                values[name] = float(text)
            except ValueError:
                continue  # glued text, not a number
    return values


def read_notebook(path: Path | str) -> NotebookResults:
    """The numbers glued in an executed notebook, by name, and what it was computed with.

    Works on the chapters ``gpufleet run`` writes into ``book/`` and on a notebook executed
    by plain papermill (its injected parameters are its assumptions).
    """
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    return NotebookResults(_glued(notebook), provenance.read(notebook))


def glued_values(executed: Path) -> dict[str, float]:
    """Every number glued in an executed notebook, by name."""
    return read_notebook(executed).numbers


def chapters(root: Path, book: Path | None = None) -> dict[str, NotebookResults]:
    """Every executed chapter in ``book`` (default: the project's ``book/``), by name."""
    folder = book or root / "book"
    return {
        nb.name: read_notebook(folder / f"{nb.name}.ipynb")
        for nb in discover(root)
        if (folder / f"{nb.name}.ipynb").is_file()
    }


def takes(root: Path) -> dict[str, Mapping[str, object]]:
    """The parameters each chapter takes, by chapter."""
    return {nb.name: nb.parameters for nb in discover(root)}


def records(found: Mapping[str, NotebookResults]) -> dict[str, Assumptions | None]:
    """What each chapter in ``found`` was computed with, by chapter."""
    return {name: chapter.assumptions for name, chapter in found.items()}


def problems(root: Path, found: Mapping[str, NotebookResults]) -> list[str]:
    """Why the chapters ``found`` were not all computed with one set of assumptions."""
    return provenance.disagreements(records(found), takes(root), _data.load(root))


def collect(
    root: Path, found: Mapping[str, NotebookResults] | None = None
) -> dict[str, dict[str, object]]:
    """``{key: {value, unit, notebook, description}}`` for every headline that has been run,
    with ``p5``, ``p50``, ``p95`` where the uncertainty chapter has them."""
    project = _data.load(root)
    found = chapters(root) if found is None else found
    results: dict[str, dict[str, object]] = {}
    for key, headline in project.headlines.items():
        chapter = found.get(headline.notebook)
        value = chapter.numbers.get(key) if chapter else None
        if value is None:
            continue
        results[key] = {
            "value": int(value) if value.is_integer() and headline.unit == "count" else value,
            "unit": headline.unit,
            "notebook": headline.notebook,
            "description": headline.description,
        }
    # Percentiles come from the uncertainty chapter's latest run, where it has run.
    spread = found[UNCERTAINTY].numbers if UNCERTAINTY in found else {}
    for key, row in results.items():
        if all(f"{key}__{name}" in spread for name in PERCENTILE_NAMES):
            row.update({name: spread[f"{key}__{name}"] for name in PERCENTILE_NAMES})
    return results


def csv_text(root: Path, found: Mapping[str, NotebookResults] | None = None) -> str:
    """Every headline as CSV (:data:`CSV_COLUMNS`): exact values, the interval where there is
    one, and what its chapter was computed with."""
    project = _data.load(root)
    found = chapters(root) if found is None else found
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for key, row in collect(root, found).items():
        assumptions = found[row["notebook"]].assumptions
        writer.writerow(
            {
                "key": key,
                "description": row["description"],
                "value": row["value"],
                **{name: row.get(name, "") for name in PERCENTILE_NAMES},
                "unit": row["unit"],
                "chapter": row["notebook"],
                "scenario": (assumptions.scenario if assumptions else None) or "",
                "assumptions": provenance.compact(assumptions, project),
            }
        )
    return buffer.getvalue()
