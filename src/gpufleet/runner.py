"""Running the report: check every input, execute the notebooks with papermill, build the book.

The order matters for the reader of a failed run: all parameters (command line and scenario)
are checked before any notebook starts, so bad input never touches what was built before; an
executed notebook replaces its previous copy in ``book/`` only once it ran to the end; and the
site is built into a staging folder that replaces ``_build/html`` only when the build passed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gpufleet import data as _data
from gpufleet import params as _params
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


def scenario_path(root: Path, spec: str) -> Path:
    """A scenario by name (``data/scenarios/NAME.yaml``) or by path."""
    candidate = Path(spec)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return candidate if candidate.is_absolute() else Path.cwd() / candidate
    named = root / "data" / "scenarios" / f"{spec}.yaml"
    if named.is_file():
        return named
    known = sorted(p.stem for p in (root / "data" / "scenarios").glob("*.yaml"))
    raise ParameterError(
        f"--scenario {spec!r}: no such scenario; known scenarios: {', '.join(known) or 'none'}"
        " (or give the path of a .yaml file)"
    )


def load_scenario(path: Path) -> dict[str, object]:
    """Read a scenario file safely: a mapping with ``description`` and ``parameters``."""
    import yaml

    if not path.is_file():
        raise ParameterError(f"scenario {path}: file not found")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ParameterError(f"scenario {path}: not valid YAML ({error})") from None
    if not isinstance(content, dict):
        raise ParameterError(
            f"scenario {path}: expected a mapping with 'description' and 'parameters'"
        )
    unknown = sorted(set(content) - {"description", "parameters", "sources"})
    if unknown:
        raise ParameterError(
            f"scenario {path}: unknown key(s) {', '.join(unknown)}; allowed: "
            "description, parameters, sources"
        )
    values = content.get("parameters") or {}
    if not isinstance(values, dict):
        raise ParameterError(f"scenario {path}: 'parameters' must be a mapping of NAME: VALUE")
    return values


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
        path = scenario_path(root, scenario)
        label = path.stem
        values = {str(name): value for name, value in load_scenario(path).items()}
        try:
            _params.validate(values, project)
        except ParameterError as error:
            raise ParameterError(f"scenario {path}: {error}") from None
        requested.update(values)
    for text in sets:
        name, value = parse_assignment(text)
        requested[name] = value

    overrides = _params.validate(requested, project)
    # Cross-parameter checks see the whole set of values the run will use.
    _params.validate({**_params.defaults(project), **overrides}, project)
    taken = {name for nb in selected for name in nb.parameters}
    for name in overrides:
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


def tidy_executed(notebook: dict) -> dict:
    """Hide papermill's injected cell and drop run-specific metadata (timings, paths)."""
    notebook.get("metadata", {}).pop("papermill", None)
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
        if "injected-parameters" in meta.get("tags", []):
            _tag(cell, "remove-cell")
    return notebook


def _failure_message(name: str, error: Exception, kept: Path, root: Path) -> str:
    cell = getattr(error, "exec_count", None)
    ename = getattr(error, "ename", type(error).__name__)
    evalue = getattr(error, "evalue", str(error))
    where = f" in cell [{cell}]" if cell else ""
    return (
        f"notebook {name} failed{where}: {ename}: {evalue}\n"
        f"  the executed notebook is kept for inspection at {kept.relative_to(root)}"
    )


def execute_one(plan: Plan, notebook: SourceNotebook) -> Executed:
    import papermill

    root = plan.root
    work = root / "_build" / ".executing"
    work.mkdir(parents=True, exist_ok=True)
    scratch = work / f"{notebook.name}.ipynb"
    parameters = plan.parameters_for(notebook)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook.path),
            str(scratch),
            parameters=parameters,
            cwd=str(root),
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
        )
    except Exception as error:
        kept = root / "_build" / "failed" / f"{notebook.name}.ipynb"
        kept.parent.mkdir(parents=True, exist_ok=True)
        if scratch.exists():
            os.replace(scratch, kept)
        raise RunError(_failure_message(notebook.name, error, kept, root)) from None
    executed = tidy_executed(json.loads(scratch.read_text(encoding="utf-8")))
    target = root / "book" / f"{notebook.name}.ipynb"
    scratch.write_text(json.dumps(executed, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(scratch, target)
    return Executed(notebook.name, time.perf_counter() - started, parameters)


def execute(plan: Plan, *, jobs: int = 1, log: Log = print) -> list[Executed]:
    """Execute the planned notebooks, ``jobs`` at a time; the first failure stops the run."""
    total = len(plan.notebooks)
    for index, notebook in enumerate(plan.notebooks, start=1):
        shown = " ".join(f"{k}={v}" for k, v in plan.parameters_for(notebook).items())
        log(f"[{index}/{total}] {notebook.name}: queued" + (f" ({shown})" if shown else ""))
    done: list[Executed] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(execute_one, plan, nb): nb for nb in plan.notebooks}
        errors = []
        for future, notebook in futures.items():
            try:
                result = future.result()
            except RunError as error:
                errors.append(str(error))
                continue
            done.append(result)
            log(f"  {notebook.name}: executed in {result.seconds:.1f} s")
    if errors:
        raise RunError("\n".join(errors))
    return done


# --- building ------------------------------------------------------------------------------


def vendor_vega(root: Path) -> None:
    """Write the Vega libraries into ``_static`` so charts render with no other host.

    Altair's HTML output loads vega, vega-lite and vega-embed from a CDN unless
    ``window.VEGA_DEBUG`` names their versions; the bundle sets ``window.vega*``.
    """
    import altair as alt
    import vl_convert

    static = root / "_static"
    static.mkdir(exist_ok=True)
    versions = {
        "vega_version": alt.VEGA_VERSION,
        "vegalite_version": alt.VEGALITE_VERSION,
        "vegaembed_version": alt.VEGAEMBED_VERSION,
    }
    stamp = f"/* vega bundle for vega-lite {alt.VEGALITE_VERSION} (generated; do not edit) */\n"
    bundle = static / "vega-bundle.js"
    if not bundle.is_file() or not bundle.read_text(encoding="utf-8").startswith(stamp):
        major_minor = ".".join(alt.VEGALITE_VERSION.split(".")[:2])
        source = vl_convert.javascript_bundle(vl_version=f"v{major_minor}")
        _write_atomic(bundle, stamp + "(function () {\n" + source + "\n})();\n")
    config = (
        "/* Tells Altair's chart loader that the Vega libraries are already on the page "
        "(generated; do not edit). */\n"
        f"window.VEGA_DEBUG = {json.dumps(versions, sort_keys=True)};\n"
    )
    target = static / "vega-config.js"
    if not target.is_file() or target.read_text(encoding="utf-8") != config:
        _write_atomic(target, config)


def _write_atomic(path: Path, text: str) -> None:
    scratch = path.with_suffix(path.suffix + ".tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


def build(root: Path, *, log: Log = print) -> Path:
    """Build the site with warnings as errors into a staging folder, then publish it."""
    vendor_vega(root)
    staging = root / "_build" / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        "--all",
        "-W",
        "-n",
        "--keep-going",
        "--path-output",
        str(staging),
        str(root),
    ]
    log("building the site (jupyter-book, warnings are errors)")
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if completed.returncode != 0:
        report = root / "_build" / "build-errors.log"
        report.write_text(completed.stdout + completed.stderr, encoding="utf-8")
        output = re.sub(r"\x1b\[[0-9;]*m", "", completed.stdout + completed.stderr)
        problems = [
            line.strip()
            for line in output.splitlines()
            if "WARNING" in line or "ERROR" in line or "Error" in line
        ]
        raise RunError(
            "the book build failed; the previous site is untouched\n  "
            + "\n  ".join(problems[:15] or ["(no warning lines; see the log)"])
            + f"\n  full log: {report.relative_to(root)}"
        )
    published = root / "_build" / "html"
    old = root / "_build" / ".previous-html"
    shutil.rmtree(old, ignore_errors=True)
    if published.exists():
        os.replace(published, old)
    os.replace(staging / "_build" / "html", published)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    log(
        f"site built in {time.perf_counter() - started:.1f} s: {published.relative_to(root)}"
        "/index.html"
    )
    return published


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


def run(the_plan: Plan, *, jobs: int = 1, build_site: bool = True, log: Log = print) -> None:
    with exclusive(the_plan.root):
        execute(the_plan, jobs=jobs, log=log)
        if build_site:
            build(the_plan.root, log=log)
