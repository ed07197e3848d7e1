"""Executing notebooks with papermill, reproducibly, in parallel, one kernel per worker.

An executed notebook is written to a scratch folder and tidied (:func:`tidy_executed`) so that
two identical runs write identical files; a notebook that raises is kept in ``_build/failed`` and
reported with the cell that failed.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gpufleet.book.notebooks import SourceNotebook
from gpufleet.build import provenance
from gpufleet.build.files import write_atomic
from gpufleet.build.kernels import KERNEL, RESET_TAG, KernelPool, with_reset
from gpufleet.build.planning import Plan
from gpufleet.errors import RunError
from gpufleet.model.params import Value

Log = Callable[[str], None]


@dataclass
class Executed:
    name: str
    seconds: float
    parameters: dict[str, Value] = field(default_factory=dict)


def _tag(cell: dict, tag: str) -> None:
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


_CHART_ID = re.compile(r"altair-viz-[0-9a-f]{32}")


def tidy_executed(notebook: dict, name: str) -> dict:
    """Make an executed notebook reproducible and ready for the book.

    Hides papermill's injected cell, drops run-specific metadata (timings, paths), and numbers
    cells, execution counts and Altair's charts in page order instead of by chance or by
    kernel history, so two identical runs write identical files.
    """
    notebook.get("metadata", {}).pop("papermill", None)
    notebook["cells"] = [
        cell
        for cell in notebook.get("cells", [])
        if RESET_TAG not in cell.get("metadata", {}).get("tags", [])
    ]
    count = 0
    for index, cell in enumerate(notebook.get("cells", [])):
        if "id" in cell:
            cell["id"] = f"{name}-{index}"  # nbformat would otherwise draw random ids
        if cell.get("execution_count") is not None:
            # A reused kernel keeps counting across notebooks: number each notebook from 1.
            count += 1
            cell["execution_count"] = count
            for output in cell.get("outputs", []):
                if "execution_count" in output:
                    output["execution_count"] = count
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
        if "injected-parameters" in meta.get("tags", []):
            _tag(cell, "remove-cell")
    text = json.dumps(notebook, ensure_ascii=False)
    ids: dict[str, str] = {}
    text = _CHART_ID.sub(
        lambda m: ids.setdefault(m.group(0), f"altair-viz-{name}-{len(ids)}"), text
    )
    return json.loads(text)


def _failure_message(name: str, error: Exception, kept: Path, root: Path) -> str:
    """Which notebook and cell failed, with what, and where the executed copy was kept."""
    ename = getattr(error, "ename", type(error).__name__)
    evalue = getattr(error, "evalue", str(error))
    where = ""
    try:
        cells = json.loads(kept.read_text(encoding="utf-8"))["cells"]
        source_cells = [c for c in cells if not _generated(c)]
        for position, cell in enumerate(source_cells, start=1):
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                first = "".join(cell.get("source", "")).strip().splitlines()[:1]
                where = f" in cell {position}" + (f" ({first[0][:60]})" if first else "")
                break
    except (OSError, ValueError, KeyError):
        pass
    return (
        f"notebook {name} failed{where}: {ename}: {evalue}\n"
        f"  the executed notebook is kept for inspection at {kept.relative_to(root)}"
    )


def _generated(cell: dict) -> bool:
    """A cell the runner or papermill added, not one of the source notebook's."""
    tags = cell.get("metadata", {}).get("tags", [])
    return RESET_TAG in tags or "injected-parameters" in tags


def execute_one(
    plan: Plan, notebook: SourceNotebook, into: Path, kernels: KernelPool, inputs: str
) -> Executed:
    """Run one notebook with papermill into ``into``, recording what it was computed with
    (on the data and code ``inputs``); a failure keeps it in _build/failed."""
    import nbformat
    import papermill

    root = plan.root
    scratch = into / f"{notebook.name}.ipynb"
    parameters = plan.parameters_for(notebook)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            with_reset(nbformat.read(notebook.path, as_version=4)),
            str(scratch),
            parameters=parameters,
            cwd=str(root),
            kernel_name=KERNEL,
            km=kernels.acquire(str(root)),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
        )
    except Exception as error:
        kernels.discard()
        kept = root / "_build" / "failed" / f"{notebook.name}.ipynb"
        kept.parent.mkdir(parents=True, exist_ok=True)
        if scratch.exists():
            os.replace(scratch, kept)
        raise RunError(_failure_message(notebook.name, error, kept, root)) from None
    executed = tidy_executed(json.loads(scratch.read_text(encoding="utf-8")), notebook.name)
    provenance.record(executed, plan.assumptions_for(notebook, inputs))
    write_atomic(scratch, json.dumps(executed, indent=1, ensure_ascii=False) + "\n")
    return Executed(notebook.name, time.perf_counter() - started, parameters)


def execute(
    plan: Plan,
    notebooks: Sequence[SourceNotebook],
    into: Path,
    *,
    inputs: str,
    jobs: int = 1,
    log: Log = print,
    timings: dict[str, float] | None = None,
) -> list[Executed]:
    """Execute notebooks into ``into``, ``jobs`` at a time; every failure is reported.

    ``timings``, if given, gets the longest kernel start under ``"kernel start"``."""
    done: list[Executed] = []
    errors: list[str] = []
    kernels = KernelPool(plan.root / "_build" / "kernels.log")
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {
                pool.submit(execute_one, plan, nb, into, kernels, inputs): nb for nb in notebooks
            }
            try:
                for future, notebook in futures.items():
                    try:
                        result = future.result()
                    except RunError as error:
                        errors.append(str(error))
                        continue
                    done.append(result)
                    log(f"  {notebook.name}: executed in {result.seconds:.1f} s")
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    except BaseException:
        kernels.close()
        raise
    # On success the kernels stop in the background while the book builds.
    kernels.close(wait=False)
    if timings is not None:
        timings["kernel start"] = max(kernels.start_seconds, default=0.0)
    if errors:
        raise RunError("\n".join(errors))
    return done
