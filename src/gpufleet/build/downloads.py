"""Each chapter's numbers as files readers can download (CSV and JSON), written at build time."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping

from gpufleet.build import provenance
from gpufleet.build.results import NotebookResults
from gpufleet.model import data as _data

FIELDS = ("name", "value", "unit", "headline", "description", "scenario", "assumptions")


def chapter_rows(found: NotebookResults, project: _data.ProjectData) -> list[dict[str, object]]:
    """Every number a chapter glued; headline numbers carry their unit and description. Each
    row says what the chapter was computed with, as the file of every headline does (a file
    downloaded on its own still says it): the scenario, and the values that differ from the
    defaults (``pue=1.3``) or ``defaults``."""
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


def files(found: Mapping[str, NotebookResults], project: _data.ProjectData) -> dict[str, bytes]:
    """``book/results/NAME.csv`` and ``.json`` for every executed chapter ``found``
    (:func:`gpufleet.build.results.chapters`), by name."""
    written: dict[str, bytes] = {}
    for name, chapter in sorted(found.items()):
        rows = chapter_rows(chapter, project)
        written[f"book/results/{name}.json"] = (
            json.dumps(rows, indent=1, sort_keys=True) + "\n"
        ).encode()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        written[f"book/results/{name}.csv"] = buffer.getvalue().encode()
    return written
