"""Each chapter's numbers as files readers can download (CSV and JSON), written at build time."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from gpufleet.build import provenance
from gpufleet.build.results import read_notebook
from gpufleet.model import data as _data

FIELDS = ("name", "value", "unit", "headline", "description", "scenario", "assumptions")


def chapter_rows(executed: Path, project: _data.ProjectData) -> list[dict[str, object]]:
    """Every number a chapter glued; headline numbers carry their unit and description. Each
    row says what the chapter was computed with, as the file of every headline does (a file
    downloaded on its own still says it): the scenario, and the values that differ from the
    defaults (``pue=1.3``) or ``defaults``."""
    found = read_notebook(executed)
    scenario = (found.assumptions.scenario if found.assumptions else None) or ""
    assumed = provenance.compact(found.assumptions, project)
    rows = []
    for name, value in sorted(found.numbers.items()):
        headline = project.headlines.get(name)
        rows.append(
            {
                "name": name,
                "value": value,
                "unit": headline.unit if headline else "",
                "headline": bool(headline),
                "description": headline.description if headline else "",
                "scenario": scenario,
                "assumptions": assumed,
            }
        )
    return rows


def files(source: Path, project: _data.ProjectData) -> dict[str, bytes]:
    """``book/results/NAME.csv`` and ``.json`` for every executed notebook in ``source``."""
    written: dict[str, bytes] = {}
    for executed in sorted((source / "book").glob("*.ipynb")):
        rows = chapter_rows(executed, project)
        written[f"book/results/{executed.stem}.json"] = (
            json.dumps(rows, indent=1, sort_keys=True) + "\n"
        ).encode()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        written[f"book/results/{executed.stem}.csv"] = buffer.getvalue().encode()
    return written
