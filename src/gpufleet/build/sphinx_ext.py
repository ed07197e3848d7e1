"""A Sphinx extension for this book: faster builds, and incremental builds equal to full ones.

The runner rebuilds only the pages whose executed notebook changed (see
:mod:`gpufleet.build.site`). Sphinx and its extensions need four things for such a build to write
the same bytes as a build from scratch:

- **Cross-page glue.** A page that pastes a number from another notebook
  (``{glue:text}`costs.ipynb::key```) depends on that notebook, which Sphinx does not know; it
  is told here, so the page is read again when the notebook changes.
- **myst-nb's stylesheet** is copied into the output only when a build finishes, so a page
  written before that links it without the ``?v=`` checksum Sphinx adds to files that exist.
  It is copied here as the build starts, so every page links it the same way.
- **Sphinx's default ``templates_path``** is one list shared by every build in a process and
  the themes append to it; each build gets a fresh one, so a second build in the same process
  has the same configuration (and so the same ``.buildinfo``) as the first.
- **The search index** of an incremental build is the previous one with the re-read pages
  taken out and put back; a word that was only on the old version of a page stays in it with
  an empty list of pages. Those entries are dropped when the build finishes.

And four speed-ups. pybtex (behind sphinxcontrib-bibtex) looks up its style plugins through
``importlib.metadata.entry_points`` on every citation it resolves, and each lookup scans every
installed distribution; the installed entry points do not change during a process, so the
lookup is cached. Three pure functions' results are kept beside the doctrees from one build to
the next, for the installed versions of what works them out (:class:`_Kept`):

- the entries of the bibliography as pybtex's style formats them: sphinxcontrib-bibtex formats
  every cited entry on every build, even one that reads one page again (about a tenth of it);
- the text latexcodec makes of the entries' LaTeX, most of that formatting's time where no
  entry is kept yet (about a thousand strings, a third of them distinct, half a second here);
- the HTML Pygments makes of each code block (a page's code does not change when its numbers
  do; about a tenth of an incremental build).

The theme's Jinja templates are compiled once and kept beside the doctrees (Jinja's own
bytecode cache, which checks each template's source), not on every build.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def _cached_entry_points(original):
    @functools.cache
    def lookup(group: str, name: str) -> tuple:
        return tuple(original(group=group, name=name))

    def entry_points(*, group: str, name: str) -> tuple:
        return lookup(group, name)

    return entry_points


class _Kept:
    """What a pure function of a text gave, kept from one build to the next.

    Kept beside the doctrees, in a file named by the versions of the packages that work it out
    (a file written by other versions is never read), and written only when a build succeeds.
    Texts are kept as JSON; with ``objects``, anything that pickles, given back as a fresh copy
    each time (pickled, as Sphinx keeps its environment).
    """

    def __init__(self, stem: str, packages: tuple[str, ...], *, objects: bool = False) -> None:
        self.stem = stem
        self.packages = packages
        self.objects = objects
        self.kept: dict[str, object] = {}
        self.path: Path | None = None
        self.dirty = False

    def get(self, key: str) -> Any:
        found = self.kept.get(key)
        return pickle.loads(found) if self.objects and found is not None else found

    def put(self, key: str, value: Any) -> Any:
        self.kept[key] = pickle.dumps(value) if self.objects else value
        self.dirty = True
        return value

    def load(self, folder: Path) -> None:
        from importlib.metadata import version

        versions = "-".join(version(package) for package in self.packages)
        path = folder / f"{self.stem}-{versions}.{'pickle' if self.objects else 'json'}"
        if path != self.path:
            self.path = path
            try:
                self.kept.update(
                    pickle.loads(path.read_bytes())
                    if self.objects
                    else json.loads(path.read_text(encoding="utf-8"))
                )
            except (OSError, ValueError, pickle.UnpicklingError, EOFError):
                pass

    def save(self) -> None:
        if self.dirty and self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            scratch = self.path.with_suffix(".tmp")
            if self.objects:
                scratch.write_bytes(pickle.dumps(self.kept))
            else:
                scratch.write_text(json.dumps(self.kept, sort_keys=True), encoding="utf-8")
            os.replace(scratch, self.path)
            self.dirty = False


#: LaTeX decoded to text by latexcodec.
_LATEX = _Kept("latex-decoded", ("latexcodec",))

#: Code blocks highlighted as HTML by Pygments, through Sphinx.
_HIGHLIGHTED = _Kept("highlighted", ("pygments", "sphinx"))

#: Bibliography entries formatted by pybtex's styles, for sphinxcontrib-bibtex.
_FORMATTED = _Kept("formatted-entries", ("pybtex", "sphinxcontrib-bibtex"), objects=True)

_KEPT = (_LATEX, _HIGHLIGHTED, _FORMATTED)


def _entry_key(style, label: str, entry) -> str:
    """Everything a pybtex style's formatting of ``entry`` depends on."""
    parts = (style.name_style, style.label_style, style.sorting_style)
    return repr(
        (
            f"{type(style).__module__}.{type(style).__qualname__}",
            [f"{type(part).__module__}.{type(part).__qualname__}" for part in parts],
            style.abbreviate_names,
            style.min_crossrefs,
            label,
            entry.type,
            entry.key,
            sorted(entry.fields.items()),
            [(role, [str(person) for person in people]) for role, people in entry.persons.items()],
        )
    )


def _kept_formatting(original):
    """pybtex's ``BaseStyle.format_entry``, through :data:`_FORMATTED` (with no database to
    resolve cross-references in, as sphinxcontrib-bibtex calls it)."""

    @functools.wraps(original)
    def format_entry(self, label, entry, bib_data=None):
        if bib_data is not None:
            return original(self, label, entry, bib_data)
        key = _entry_key(self, label, entry)
        found = _FORMATTED.get(key)
        return found if found is not None else _FORMATTED.put(key, original(self, label, entry))

    format_entry.gpufleet_kept = True
    return format_entry


def _decode_latex(latex: str) -> str:
    found = _LATEX.get(latex)
    if found is None:
        import codecs

        import latexcodec  # noqa: F401  (registers the codec)

        found = _LATEX.put(latex, codecs.decode(latex, "ulatex"))
    return found


def _from_latex(cls, latex: str):
    """pybtex's ``Text.from_latex``, decoding through the cache."""
    from pybtex.markup import LaTeXParser

    return LaTeXParser(_decode_latex(latex)).parse()


def _keep_highlighting(app) -> None:
    """Sphinx's highlighter, through :data:`_HIGHLIGHTED`: the same code block, language,
    options and formatter give the same HTML. A block whose highlighting logged a warning is
    not kept, so that every build that has it warns."""
    highlighter = getattr(app.builder, "highlighter", None)
    if highlighter is None:
        return
    original = highlighter.highlight_block
    formatter = f"{highlighter.dest} {highlighter.formatter} {highlighter.formatter_args}"

    def highlight_block(source, lang, opts=None, force=False, location=None, **kwargs) -> str:
        key = json.dumps([source, lang, opts, force, kwargs, formatter], default=repr)
        found = _HIGHLIGHTED.get(key)
        if found is None:
            warnings = app._warncount
            found = original(source, lang, opts, force, location, **kwargs)
            if app._warncount == warnings:
                _HIGHLIGHTED.put(key, found)
        return found

    highlighter.highlight_block = highlight_block


def _load_kept(app) -> None:
    for kept in _KEPT:
        kept.load(Path(app.doctreedir).parent)


def _save_kept(app, exception) -> None:
    if exception is None:
        for kept in _KEPT:
            kept.save()


def _fresh_templates_path(app, config) -> None:
    if "templates_path" not in config._raw_config:
        config.templates_path = []


def _keep_compiled_templates(app) -> None:
    templates = getattr(app.builder, "templates", None)
    environment = getattr(templates, "environment", None)
    if environment is not None:
        import jinja2

        folder = Path(app.doctreedir).parent / "templates-compiled"
        folder.mkdir(parents=True, exist_ok=True)
        environment.bytecode_cache = jinja2.FileSystemBytecodeCache(str(folder))


def _copy_stylesheet_first(app) -> None:
    from myst_nb.sphinx_ext import add_global_html_resources

    if app.builder.format == "html":
        (Path(app.builder.outdir) / "_static").mkdir(parents=True, exist_ok=True)
        add_global_html_resources(app, None)


def _forget_earlier_glue() -> None:
    """myst-nb caches the glued values it read, by output folder, which the next build in the
    same process reuses."""
    from myst_nb.ext.glue.crossref import read_glue_cache

    read_glue_cache.cache_clear()


def _start_build(app) -> None:
    _forget_earlier_glue()
    _load_kept(app)
    _keep_highlighting(app)
    _keep_compiled_templates(app)
    _copy_stylesheet_first(app)


#: What to call once Sphinx has set itself up, before it reads a page (see :func:`before_reading`).
_BEFORE_READING: list[Callable[[], None]] = []


@contextlib.contextmanager
def before_reading(callback: Callable[[], None] | None) -> Iterator[None]:
    """Have the builds started in this block call ``callback`` when Sphinx has set itself up,
    last of what it does then, before it reads a page (:func:`gpufleet.build.booksite.build`)."""
    _BEFORE_READING[:] = [callback] if callback is not None else []
    try:
        yield
    finally:
        _BEFORE_READING.clear()


def _set_up(app) -> None:
    for callback in _BEFORE_READING:
        callback()


def _note_glue_dependencies(app, doctree) -> None:
    from myst_nb.ext.glue.utils import PendingGlueReference

    for node in doctree.findall(PendingGlueReference):
        app.env.note_dependency(str(app.env.doc2path(node.refdoc)))


def _drop_orphan_search_terms(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.search import js_index

    path = Path(app.builder.outdir) / "searchindex.js"
    if not path.is_file():
        return
    index = js_index.loads(path.read_text(encoding="utf-8"))
    dropped = False
    for field in ("terms", "titleterms"):
        kept = {term: docs for term, docs in index[field].items() if docs != []}
        dropped = dropped or len(kept) != len(index[field])
        index[field] = kept
    if dropped:
        path.write_text(js_index.dumps(index), encoding="utf-8")


def setup(app) -> dict[str, object]:
    import pybtex.plugin
    import pybtex.richtext
    import pybtex.style.formatting

    if not getattr(pybtex.plugin.entry_points, "gpufleet_cached", False):
        pybtex.plugin.entry_points = _cached_entry_points(pybtex.plugin.entry_points)
        pybtex.plugin.entry_points.gpufleet_cached = True
    pybtex.richtext.Text.from_latex = classmethod(_from_latex)
    style = pybtex.style.formatting.BaseStyle
    if not getattr(style.format_entry, "gpufleet_kept", False):
        style.format_entry = _kept_formatting(style.format_entry)
    app.connect("config-inited", _fresh_templates_path, priority=0)  # before the themes
    app.connect("builder-inited", _start_build)
    app.connect("builder-inited", _set_up, priority=900)  # after every other extension's
    app.connect("doctree-read", _note_glue_dependencies)
    app.connect("build-finished", _drop_orphan_search_terms)
    app.connect("build-finished", _save_kept)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
