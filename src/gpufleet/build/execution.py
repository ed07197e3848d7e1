"""Executing notebooks with papermill, reproducibly, in parallel.

Each notebook runs in a fresh fork of a worker that has already imported what the chapters
import (:mod:`gpufleet.build.forks`), its cells in an IPython shell in that process
(:mod:`gpufleet.build.inprocess`); where the platform cannot fork, in a Jupyter kernel
(:mod:`gpufleet.build.kernels`). Both give the same executed notebook, byte for byte (a test
compares them). An executed notebook is written to a scratch folder and tidied
(:func:`tidy_executed`) so that two identical runs write identical files; a notebook that raises
is kept in ``_build/failed`` and reported with the cell that failed.
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
from typing import TYPE_CHECKING

from gpufleet.book.notebooks import SourceNotebook
from gpufleet.build import forks, notebook_worker, provenance
from gpufleet.build.files import write_atomic
from gpufleet.build.planning import Plan
from gpufleet.errors import RunError
from gpufleet.model.params import Value

if TYPE_CHECKING:  # jupyter_client is imported only where kernels are used
    from gpufleet.build.kernels import KernelPool

Log = Callable[[str], None]

#: The Jupyter kernel the notebooks name (and run in, where kernels are used).
KERNEL = "python3"

#: The tag of the cell that clears a reused kernel's namespace (:mod:`gpufleet.build.kernels`),
#: removed from the executed notebook.
RESET_TAG = "gpufleet-reset"


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


@dataclass(frozen=True)
class Job:
    """What running one notebook takes, as plain data (it is sent to the worker that runs it):
    the notebook, the project, the folder its executed copy goes to, the parameters injected
    and what it is recorded as computed with."""

    name: str
    source: Path
    root: Path
    into: Path
    parameters: dict[str, Value]
    assumptions: provenance.Assumptions

    @classmethod
    def of(cls, plan: Plan, notebook: SourceNotebook, into: Path, inputs: str) -> Job:
        """The job of running ``notebook`` as ``plan`` says, on the data and code ``inputs``."""
        return cls(
            notebook.name,
            notebook.path,
            plan.root,
            into,
            plan.parameters_for(notebook),
            plan.assumptions_for(notebook, inputs),
        )


def execute_one(job: Job, kernels: KernelPool | None = None) -> Executed:
    """Run one notebook with papermill into ``job.into``, recording what it was computed with;
    a failure keeps it in _build/failed.

    With ``kernels``, in a Jupyter kernel from the pool (its namespace reset first); without,
    in this process (:mod:`gpufleet.build.inprocess`), which must be a fresh fork."""
    import nbformat
    import papermill
    from nbformat import reader

    root = job.root
    scratch = job.into / f"{job.name}.ipynb"
    # As nbformat.read gives it, without checking it against the notebook schema: compiling
    # that check took a tenth of a second in every process; the tests check every chapter.
    source = nbformat.convert(reader.reads(job.source.read_text(encoding="utf-8")), 4)
    if kernels is not None:
        from gpufleet.build.kernels import with_reset

        engine: dict[str, object] = {"km": kernels.acquire(str(root))}
        source = with_reset(source)
    else:
        from gpufleet.build import inprocess

        engine = {"engine_name": inprocess.ENGINE}
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            source,
            str(scratch),
            parameters=job.parameters,
            cwd=str(root),
            kernel_name=KERNEL,
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            **engine,
        )
    except Exception as error:
        if kernels is not None:
            kernels.discard()
        kept = root / "_build" / "failed" / f"{job.name}.ipynb"
        kept.parent.mkdir(parents=True, exist_ok=True)
        if scratch.exists():
            os.replace(scratch, kept)
        raise RunError(_failure_message(job.name, error, kept, root)) from None
    executed = tidy_executed(json.loads(scratch.read_text(encoding="utf-8")), job.name)
    provenance.record(executed, job.assumptions)
    write_atomic(scratch, json.dumps(executed, indent=1, ensure_ascii=False) + "\n")
    return Executed(job.name, time.perf_counter() - started, job.parameters)


#: What the chapters import, imported once by the worker before it forks a process for each
#: notebook (the book's helpers import the model, pandas and Altair); and what running a
#: notebook in process needs.
CHAPTER_MODULES = (
    "numpy",
    "pandas",
    "altair",
    "IPython.display",
    "myst_nb",
    "nbformat",
    "papermill",
    "gpufleet.build.inprocess",
    *(
        f"gpufleet.book.{name}"
        for name in ("chapter", "charts", "explorer", "notebooks", "pages", "report")
    ),
)


def prepare_worker() -> None:
    """In the worker, once: import what the chapters import, make the IPython shell and compile
    the check of the notebooks papermill writes."""
    import importlib

    for name in CHAPTER_MODULES:
        importlib.import_module(name)
    import nbformat
    from nbformat import validator

    from gpufleet.build import inprocess

    inprocess.shell()
    # Papermill checks every notebook it writes against the schema of the current format: the
    # check is compiled once here rather than in each notebook's process.
    validator.get_validator(4, nbformat.v4.nbformat_minor)


def run_job(job: Job) -> Executed:
    """In a fork of the worker: run one notebook; its failure, described, for the runner."""
    try:
        return execute_one(job)
    except RunError as error:
        raise forks.TaskError(str(error)) from None


def execute(
    plan: Plan,
    notebooks: Sequence[SourceNotebook],
    into: Path,
    *,
    inputs: str,
    jobs: int = 1,
    log: Log = print,
    timings: dict[str, float] | None = None,
    kernels: bool = not forks.available(),
    worker: forks.Forks | None = None,
    started: Callable[[], object] | None = None,
    idle: Callable[[], object] | None = None,
) -> list[Executed]:
    """Execute notebooks into ``into``, ``jobs`` at a time; every failure is reported.

    Each notebook runs in a fresh fork of a worker that has imported :data:`CHAPTER_MODULES`
    (:mod:`gpufleet.build.forks`): ``worker`` if it was started already, a new one
    otherwise; it is stopped when they are done. With ``kernels`` (where the platform cannot
    fork), each runs in a Jupyter kernel instead. ``started`` is called once the worker is
    forked, while it imports (this process may start threads from then on); not at all when
    there is no notebook to run. ``idle`` is called once, as soon as fewer notebooks are left
    to run than ``jobs`` (a processor is free from then on for other work). ``timings``, if
    given, gets how long the worker took to be ready (what was left of its imports, or the
    longest kernel start) under ``"workers ready"``.
    """
    if not notebooks:
        return []
    left = _Left(len(notebooks), jobs, idle)
    if kernels:
        return _execute_in_kernels(plan, notebooks, into, inputs, jobs, log, timings, started, left)
    done: list[Executed] = []
    errors: dict[int, str] = {}

    def finished(index: int, result: Executed) -> None:
        done.append(result)
        log(f"  {result.name}: executed in {result.seconds:.1f} s")
        left.one_done()

    def failed(index: int, why: str) -> None:
        name = notebooks[index].name
        errors[index] = why if why.startswith(f"notebook {name} ") else f"notebook {name}: {why}"
        left.one_done()

    with worker or notebook_worker.start() as running:
        if started is not None:
            started()  # while the worker imports
        waiting = time.perf_counter()
        try:
            running.ready()
        except forks.TaskError as error:
            raise RunError(f"the notebooks could not be run: {error}") from None
        if timings is not None:  # how long this run waited for it, however early it started
            timings["workers ready"] = time.perf_counter() - waiting
        jobs_to_run = [Job.of(plan, notebook, into, inputs) for notebook in notebooks]
        left.check()
        running.run(jobs_to_run, finished, failed, jobs=jobs)
    if errors:
        raise RunError("\n".join(errors[index] for index in sorted(errors)))
    order = {nb.name: position for position, nb in enumerate(notebooks)}
    return sorted(done, key=lambda result: order[result.name])


class _Left:
    """How many notebooks are left to run; calls ``idle`` once, when fewer than ``jobs``."""

    def __init__(self, count: int, jobs: int, idle: Callable[[], object] | None) -> None:
        self.count = count
        self.jobs = max(1, jobs)
        self.idle = idle

    def one_done(self) -> None:
        self.count -= 1
        self.check()

    def check(self) -> None:
        if self.idle is not None and self.count < self.jobs:
            idle, self.idle = self.idle, None
            idle()


def _execute_in_kernels(
    plan: Plan,
    notebooks: Sequence[SourceNotebook],
    into: Path,
    inputs: str,
    jobs: int,
    log: Log,
    timings: dict[str, float] | None,
    started: Callable[[], object] | None,
    left: _Left,
) -> list[Executed]:
    done: list[Executed] = []
    errors: list[str] = []
    from gpufleet.build.kernels import KernelPool

    kernels = KernelPool(plan.root / "_build" / "kernels.log")
    if started is not None:
        started()
    left.check()
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {
                pool.submit(execute_one, Job.of(plan, nb, into, inputs), kernels): nb
                for nb in notebooks
            }
            try:
                for future, notebook in futures.items():
                    try:
                        result = future.result()
                    except RunError as error:
                        errors.append(str(error))
                        continue
                    finally:
                        left.one_done()  # in the order given, not that of finishing
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
        timings["workers ready"] = max(kernels.start_seconds, default=0.0)
    if errors:
        raise RunError("\n".join(errors))
    return done
