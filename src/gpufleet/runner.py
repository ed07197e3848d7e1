"""Running the report: check every input, execute the notebooks with papermill, build the book.

The order matters for the reader of a failed run: all parameters (command line and scenario)
are checked before any notebook starts, so bad input never touches what was built before; an
executed notebook replaces its previous copy in ``book/`` only once it ran to the end; and the
site is built into a staging folder that replaces ``_build/html`` only when the build passed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gpufleet import booksite, downloads, scenarios
from gpufleet import data as _data
from gpufleet import params as _params
from gpufleet.kernels import KERNEL, RESET_TAG, KernelPool, with_reset
from gpufleet.notebooks import SourceNotebook, discover
from gpufleet.params import ParameterError, Value

Log = Callable[[str], None]


class RunError(RuntimeError):
    """A run that failed after its inputs were accepted (a notebook raised, the build failed)."""


@dataclass(frozen=True)
class Plan:
    """What a run will do, decided and checked before anything executes."""

    root: Path
    notebooks: tuple[SourceNotebook, ...]
    overrides: Mapping[str, Value]
    scenario: str | None = None
    never_run: tuple[str, ...] = ()

    def parameters_for(self, notebook: SourceNotebook) -> dict[str, Value]:
        """The overridden values a notebook takes (papermill injects only these)."""
        return {k: v for k, v in self.overrides.items() if k in notebook.parameters}


@dataclass
class Executed:
    name: str
    seconds: float
    parameters: dict[str, Value] = field(default_factory=dict)


# --- planning ------------------------------------------------------------------------------


def parse_assignment(text: str) -> tuple[str, str]:
    """Split ``NAME=VALUE`` from ``--set``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ParameterError(f"--set {text!r}: expected NAME=VALUE, for example --set pue=1.3")
    return name.strip(), value.strip()


def plan(
    root: Path,
    *,
    sets: Sequence[str] = (),
    only: Sequence[str] = (),
    scenario: str | None = None,
) -> Plan:
    """Check everything a run needs; raises ParameterError (exit 2) before anything runs."""
    project = _data.load(root)
    available = discover(root)
    by_name = {nb.name: nb for nb in available}
    for name in only:
        if name not in by_name:
            hint = _params._nearest(name, by_name)
            raise ParameterError(
                f"--only {name!r}: no such notebook"
                + (f"; did you mean {hint!r}?" if hint else "")
                + f" (notebooks: {', '.join(by_name)})"
            )
    selected = tuple(by_name[n] for n in dict.fromkeys(only)) if only else tuple(available)

    requested: dict[str, object] = {}
    label = None
    if scenario:
        loaded = scenarios.load(scenarios.resolve(root, scenario), project)
        label = loaded.name
        requested.update(loaded.parameters)
    for text in sets:
        name, value = parse_assignment(text)
        requested[name] = value

    overrides = _params.validate(requested, project)
    # Cross-parameter checks see the whole set of values the run will use.
    _params.validate({**_params.defaults(project), **overrides}, project)
    taken = {name for nb in selected for name in nb.parameters}
    for name in (parse_assignment(text)[0] for text in sets):  # a scenario may set more
        if name not in taken:
            users = [nb.name for nb in available if name in nb.parameters]
            raise ParameterError(
                f"{name}: not taken by the selected notebook(s) "
                f"{', '.join(nb.name for nb in selected)}"
                + (f"; it is used by {', '.join(users)}" if users else "; no notebook uses it yet")
            )
    # The book needs every chapter: one never executed before runs too, whatever --only says.
    missing = tuple(
        nb
        for nb in available
        if nb not in selected and not (root / "book" / f"{nb.name}.ipynb").is_file()
    )
    return Plan(root, selected + missing, overrides, label, tuple(nb.name for nb in missing))


# --- executing -----------------------------------------------------------------------------


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


# --- what changed ----------------------------------------------------------------------------


def _inputs_digest(root: Path) -> str:
    """A digest of what every notebook depends on beside itself and its parameters."""
    digest = hashlib.sha256()
    paths = [
        *sorted((root / "data").rglob("*.csv")),
        *sorted((root / "data").rglob("*.yaml")),
        root / "book" / "references.bib",
        *sorted((root / "src" / "gpufleet").rglob("*.py")),
        root / "requirements.lock",
    ]
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(notebook: SourceNotebook, parameters: Mapping[str, Value], inputs: str) -> str:
    """What a notebook's executed copy depends on: its source, its parameters and the inputs."""
    digest = hashlib.sha256(inputs.encode())
    digest.update(notebook.path.read_bytes())
    digest.update(json.dumps(parameters, sort_keys=True).encode())
    return digest.hexdigest()


def _site_digest(root: Path, fingerprints: Mapping[str, str]) -> str:
    """What the built site depends on: the pages, the configuration and every notebook's run."""
    digest = hashlib.sha256(json.dumps(fingerprints, sort_keys=True).encode())
    paths = [
        root / "_config.yml",
        root / "_toc.yml",
        *sorted((root / "book").glob("*.md")),
        *sorted((root / "_static").glob("*")),
        *sorted((root / "_extra").glob("*")),
    ]
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class Cache:
    """Fingerprints of the last successful run, kept beside the build in _build/cache.json."""

    def __init__(self, root: Path) -> None:
        self.path = root / "_build" / "cache.json"
        try:
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}
        self.data.setdefault("notebooks", {})

    def notebook(self, name: str) -> str | None:
        return self.data["notebooks"].get(name)

    def save(self, notebooks: Mapping[str, str], site: str | None) -> None:
        self.data["notebooks"].update(notebooks)
        if site is not None:
            self.data["site"] = site
        _write_atomic(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n")


# --- executing -------------------------------------------------------------------------------


def execute_one(plan: Plan, notebook: SourceNotebook, into: Path, kernels: KernelPool) -> Executed:
    """Run one notebook with papermill into ``into``; a failure keeps it in _build/failed."""
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
            km=kernels.acquire(),
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
    _write_atomic(scratch, json.dumps(executed, indent=1, ensure_ascii=False) + "\n")
    return Executed(notebook.name, time.perf_counter() - started, parameters)


def execute(
    plan: Plan,
    notebooks: Sequence[SourceNotebook],
    into: Path,
    *,
    jobs: int = 1,
    log: Log = print,
) -> list[Executed]:
    """Execute notebooks into ``into``, ``jobs`` at a time; every failure is reported."""
    done: list[Executed] = []
    errors: list[str] = []
    kernels = KernelPool()
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(execute_one, plan, nb, into, kernels): nb for nb in notebooks}
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
    if errors:
        raise RunError("\n".join(errors))
    return done


# --- building --------------------------------------------------------------------------------


def vendor_vega(static: Path, cache: Path) -> None:
    """Put the Vega libraries in a ``_static`` folder so charts render with no other host.

    Altair's HTML output loads vega, vega-lite and vega-embed from a CDN unless
    ``window.VEGA_DEBUG`` names their versions; the bundle sets ``window.vega*``. Making the
    bundle takes vl-convert about a second, so it is kept in ``cache`` for the next build.
    """
    import altair as alt

    static.mkdir(parents=True, exist_ok=True)
    versions = {
        "vega_version": alt.VEGA_VERSION,
        "vegalite_version": alt.VEGALITE_VERSION,
        "vegaembed_version": alt.VEGAEMBED_VERSION,
    }
    stamp = f"/* vega bundle for vega-lite {alt.VEGALITE_VERSION} (generated; do not edit) */\n"
    kept = cache / "vega-bundle.js"
    if not kept.is_file() or not kept.read_text(encoding="utf-8").startswith(stamp):
        import vl_convert

        major_minor = ".".join(alt.VEGALITE_VERSION.split(".")[:2])
        source = vl_convert.javascript_bundle(vl_version=f"v{major_minor}")
        _write_atomic(kept, stamp + "(function () {\n" + source + "\n})();\n")
    shutil.copy2(kept, static / "vega-bundle.js")
    config = (
        "/* Tells Altair's chart loader that the Vega libraries are already on the page "
        "(generated; do not edit). */\n"
        f"window.VEGA_DEBUG = {json.dumps(versions, sort_keys=True)};\n"
    )
    _write_atomic(static / "vega-config.js", config)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


#: The book's sources besides the executed notebooks.
BOOK_SOURCES = ("_config.yml", "_toc.yml", "book", "_static", "_extra")


def stage_sources(root: Path, source: Path, executed: Path) -> Path:
    """A fresh copy of the book's sources in ``source``, with the new executed notebooks.

    Every build starts from scratch: Sphinx's incremental builds neither know that a page
    pasting numbers from a notebook depends on it nor write the same bytes as a full build.
    """
    shutil.rmtree(source, ignore_errors=True)
    for name in BOOK_SOURCES:
        origin = root / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns(".*", "*.js.tmp"))
        elif origin.is_file():
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    for notebook in executed.glob("*.ipynb"):
        shutil.copy2(notebook, source / "book" / notebook.name)
    for name, content in downloads.files(source, _data.load(root)).items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(content)
    return source


def build(source: Path, out: Path, *, log: Log = print) -> Path:
    """Build ``source`` with warnings as errors into ``out``; returns the built html folder."""
    vendor_vega(source / "_static", out.parent.parent / "vega")
    log("building the site (warnings are errors)")
    started = time.perf_counter()
    shutil.rmtree(out, ignore_errors=True)
    succeeded, output = booksite.build(source, out, all_pages=True)
    if not succeeded:
        report = out.parent.parent / "build-errors.log"  # _build/, beside the site
        report.write_text(output, encoding="utf-8")
        output = re.sub(r"\x1b\[[0-9;]*m", "", output)
        problems = [
            line.strip().replace(str(source) + os.sep, "")
            for line in output.splitlines()
            if "WARNING" in line or "ERROR" in line or "Error" in line
        ]
        raise RunError(
            "the book build failed; the previous site is untouched\n  "
            + "\n  ".join(problems[:15] or ["(no warning lines; see the log)"])
            + f"\n  full log: {report.relative_to(report.parent.parent)}"
        )
    log(f"  built in {time.perf_counter() - started:.1f} s")
    return out / "_build" / "html"


def publish(root: Path, html: Path | None, executed: Path) -> None:
    """Swap in a copy of the new site with one rename, then the executed notebooks."""
    if html is not None:
        published = root / "_build" / "html"
        fresh = root / "_build" / ".html-new"
        old = root / "_build" / ".html-old"
        for leftover in (fresh, old):
            shutil.rmtree(leftover, ignore_errors=True)
        shutil.copytree(html, fresh)
        if published.exists():
            os.replace(published, old)
        os.replace(fresh, published)
        shutil.rmtree(old, ignore_errors=True)
    for notebook in executed.glob("*.ipynb"):
        os.replace(notebook, root / "book" / notebook.name)


@contextmanager
def exclusive(root: Path) -> Iterator[None]:
    """One run at a time per checkout; a second one is refused with a clear message."""
    lock_path = root / "_build" / ".lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(
                "another gpufleet run is in progress in this checkout; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Outcome:
    executed: list[str]
    skipped: list[str]
    built: bool


def run(
    the_plan: Plan,
    *,
    jobs: int = 1,
    build_site: bool = True,
    force: bool = False,
    log: Log = print,
) -> Outcome:
    """Execute what changed, build into a staging folder, then publish; all or nothing."""
    root = the_plan.root
    with exclusive(root):
        cache = Cache(root)
        inputs = _inputs_digest(root)
        prints = {
            nb.name: fingerprint(nb, the_plan.parameters_for(nb), inputs)
            for nb in the_plan.notebooks
        }
        stale = [
            nb
            for nb in the_plan.notebooks
            if force
            or cache.notebook(nb.name) != prints[nb.name]
            or not (root / "book" / f"{nb.name}.ipynb").is_file()
        ]
        skipped = [nb.name for nb in the_plan.notebooks if nb not in stale]
        total = len(the_plan.notebooks)
        for index, notebook in enumerate(the_plan.notebooks, start=1):
            shown = " ".join(f"{k}={v}" for k, v in the_plan.parameters_for(notebook).items())
            state = "queued" if notebook in stale else "up to date, not run"
            log(f"[{index}/{total}] {notebook.name}: {state}" + (f" ({shown})" if shown else ""))
        if build_site:
            booksite.preload()  # Sphinx's imports, while the kernels work
        stage = root / "_build" / ".stage"
        shutil.rmtree(stage, ignore_errors=True)
        executed_dir = stage / "executed"
        executed_dir.mkdir(parents=True)
        try:
            done = execute(the_plan, stale, executed_dir, jobs=jobs, log=log)
            all_prints = {**cache.data["notebooks"], **{nb.name: prints[nb.name] for nb in stale}}
            site = _site_digest(root, all_prints) if build_site else None
            html = None
            if build_site:
                if (
                    not done
                    and not force
                    and cache.data.get("site") == site
                    and (root / "_build" / "html").is_dir()
                ):
                    log("nothing changed: the site is up to date")
                else:
                    source = stage_sources(root, stage / "src", executed_dir)
                    html = build(source, stage / "out", log=log)
            publish(root, html, executed_dir)
            cache.save(
                {nb.name: prints[nb.name] for nb in stale}, site if html is not None else None
            )
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        if html is not None:
            log("site published: _build/html/index.html")
        return Outcome([r.name for r in done], skipped, html is not None)
