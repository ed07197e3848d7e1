"""The site: the book's sources staged, built with warnings as errors, then published.

:func:`stage_book` gathers the book's own sources, before the notebooks run, and
:func:`stage_results` adds the new executed notebooks and what follows from them. A
:class:`Build`, started while the notebooks run, builds them once they are staged (:func:`build`
does both at once) in Sphinx's workspace (``_build/sphinx``): its sources, doctrees and output
are kept from one run to the next, so a run that changed two notebooks reads and writes two
pages (and those that paste numbers from them) instead of all of them. Such an
incremental build writes the same bytes as a build from scratch (tested); it is used only
when the workspace was last built, completely, from the same pages, configuration, notebook
sources, data and code, and a build that fails or is interrupted leaves it to be rebuilt from
scratch. :func:`publish` swaps the new site in with one rename, so a failed or interrupted run
leaves the previous site as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from gpufleet.build import booksite, downloads, provenance, results
from gpufleet.build.files import same_bytes, write_atomic
from gpufleet.errors import RunError
from gpufleet.model import data as _data

Log = Callable[[str], None]


def vega_bundle(cache: Path) -> tuple[Path, dict[str, str]]:
    """The Vega libraries as one script, for the versions Altair uses, and those versions;
    kept in ``cache`` for the installed Altair.

    Altair's HTML output loads vega, vega-lite and vega-embed from a CDN unless
    ``window.VEGA_DEBUG`` names their versions; the bundle sets ``window.vega*``. Making it
    takes vl-convert about a second, and importing Altair to learn the versions a few tenths:
    both are kept, under the installed Altair's version, for the next build.
    """
    from importlib.metadata import version

    kept, about = cache / "vega-bundle.js", cache / "vega-versions.json"
    installed = version("altair")
    with contextlib.suppress(OSError, ValueError, KeyError):
        record = json.loads(about.read_text(encoding="utf-8"))
        if record["altair"] == installed and kept.is_file():
            return kept, record["versions"]
    import altair as alt
    import vl_convert

    versions = {
        "vega_version": alt.VEGA_VERSION,
        "vegalite_version": alt.VEGALITE_VERSION,
        "vegaembed_version": alt.VEGAEMBED_VERSION,
    }
    stamp = f"/* vega bundle for vega-lite {alt.VEGALITE_VERSION} (generated; do not edit) */\n"
    major_minor = ".".join(alt.VEGALITE_VERSION.split(".")[:2])
    source = vl_convert.javascript_bundle(vl_version=f"v{major_minor}")
    write_atomic(kept, stamp + "(function () {\n" + source + "\n})();\n")
    write_atomic(about, json.dumps({"altair": installed, "versions": versions}, sort_keys=True))
    return kept, versions


def vendor_vega(static: Path, cache: Path) -> None:
    """Put the Vega libraries (:func:`vega_bundle`) in a ``_static`` folder, with the setting
    that tells Altair's charts they are there, so charts render with no other host."""
    static.mkdir(parents=True, exist_ok=True)
    bundle, versions = vega_bundle(cache)
    shutil.copy2(bundle, static / "vega-bundle.js")
    config = (
        "/* Tells Altair's chart loader that the Vega libraries are already on the page "
        "(generated; do not edit). */\n"
        f"window.VEGA_DEBUG = {json.dumps(versions, sort_keys=True)};\n"
    )
    write_atomic(static / "vega-config.js", config)


#: The book's sources besides the executed notebooks.
BOOK_SOURCES = ("_config.yml", "_toc.yml", "book", "_static", "_extra")

#: Names the repository the site is built from; the Pages workflow sets it.
REPOSITORY_VARIABLE = "GPUFLEET_REPOSITORY_URL"


def repository_url(root: Path) -> str | None:
    """The web address of the repository the site is built from, linked from every page.

    It is ``$GPUFLEET_REPOSITORY_URL`` if set (the publishing workflow sets it to the
    repository it runs in), else git's ``origin`` remote if that is a web or GitHub SSH
    address. A copy outside git, or cloned from a folder, gets no link.
    """
    given = os.environ.get(REPOSITORY_VARIABLE, "").strip()
    url = given
    if not url:
        try:
            url = subprocess.run(
                ["git", "-C", str(root), "remote", "get-url", "origin"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    if ssh := re.fullmatch(r"git@([\w.-]+):([\w./-]+)", url):
        url = f"https://{ssh[1]}/{ssh[2]}"
    url = url.removesuffix("/").removesuffix(".git")
    if re.fullmatch(r"https://[\w.-]+(/[\w.-]+)+", url):
        return url
    if given:
        raise RunError(
            f"{REPOSITORY_VARIABLE}={given!r} is not a repository's web address "
            "(expected https://host/owner/name)"
        )
    return None


def _link_repository(config: Path, url: str) -> None:
    """Point the staged configuration at the repository: a link in every page's header, and
    on GitHub a button to open an issue about the page."""
    import yaml

    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["repository"] = {"url": url, "branch": "main"}
    html = settings.setdefault("html", {})
    html["use_repository_button"] = True
    html["use_issues_button"] = url.startswith("https://github.com/")
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")


#: The file that says what the report is, who made it and which version it is.
CITATION = "CITATION.cff"


def edition(root: Path) -> dict[str, str]:
    """The report's authors, version and date, and how to cite it, from CITATION.cff."""
    import yaml

    try:
        cff = yaml.safe_load((root / CITATION).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RunError(f"{CITATION}: cannot read it ({error})") from None
    authors = ", ".join(
        a.get("name") or " ".join(filter(None, (a.get("given-names"), a.get("family-names"))))
        for a in cff.get("authors", [])
    )
    version, released = str(cff.get("version", "")), str(cff.get("date-released", ""))
    year = released[:4]
    return {
        "footer": f"Version {version} of the report, released {released}.",
        "cite": f"{authors} ({year}). *{cff.get('title', '')}*, version {version}.",
    }


def _stamp_edition(config: Path, stamp: dict[str, str], repository: str | None) -> None:
    """Put the edition in the staged configuration: a footer line on every page, and the
    citation the introduction shows (the ``cite_line`` substitution)."""
    import yaml

    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings.setdefault("html", {})["extra_footer"] = f"<p>{stamp['footer']}</p>"
    cite = stamp["cite"] + (f" {repository}" if repository else "")
    settings.setdefault("parse", {}).setdefault("myst_substitutions", {})["cite_line"] = cite
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")


#: The line of the introduction the runner replaces with what its numbers were computed with.
ASSUMPTIONS_MARKER = "% gpufleet: the assumptions behind these numbers"

#: Every headline number in one file, linked from the introduction.
HEADLINES_DOWNLOAD = "book/results/headlines.csv"


def _say_assumptions(
    root: Path,
    source: Path,
    left_behind: Mapping[str, list[provenance.Difference]],
    project: _data.ProjectData,
    found: Mapping[str, results.NotebookResults],
) -> None:
    """Say what the ``found`` chapters were computed with: at the top of every chapter that
    departs from the defaults (or that a mixed run left behind), and in the introduction."""
    for name, chapter in found.items():
        note = provenance.page_note(
            chapter.assumptions, project, left_behind=left_behind.get(name, ())
        )
        if note is not None:
            path = source / "book" / f"{name}.ipynb"
            notebook = json.loads(path.read_text(encoding="utf-8"))
            cell = {"cell_type": "markdown", "id": f"{name}-assumptions", "metadata": {}}
            notebook["cells"].insert(1, {**cell, "source": note})  # below the title
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", "utf-8")
    intro = source / "book" / "intro.md"
    if intro.is_file():
        sentence = provenance.intro_text(
            results.records(found), results.takes(root), project, mixed=bool(left_behind)
        )
        text = intro.read_text(encoding="utf-8")
        intro.write_text(text.replace(ASSUMPTIONS_MARKER, sentence), encoding="utf-8")
    (source / HEADLINES_DOWNLOAD).parent.mkdir(parents=True, exist_ok=True)
    (source / HEADLINES_DOWNLOAD).write_text(results.csv_text(root, found), encoding="utf-8")


def stage_book(root: Path, source: Path, *, repository: str | None = None) -> Path:
    """A fresh copy of the book's own sources in ``source``, linking ``repository`` if given:
    all but what the notebooks compute (:func:`stage_results`), so the runner stages it before
    they run."""
    shutil.rmtree(source, ignore_errors=True)
    for name in BOOK_SOURCES:
        origin = root / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns(".*", "*.js.tmp"))
        elif origin.is_file():
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    if repository:
        _link_repository(source / "_config.yml", repository)
    _stamp_edition(source / "_config.yml", edition(root), repository)
    return source


def stage_results(
    root: Path,
    source: Path,
    executed: Path,
    *,
    left_behind: Mapping[str, list[provenance.Difference]] | None = None,
) -> Path:
    """Add to the book staged in ``source`` (:func:`stage_book`) the new executed notebooks,
    the downloads and what the numbers were computed with; a :class:`Build` then copies what
    changed into Sphinx's workspace.

    ``left_behind`` names the chapters a mixed run (``--allow-mixed``) left on other
    assumptions, with why; their pages say so."""
    for notebook in executed.glob("*.ipynb"):
        shutil.copy2(notebook, source / "book" / notebook.name)
    project = _data.load(root)
    found = results.chapters(root, source / "book")
    for name, content in downloads.files(found, project).items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(content)
    _say_assumptions(root, source, left_behind or {}, project, found)
    return source


def sync_tree(source: Path, target: Path) -> list[str]:
    """Make ``target`` hold the files of ``source``; returns the paths written or removed.

    A file whose bytes are already there is left alone, so the modification times in
    ``target`` tell Sphinx which pages changed.
    """
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    changed = []
    if target.is_dir():
        for path in sorted(target.rglob("*"), reverse=True):  # children before their folder
            relative = path.relative_to(target)
            if path.is_file() and relative not in wanted:
                path.unlink()
                changed.append(str(relative))
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    for relative in sorted(wanted):
        origin, copy = source / relative, target / relative
        if not same_bytes(origin, copy):
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, copy)
            changed.append(str(relative))
    return changed


def vega_cache(build_dir: Path) -> Path:
    """Where the Vega bundle is kept: in the Python environment, since it depends on nothing
    but the Altair installed there (every checkout and copy using the environment shares it,
    as they share its compiled modules); in ``build_dir`` where the environment is read-only."""
    shared = Path(sys.prefix) / "share" / "gpufleet" / "vega"
    try:
        shared.mkdir(parents=True, exist_ok=True)
    except OSError:
        return build_dir / "vega"
    return shared if os.access(shared, os.W_OK) else build_dir / "vega"


#: In Sphinx's workspace, the key of the sources it was last built from, written on success.
BUILT_FROM = "built-from"


class BuildCancelled(Exception):
    """The run stopped before its pages were staged: the build it started stops too."""


class Build:
    """Building the site in ``workspace``, in a thread started while the notebooks run.

    Sphinx spends about a fifth of a small build setting itself up (its configuration and
    extensions, the last build's environment) before it looks at a page. A build starts with
    Sphinx's imports (:func:`booksite.warm`) and the Vega bundle. When it is incremental, it
    then sets Sphinx up on the sources the last build left, as soon as :meth:`set_up` says a
    processor is free (the notebooks still running need fewer than there are): nothing Sphinx
    reads then can differ from this run's sources, since they are what ``key`` digests. It waits
    there for :meth:`finish`, which gives it the staged sources; it copies what changed into
    the workspace and builds. A build from scratch waits for them before setting Sphinx up.
    :meth:`cancel` stops it, leaving the workspace as the last build left it.

    The build is incremental when ``workspace`` was last built successfully with the same
    ``key`` (what the pages' structure depends on: everything but the executed notebooks), and
    from scratch otherwise or with ``from_scratch``.
    """

    def __init__(
        self, workspace: Path, *, key: str, from_scratch: bool = False, log: Log = print
    ) -> None:
        self.workspace = workspace
        self.key = key
        self.log = log
        stamp = workspace / BUILT_FROM
        self.incremental = (
            not from_scratch and stamp.is_file() and stamp.read_text(encoding="utf-8") == key
        )
        self._source: Path | None = None
        self._may_set_up = threading.Event()  # a processor is free
        self._given = threading.Event()  # finish() or cancel() was called
        self._staged = threading.Event()  # the sources are in the workspace (or never will be)
        self._changed_pages = 0
        self._outcome: tuple[bool, str] | BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gpufleet-build", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            booksite.warm()
            vega_bundle(vega_cache(self.workspace.parent))
            if self.incremental:
                self._may_set_up.wait()
                if self._given.is_set() and self._source is None:
                    raise BuildCancelled
            else:
                self._stage()
            self._outcome = booksite.build(
                self.workspace / "src",
                self.workspace / "out",
                all_pages=not self.incremental,
                before_reading=self._stage if self.incremental else None,
            )
        except BaseException as error:  # noqa: BLE001 - given to the thread that waits
            self._outcome = error
        finally:
            self._staged.set()

    def _stage(self) -> None:
        """In the build's thread: wait for the staged sources, then copy what changed in."""
        try:
            self._given.wait()
            if self._source is None:
                raise BuildCancelled
            vendor_vega(self._source / "_static", vega_cache(self.workspace.parent))
            stamp = self.workspace / BUILT_FROM
            if self.incremental:
                stamp.unlink()  # until this build succeeds, the workspace is not to be trusted
            else:
                shutil.rmtree(self.workspace, ignore_errors=True)
            changed = sync_tree(self._source, self.workspace / "src")
            self._changed_pages = sum(name.endswith((".ipynb", ".md")) for name in changed)
        finally:
            self._staged.set()

    def set_up(self) -> None:
        """Let the build set Sphinx up now: a processor is free for it."""
        self._may_set_up.set()

    def finish(self, source: Path) -> Path:
        """Build the staged ``source``; returns the html folder (:class:`RunError` if the build
        fails: the workspace is then built from scratch next time)."""
        self._source = source
        self._given.set()
        self._may_set_up.set()
        self._staged.wait()
        self.log(
            f"building the site, {self._changed_pages} changed page(s) (warnings are errors)"
            if self.incremental
            else "building the site from scratch (warnings are errors)"
        )
        started = time.perf_counter()
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        succeeded, output = self._outcome
        if not succeeded:
            raise _failed(self.workspace, output)
        write_atomic(self.workspace / BUILT_FROM, self.key)
        self.log(f"  built in {time.perf_counter() - started:.1f} s")
        return self.workspace / "out" / "_build" / "html"

    def cancel(self) -> None:
        """Stop the build before it reads a page, and wait for its thread."""
        self._given.set()
        self._may_set_up.set()
        self._thread.join()


def build(
    source: Path, workspace: Path, *, key: str, from_scratch: bool = False, log: Log = print
) -> Path:
    """Build ``source`` in ``workspace`` with warnings as errors, now (:class:`Build`)."""
    return Build(workspace, key=key, from_scratch=from_scratch, log=log).finish(source)


def _failed(workspace: Path, output: str) -> RunError:
    """The warnings and errors of a failed build, with where its whole log is kept."""
    report = workspace.parent / "build-errors.log"  # _build/, beside the site
    report.write_text(output, encoding="utf-8")
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)
    problems = [
        line.strip().replace(str(workspace / "src") + os.sep, "")
        for line in output.splitlines()
        if "WARNING" in line or "ERROR" in line or "Error" in line
    ]
    return RunError(
        "the book build failed; the previous site is untouched\n  "
        + "\n  ".join(problems[:15] or ["(no warning lines; see the log)"])
        + f"\n  full log: {report.relative_to(report.parent.parent)}"
    )


def _copy_sharing(source: Path, target: Path, previous: Path) -> None:
    """Copy the folder ``source`` to ``target``, hard-linking the files ``previous`` has too.

    A file of ``previous`` with the same bytes is linked rather than copied: most of a site
    (the theme, the Vega libraries, the pages no notebook changed) is the same from one run to
    the next. Sharing is safe because a published site is only ever replaced, never written
    into.
    """

    def copy(origin: str, copy: str) -> str:
        earlier = previous / Path(origin).relative_to(source)
        if same_bytes(Path(origin), earlier):
            try:
                os.link(earlier, copy)
                return copy
            except OSError:  # a file system without hard links: copy instead
                pass
        return shutil.copy2(origin, copy)

    shutil.copytree(source, target, copy_function=copy)


def publish(root: Path, html: Path | None, executed: Path) -> None:
    """Swap in a copy of the new site with one rename, then the executed notebooks."""
    if html is not None:
        published = root / "_build" / "html"
        fresh = root / "_build" / ".html-new"
        old = root / "_build" / ".html-old"
        for leftover in (fresh, old):
            shutil.rmtree(leftover, ignore_errors=True)
        _copy_sharing(html, fresh, published)
        if published.exists():
            os.replace(published, old)
        os.replace(fresh, published)
        shutil.rmtree(old, ignore_errors=True)
    for notebook in executed.glob("*.ipynb"):
        os.replace(notebook, root / "book" / notebook.name)
