"""The site: the book's sources staged, built with warnings as errors, then published.

Every build starts from a fresh copy of the sources with the new executed notebooks in it
(:func:`stage_sources`); :func:`publish` swaps the new site in with one rename, so a failed or
interrupted run leaves the previous site as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from gpufleet import booksite, downloads
from gpufleet import data as _data
from gpufleet.errors import RunError
from gpufleet.files import write_atomic

Log = Callable[[str], None]


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
        write_atomic(kept, stamp + "(function () {\n" + source + "\n})();\n")
    shutil.copy2(kept, static / "vega-bundle.js")
    config = (
        "/* Tells Altair's chart loader that the Vega libraries are already on the page "
        "(generated; do not edit). */\n"
        f"window.VEGA_DEBUG = {json.dumps(versions, sort_keys=True)};\n"
    )
    write_atomic(static / "vega-config.js", config)


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
