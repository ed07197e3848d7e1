"""Building the book in this process, with Sphinx's imports done while the notebooks run.

``jupyter-book build`` spends most of a small build importing Sphinx, the theme and their
extensions (about two seconds here). The runner calls :func:`preload` in a background thread
when a run starts, while the notebooks execute in their kernels, then :func:`build` runs
Jupyter Book's own build command in this process once they are done. The result is the same
build as ``jupyter-book build -W -n --keep-going``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import threading
from pathlib import Path

#: The modules a build imports, heaviest first.
HEAVY_MODULES = (
    "jupyter_book.cli.main",
    "jupyter_book.sphinx",
    "sphinx.application",
    "myst_nb.sphinx_ext",
    "myst_parser.sphinx_ext.main",
    "sphinx_book_theme",
    "pydata_sphinx_theme",
    "sphinxcontrib.bibtex",
    "sphinx_design",
    "sphinx_togglebutton",
    "sphinx_copybutton",
    "sphinx_thebe",
    "sphinx_comments",
    "sphinx_external_toc",
    "sphinx_multitoc_numbering",
    "sphinx_jupyterbook_latex",
    "altair",
    "vl_convert",
)


def preload() -> threading.Thread:
    """Import the build's modules in a background thread; join it before building."""

    def work() -> None:
        for name in HEAVY_MODULES:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)

    thread = threading.Thread(target=work, name="gpufleet-preload", daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def _fewer_collections():
    """Fewer passes of the garbage collector while Sphinx builds.

    A build allocates millions of small objects that live until it ends; the collector's
    passes over them, and over every imported module's objects, find nothing to free and
    took about a tenth of the build.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def build(source: Path, out: Path, *, all_pages: bool) -> tuple[bool, str]:
    """Build ``source`` into ``out/_build/html`` with warnings as errors; (succeeded, log)."""
    from jupyter_book.cli.main import build as jupyter_book_build

    log = io.StringIO()
    succeeded = False
    with _fewer_collections(), contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            jupyter_book_build.callback(
                path_source=str(source),
                path_output=str(out),
                config=None,
                toc=None,
                warningiserror=True,
                nitpick=True,
                keep_going=True,
                freshenv=all_pages,
                builder="html",
                custom_builder=None,
                verbose=0,
                quiet=0,
                individualpages=False,
            )
            succeeded = True
        except SystemExit as stop:
            succeeded = stop.code in (0, None)
        except Exception as error:  # Jupyter Book raises RuntimeError for a failed build
            print(f"{type(error).__name__}: {error}")
    return succeeded, log.getvalue()
