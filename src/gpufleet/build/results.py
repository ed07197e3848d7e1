"""Reading the headline numbers back out of the executed notebooks in ``book/``.

A chapter glues its headlines with :func:`gpufleet.book.chapter.headlines`; the glued value is
stored in the executed notebook's outputs, so results always match the page they were rendered
on.
"""

from __future__ import annotations

import json
from pathlib import Path

from gpufleet.model import data as _data

GLUE_MIME = "application/papermill.record/text/plain"
UNCERTAINTY = "uncertainty"
PERCENTILE_NAMES = ("p5", "p50", "p95")


def glued_values(executed: Path) -> dict[str, float]:
    """Every number glued in an executed notebook, by name."""
    notebook = json.loads(executed.read_text(encoding="utf-8"))
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


def collect(root: Path) -> dict[str, dict[str, object]]:
    """``{key: {value, unit, notebook, description}}`` for every headline that has been run."""
    project = _data.load(root)
    cache: dict[str, dict[str, float]] = {}
    results: dict[str, dict[str, object]] = {}
    for key, headline in project.headlines.items():
        if headline.notebook not in cache:
            executed = root / "book" / f"{headline.notebook}.ipynb"
            cache[headline.notebook] = glued_values(executed) if executed.is_file() else {}
        value = cache[headline.notebook].get(key)
        if value is None:
            continue
        results[key] = {
            "value": int(value) if value.is_integer() and headline.unit == "count" else value,
            "unit": headline.unit,
            "notebook": headline.notebook,
            "description": headline.description,
        }
    # Percentiles come from the uncertainty chapter's latest run, where it has run.
    executed = root / "book" / f"{UNCERTAINTY}.ipynb"
    spread = glued_values(executed) if executed.is_file() else {}
    for key, row in results.items():
        if all(f"{key}__{name}" in spread for name in PERCENTILE_NAMES):
            row.update({name: spread[f"{key}__{name}"] for name in PERCENTILE_NAMES})
    return results
