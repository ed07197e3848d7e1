"""Building the book in this process, in a thread started while the notebooks run.

``jupyter-book build`` spends most of a small build importing Sphinx, the theme and their
extensions (about two seconds here), and then setting Sphinx up. The runner's build thread
(:class:`gpufleet.build.site.Build`) calls :func:`warm` as the notebooks start executing in
other processes, then :func:`build`, which runs Jupyter Book's own build command and can wait,
once Sphinx is set up, for the notebooks' pages. The result is the same build as
``jupyter-book build -W -n --keep-going``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import sys
import threading
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from gpufleet.build import forks

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
    "bs4",
    "soupsieve",
)

#: The code languages the site shows (the chapters' code, the commands of the re-running
#: page): Pygments compiles a lexer's regular expressions the first time it is made.
LEXERS = ("ipython3", "console")


#: myst-nb's clients that execute notebooks, by module, with what each module imports. The
#: runner executes the notebooks and the build never does (``execute_notebooks: "off"``), yet
#: myst-nb imports all three with its Sphinx extension: about 0.3 s of a build's imports.
EXECUTION_CLIENTS = {
    "myst_nb.core.execute.cache": "NotebookClientCache",  # jupyter-cache, SQLAlchemy
    "myst_nb.core.execute.direct": "NotebookClientDirect",  # jupyter-cache
    "myst_nb.core.execute.inline": "NotebookClientInline",  # nbclient, jupyter_client
}


def defer_execution_clients() -> None:
    """Stand in for myst-nb's execution clients (:data:`EXECUTION_CLIENTS`) until one is made.

    Each stand-in module holds a function in place of the client's class; calling it imports
    the real module, which replaces the stand-in, and makes the real client. A build with
    execution off never calls it. Nothing is done once myst-nb has imported them.
    """
    if "myst_nb.core.execute" in sys.modules:
        return
    for module, client in EXECUTION_CLIENTS.items():
        stand_in = types.ModuleType(module, f"Stands in for myst-nb's {client} until it is made.")
        setattr(stand_in, client, _deferred(module, client))
        sys.modules[module] = stand_in


def _deferred(module: str, client: str) -> Callable[..., object]:
    def make(*args: object, **kwargs: object) -> object:
        sys.modules.pop(module, None)
        return getattr(importlib.import_module(module), client)(*args, **kwargs)

    make.__name__ = make.__qualname__ = client
    return make


def warm() -> None:
    """Import the build's modules and make its lexers (in the build's thread, while the
    notebooks run: see :class:`gpufleet.build.site.Build`)."""
    defer_execution_clients()
    with forks.importing():
        for name in HEAVY_MODULES:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        # Sphinx loads its own extensions (builders, domains, transforms) when an app is made.
        with contextlib.suppress(ImportError):
            from sphinx import application

            for name in (*application.builtin_extensions, *application._first_party_extensions):
                with contextlib.suppress(ImportError):
                    importlib.import_module(name)
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    for language in LEXERS:
        with contextlib.suppress(ClassNotFound):
            get_lexer_by_name(language)
    # The theme selects parts of each page's HTML with CSS selectors (bs4, soupsieve): the
    # first selector compiled compiles soupsieve's own parser, about 0.15 s; any will do.
    with contextlib.suppress(ImportError):
        import soupsieve

        soupsieve.compile("nav a.reference")


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


class _ThreadOutput(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` while a build runs: what the building thread writes
    goes to the build's log, what the others write (the runner's progress, while the notebooks
    run) goes where it went before."""

    def __init__(self, log: io.StringIO, others: TextIO) -> None:
        self.log = log
        self.others = others
        self.thread = threading.current_thread()

    def _target(self) -> TextIO:
        return self.log if threading.current_thread() is self.thread else self.others

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return self._target().isatty()

    @property
    def encoding(self) -> str:
        return "utf-8"


@contextlib.contextmanager
def _output_to(log: io.StringIO) -> Iterator[None]:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ThreadOutput(log, out), _ThreadOutput(log, err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def build(
    source: Path,
    out: Path,
    *,
    all_pages: bool,
    before_reading: Callable[[], None] | None = None,
) -> tuple[bool, str]:
    """Build ``source`` into ``out/_build/html`` with warnings as errors; (succeeded, log).

    ``before_reading``, if given, is called once Sphinx has set itself up (its configuration,
    its extensions and the last build's environment) and before it looks at the pages: the
    runner sets Sphinx up while the notebooks run, and puts their pages in ``source`` then
    (:class:`gpufleet.build.site.Build`). What it raises stops the build. Sphinx's output goes
    to the log, whichever thread builds; the other threads' output goes where it went.
    """
    defer_execution_clients()
    from jupyter_book.cli.main import build as jupyter_book_build

    from gpufleet.build import sphinx_ext

    log = io.StringIO()
    succeeded = False
    with _fewer_collections(), _output_to(log), sphinx_ext.before_reading(before_reading):
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
