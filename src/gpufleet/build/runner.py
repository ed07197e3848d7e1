"""Running the report: plan, execute what changed, build, publish; all or nothing.

:func:`run` holds the run's lock (one run at a time per checkout), decides from content
fingerprints which notebooks must run again (:class:`Cache`), executes them
(:mod:`gpufleet.build.execution`), builds the site in a staging folder and publishes it
(:mod:`gpufleet.build.site`). Bad input never gets this far:
:func:`gpufleet.build.planning.plan` refuses it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gpufleet.book.notebooks import SourceNotebook
from gpufleet.build import provenance
from gpufleet.build.execution import execute
from gpufleet.build.files import write_atomic
from gpufleet.build.forks import Forks
from gpufleet.build.planning import Plan, plan
from gpufleet.build.provenance import Assumptions, Difference
from gpufleet.build.site import Build, publish, repository_url, stage_book, stage_results
from gpufleet.errors import InputError, RunError
from gpufleet.model import data as _data

__all__ = ["Cache", "MixedRunError", "Outcome", "Plan", "RunError", "exclusive", "plan", "run"]

Log = Callable[[str], None]


def _package_code(root: Path, *, notebooks_only: bool) -> list[Path]:
    """The package's code that shapes the site.

    With ``notebooks_only``, what notebooks import (the model, the book's helpers, the leaf
    modules): a change there re-runs every notebook. Otherwise the build layer too (the
    Sphinx extension renders every page): a change there rebuilds the site but re-runs no
    notebook. The command line shapes neither.
    """
    package = root / "src" / "gpufleet"
    left_out = {"cli.py", "build"} if notebooks_only else {"cli.py"}
    return [
        path
        for path in sorted(package.rglob("*.py"))
        if path.relative_to(package).parts[0] not in left_out
    ]


def _inputs_digest(root: Path) -> str:
    """A digest of what every notebook depends on beside itself and its parameters."""
    paths = [
        *sorted((root / "data").rglob("*.csv")),
        *sorted((root / "data").rglob("*.yaml")),
        root / "book" / "references.bib",
        *_package_code(root, notebooks_only=True),
        root / "requirements.lock",
    ]
    return _digest_files(hashlib.sha256(), root, paths)


def _digest_files(digest, root: Path, paths: list[Path]) -> str:
    """Fold each existing file's name and bytes into ``digest``."""
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(notebook: SourceNotebook, assumptions: Assumptions) -> str:
    """What a notebook's executed copy depends on: its source and what it is computed with
    (its parameters, the scenario it records, the digest of the data and code)."""
    digest = hashlib.sha256(json.dumps(assumptions.to_json(), sort_keys=True).encode())
    digest.update(notebook.path.read_bytes())
    return digest.hexdigest()


def _pages(root: Path) -> list[Path]:
    """The book's own files: configuration, pages, static files."""
    return [
        root / "_config.yml",
        root / "_toc.yml",
        root / "CITATION.cff",
        *sorted((root / "book").glob("*.md")),
        *sorted((root / "_static").glob("*")),
        *sorted((root / "_extra").glob("*")),
    ]


def _site_digest(
    root: Path,
    fingerprints: Mapping[str, str],
    repository: str | None,
    left_behind: Mapping[str, list[Difference]],
) -> str:
    """What the built site depends on: the pages, the configuration, the repository it links,
    every notebook's run and the chapters a mixed run left behind."""
    seed = hashlib.sha256(
        json.dumps([fingerprints, repository, left_behind], sort_keys=True).encode()
    )
    return _digest_files(seed, root, [*_pages(root), *_package_code(root, notebooks_only=False)])


def _structure_digest(root: Path, inputs: str, repository: str | None) -> str:
    """What the site depends on beside the notebooks' parameters: if it changed since the last
    build, the next one starts from scratch (Sphinx would not see, say, a renamed chapter in
    the other pages' menus)."""
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    seed = hashlib.sha256(json.dumps([inputs, repository]).encode())
    code = _package_code(root, notebooks_only=False)  # the Sphinx extension renders pages
    return _digest_files(seed, root, [*_pages(root), *notebooks, *code])


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
        write_atomic(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n")


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


class MixedRunError(InputError):
    """A run that would leave chapters on other assumptions than its own, without
    ``--allow-mixed``."""


def left_behind(the_plan: Plan, inputs: str) -> dict[str, list[Difference]]:
    """The chapters ``--only`` leaves out whose numbers would not be this run's, with why.

    Every run starts from the defaults, so a chapter last computed with other values (or other
    data or code) than this run would give it is left behind.
    """
    project = _data.load(the_plan.root)
    found = {}
    for notebook in the_plan.others:
        executed = the_plan.root / "book" / f"{notebook.name}.ipynb"
        try:
            before = provenance.read(json.loads(executed.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            before = None
        wanted = the_plan.assumptions_for(notebook, inputs)
        why = provenance.differences(before, wanted, notebook.parameters, project)
        if why:
            found[notebook.name] = why
    return found


def _refuse_mixed(the_plan: Plan, behind: Mapping[str, list[Difference]]) -> None:
    only = " ".join(
        f"--only {nb.name}" for nb in the_plan.notebooks if nb.name not in the_plan.never_run
    )
    grouped: dict[str, list[str]] = {}  # chapters left behind for the same reasons, together
    for name, found in behind.items():
        grouped.setdefault(provenance.for_terminal(found), []).append(name)
    chapters = "\n".join(
        textwrap.fill(
            f"{', '.join(names)}: {why}", 100, initial_indent="  ", subsequent_indent="    "
        )
        for why, names in grouped.items()
    )
    raise MixedRunError(
        f"{only} would leave other chapters computed with other assumptions than this run's:\n"
        f"{chapters}\n"
        "Every run starts from the defaults. Run without --only to bring these chapters along "
        "(only those whose inputs changed run again), or add --allow-mixed to publish a mixed "
        "site that says so on each affected page."
    )


class _Clock:
    """Wall-clock laps: each :meth:`lap` names the time since the previous one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self._last = now


@dataclass
class Outcome:
    executed: list[str]
    skipped: list[str]
    built: bool
    left_behind: dict[str, list[Difference]] = field(default_factory=dict)
    #: Where the run's time went, in seconds: planning, kernel start, notebooks, build, publish.
    seconds: dict[str, float] = field(default_factory=dict)


def run(
    the_plan: Plan,
    *,
    jobs: int = 1,
    build_site: bool = True,
    force: bool = False,
    allow_mixed: bool = False,
    log: Log = print,
    worker: Forks | None = None,
) -> Outcome:
    """Execute what changed, build into a staging folder, then publish; all or nothing.

    A run that ``--only`` would leave with chapters on other assumptions is refused before
    anything runs (:class:`MixedRunError`), unless ``allow_mixed``: then the site says so on
    every page left behind and in the introduction. ``worker``: the notebooks' worker, if
    the command started it already (:mod:`gpufleet.build.notebook_worker`).
    """
    root = the_plan.root
    clock = _Clock()
    with exclusive(root):
        cache = Cache(root)
        repository = repository_url(root) if build_site else None
        inputs = _inputs_digest(root)
        behind = left_behind(the_plan, inputs)
        if behind and not allow_mixed:
            _refuse_mixed(the_plan, behind)
        prints = {
            nb.name: fingerprint(nb, the_plan.assumptions_for(nb, inputs))
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
        stage = root / "_build" / ".stage"
        shutil.rmtree(stage, ignore_errors=True)
        executed_dir = stage / "executed"
        executed_dir.mkdir(parents=True)
        building: list[Build] = []

        def start_building() -> None:  # while the notebooks run
            building.append(
                Build(
                    root / "_build" / "sphinx",
                    key=_structure_digest(root, inputs, repository),
                    from_scratch=force,
                    log=log,
                )
            )

        all_prints = {**cache.data["notebooks"], **{nb.name: prints[nb.name] for nb in stale}}
        site = _site_digest(root, all_prints, repository, behind) if build_site else None
        rebuild = build_site and (
            bool(stale)
            or force
            or cache.data.get("site") != site
            or not (root / "_build" / "html").is_dir()
        )

        def set_up_building() -> None:  # a processor is free
            for started in building:
                started.set_up()

        try:
            if rebuild:  # the book's own sources, while the worker imports
                stage_book(root, stage / "src", repository=repository)
            clock.lap("planning")
            timings: dict[str, float] = {}
            done = execute(
                the_plan,
                stale,
                executed_dir,
                inputs=inputs,
                jobs=jobs,
                log=log,
                timings=timings,
                worker=worker,
                started=start_building if rebuild else None,
                idle=set_up_building,
            )
            clock.lap("notebooks")
            html = None
            if rebuild:
                source = stage_results(root, stage / "src", executed_dir, left_behind=behind)
                if not building:
                    start_building()
                html = building.pop().finish(source)
            elif build_site:
                log("nothing changed: the site is up to date")
            clock.lap("build")
            publish(root, html, executed_dir)
            cache.save(
                {nb.name: prints[nb.name] for nb in stale}, site if html is not None else None
            )
        finally:
            for unfinished in building:  # the run stopped before its pages were staged
                unfinished.cancel()
            shutil.rmtree(stage, ignore_errors=True)
        clock.lap("publish")
        if "workers ready" in timings:  # within the notebooks' time
            clock.seconds["workers ready"] = timings["workers ready"]
            clock.seconds["notebooks"] -= timings["workers ready"]
        if behind:
            log(f"mixed site: {', '.join(behind)} keep other assumptions (--allow-mixed)")
        if html is not None:
            log("site published: _build/html/index.html")
        return Outcome([r.name for r in done], skipped, html is not None, behind, clock.seconds)
