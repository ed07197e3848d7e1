"""The built site: pages present, numbers follow parameters, nothing loaded from other hosts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import altair as alt
import pytest

from gpufleet.build.site import vega_bundle
from tests.conftest import REPOSITORY, gpufleet

REFERENCES = Path(__file__).parents[1] / "book" / "references.bib"

PAGES = [
    "book/intro.html",
    "book/fleet.html",
    "book/power.html",
    "book/costs.html",
    "book/emissions.html",
    "book/parameters.html",
    "book/rerun.html",
    "book/history.html",
    "book/references.html",
]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("page", PAGES)
def test_page_is_built(site, page):
    assert (site / "_build" / "html" / page).is_file()


def test_numbers_in_the_text_follow_the_parameters(site, site_changed):
    default = _text((site / "_build" / "html" / "book" / "fleet.html").read_text())
    changed = _text((site_changed / "_build" / "html" / "book" / "fleet.html").read_text())
    # 583.51 EFLOP/s peak either way (590,000 H100e x 989 TFLOP/s); effective 239 at mfu 0.41,
    # 175 at 0.3.
    assert "the fleet would sustain 239 EFLOP/s" in default
    assert "the fleet would sustain 175 EFLOP/s" in changed
    assert "peaks at 584 EFLOP/s" in changed
    intro = _text((site_changed / "_build" / "html" / "book" / "intro.html").read_text())
    assert "would sustain about 175 EFLOP/s in training" in intro
    assert "defaults in 1 of the 7 assumptions of this page: mfu = 0.3" in changed
    # Facility load: 783.15 MW of IT x PUE 1.3 = 1,018.1 MW, written to three figures; energy
    # x 0.75 x 8,760 h.
    power = _text((site_changed / "_build" / "html" / "book" / "power.html").read_text())
    assert "the facility load peaks at 1,020 MW" in power
    assert "would use 6.69 TWh of electricity" in power
    # 350,000 H100 x 30,000 USD = 10.5 billion dollars.
    costs = _text((site_changed / "_build" / "html" / "book" / "costs.html").read_text())
    assert "the 350,000 H100s cost 10.5 billion dollars" in costs
    default_costs = _text((site / "_build" / "html" / "book" / "costs.html").read_text())
    assert "the 350,000 H100s cost 8.75 billion dollars" in default_costs


def test_results_follow_the_parameters(site, site_changed):
    changed = json.loads(gpufleet(site_changed, "results", "--json", check=True).stdout)
    default = json.loads(gpufleet(site, "results", "--json", check=True).stdout)
    assert changed["effective_bf16_exaflops"]["value"] == pytest.approx(583.51 * 0.3)
    # Servers of 350,000 H100, 173,000 MI300X and 36,054.5 A100 (the RSC's and the
    # remainder's), with network and storage at a tenth of the IT load: 783.15 MW.
    a100s = 16_000 + (240_000 - 173_000 * 1307 / 989 - 16_000 * 312 / 989) * 989 / 312
    it_mw = (350_000 * 700 * 1.82 + 173_000 * 750 * 1.77 + a100s * 400 * 2.03) / 1e6 / 0.9
    assert default["facility_power_mw"]["value"] == pytest.approx(it_mw * 1.08)
    assert changed["facility_power_mw"]["value"] == pytest.approx(it_mw * 1.3)
    assert changed["annual_energy_twh"]["value"] == pytest.approx(it_mw * 1.3 * 0.75 * 8.76e-3)
    assert changed["gpu_capex_usd"]["value"] == pytest.approx(10.5e9)
    assert default["gpu_capex_usd"]["value"] == pytest.approx(8.75e9)
    # Unchanged inputs give unchanged outputs.
    assert changed["it_power_mw"]["value"] == default["it_power_mw"]["value"]
    assert (
        changed["embodied_emissions_tco2e"]["value"] == default["embodied_emissions_tco2e"]["value"]
    )


def test_injected_parameters_are_hidden(site_changed):
    executed = json.loads((site_changed / "book" / "fleet.ipynb").read_text())
    injected = [
        c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])
    ]
    assert len(injected) == 1 and "remove-cell" in injected[0]["metadata"]["tags"]
    html = (site_changed / "_build" / "html" / "book" / "fleet.html").read_text()
    assert "tag_hide-input" in html  # myst-nb marks rendered cells with their tags...
    assert "tag_injected-parameters" not in html  # ...and a removed cell is not rendered


def test_executed_notebooks_carry_no_timings_or_paths(site):
    text = (site / "book" / "fleet.ipynb").read_text()
    assert '"papermill"' not in text
    assert str(site) not in text


def test_site_loads_nothing_from_other_hosts(site):
    for page in (site / "_build" / "html").rglob("*.html"):
        html = page.read_text()
        external = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', html)
        assert not external, f"{page.name} loads {external}"


def test_every_page_links_the_repository_it_was_built_from(site, site_changed):
    for page in (site / "_build" / "html" / "book").glob("*.html"):
        html = page.read_text()
        assert f'<a href="{REPOSITORY}" target="_blank"' in html, page.name
        assert f'href="{REPOSITORY}/issues/new?title=' in html, page.name
    # A copy outside git, built with no repository named, links none.
    unlinked = (site_changed / "_build" / "html" / "book" / "power.html").read_text()
    assert REPOSITORY not in unlinked
    assert "Source repository" not in unlinked


def test_every_page_says_which_edition_it_is_and_the_intro_how_to_cite_it(site):
    import yaml

    from tests.conftest import ROOT

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    edition = f"Version {cff['version']} of the report, released {cff['date-released']}."
    html = site / "_build" / "html"
    for path in PAGES:
        assert edition in _text((html / path).read_text()), path
    intro = _text((html / "book" / "intro.html").read_text())
    title = cff["title"].replace("'", "’")  # typographic apostrophes on the page
    cited = intro.split("How to cite it #")[1].split("What this report is not")[0]
    cited = " ".join(cited.replace(" ,", ",").split())
    authors = cff["authors"][0]["name"]
    assert cited.startswith(
        f"{authors} ({cff['date-released'][:4]}). {title}, version {cff['version']}. {REPOSITORY}"
    ), cited


def test_every_page_has_one_search_box(site):
    for page in (site / "_build" / "html" / "book").glob("*.html"):
        assert page.read_text().count('class="btn search-button-field') == 1, page.name


def test_vega_is_vendored_with_altairs_versions(site):
    static = site / "_build" / "html" / "_static"
    assert (static / "vega-bundle.js").stat().st_size > 500_000
    config = (static / "vega-config.js").read_text()
    versions = json.loads(config.split("window.VEGA_DEBUG = ")[1].rstrip(";\n"))
    assert versions == {
        "vega_version": alt.VEGA_VERSION,
        "vegalite_version": alt.VEGALITE_VERSION,
        "vegaembed_version": alt.VEGAEMBED_VERSION,
    }
    html = (site / "_build" / "html" / "book" / "fleet.html").read_text()
    assert "vega-bundle.js" in html and "vega-config.js" in html
    # Altair's loader skips its CDN only when VEGA_DEBUG names these versions.
    assert "VEGA_DEBUG[key] == version" in html


def test_a_failing_build_leaves_the_site(site):
    before = (site / "_build" / "html" / "book" / "intro.html").read_bytes()
    intro = site / "book" / "intro.md"
    original = intro.read_text()
    try:
        intro.write_text(original + "\n{glue:text}`fleet.ipynb::no_such_key__text:s`\n")
        completed = gpufleet(site, "run")
    finally:
        intro.write_text(original)
    assert completed.returncode == 1
    assert "the book build failed; the previous site is untouched" in completed.stderr
    assert "book/intro.md:" in completed.stderr and "no_such_key" in completed.stderr
    assert "full log: _build/build-errors.log" in completed.stderr
    assert (site / "_build" / "html" / "book" / "intro.html").read_bytes() == before


def test_kept_texts_are_read_back_only_by_the_same_versions(tmp_path):
    import codecs

    import latexcodec  # noqa: F401

    from gpufleet.build.sphinx_ext import _decode_latex, _Kept

    text = r"Andr\'e and G\"odel \& co"
    assert _decode_latex(text) == codecs.decode(text, "ulatex") == "André and Gödel & co"
    kept = _Kept("latex-decoded", ("latexcodec",))
    kept.load(tmp_path)
    kept.put(text, "André and Gödel & co")
    kept.save()
    (saved,) = tmp_path.glob("latex-decoded-*.json")
    assert saved.name == f"latex-decoded-{version('latexcodec')}.json"
    assert json.loads(saved.read_text()) == {text: "André and Gödel & co"}
    again = _Kept("latex-decoded", ("latexcodec",))
    again.load(tmp_path)
    assert again.get(text) == "André and Gödel & co" and not again.dirty
    # A file another latexcodec wrote is never read: the version is in its name.
    saved.rename(tmp_path / "latex-decoded-0.0.json")
    fresh = _Kept("latex-decoded", ("latexcodec",))
    fresh.load(tmp_path)
    assert fresh.get(text) is None


def test_highlighted_code_is_kept_unless_it_warned(monkeypatch):
    """The highlighter, through the kept texts: the same block gives the same HTML, made once;
    a block whose highlighting warned is highlighted (and warns) every time."""
    from types import SimpleNamespace

    from sphinx.highlighting import PygmentsBridge

    from gpufleet.build import sphinx_ext

    monkeypatch.setattr(sphinx_ext, "_HIGHLIGHTED", sphinx_ext._Kept("highlighted", ()))
    bridge = PygmentsBridge("html")
    made: list[str] = []
    app = SimpleNamespace(builder=SimpleNamespace(highlighter=bridge), _warncount=0)

    def highlight(source, lang, opts=None, force=False, location=None, **kwargs):
        made.append(source)
        if "warns" in source:
            app._warncount += 1
        return PygmentsBridge.highlight_block(bridge, source, lang, opts, force, location, **kwargs)

    bridge.highlight_block = highlight
    sphinx_ext._keep_highlighting(app)
    html = bridge.highlight_block("x = 1  # one", "python")
    assert '<span class="n">x</span>' in html
    assert bridge.highlight_block("x = 1  # one", "python") == html
    assert bridge.highlight_block("x = 1  # one", "python", linenos=True) != html
    assert made == ["x = 1  # one", "x = 1  # one"]  # once plain, once with line numbers
    bridge.highlight_block("warns()", "python")
    bridge.highlight_block("warns()", "python")
    assert made[2:] == ["warns()", "warns()"] and app._warncount == 2


def test_formatted_entries_are_kept_and_given_back_as_pybtex_formats_them(monkeypatch, tmp_path):
    """A bibliography entry formatted once is given back from the kept copy, a fresh object
    each time, equal to what pybtex makes; a change to the entry or the style formats again."""
    from pybtex.backends.html import Backend
    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin
    from pybtex.style.formatting import BaseStyle

    from gpufleet.build import sphinx_ext

    kept = sphinx_ext._Kept("formatted-entries", ("pybtex",), objects=True)
    monkeypatch.setattr(sphinx_ext, "_FORMATTED", kept)
    original = getattr(BaseStyle.format_entry, "__wrapped__", BaseStyle.format_entry)
    calls: list[str] = []

    def counted(self, label, entry, bib_data=None):
        calls.append(entry.key)
        return original(self, label, entry, bib_data)

    format_entry = sphinx_ext._kept_formatting(counted)
    entry = next(iter(parse_file(REFERENCES).entries.values()))
    style = find_plugin("pybtex.style.formatting", "plain")()
    html = Backend()
    made = format_entry(style, "1", entry)
    again = format_entry(style, "1", entry)
    assert calls == [entry.key]
    assert again is not made and again.text.render(html) == made.text.render(html)
    assert again.text.render(html) == original(style, "1", entry).text.render(html)
    format_entry(style, "2", entry)  # another label
    format_entry(find_plugin("pybtex.style.formatting", "unsrt")(), "1", entry)
    entry.fields["title"] = "Another title"
    format_entry(style, "1", entry)
    assert calls == [entry.key] * 4
    kept.load(tmp_path)
    kept.save()
    back = sphinx_ext._Kept("formatted-entries", ("pybtex",), objects=True)
    back.load(tmp_path)
    assert back.get(sphinx_ext._entry_key(style, "1", entry)).label == "1"


def test_the_vega_bundle_is_kept_for_the_installed_altair(tmp_path):
    """A build reuses the bundle and versions kept for the Altair installed, without importing
    Altair; a record for another Altair is made again."""
    (tmp_path / "vega-bundle.js").write_text("kept bundle")
    record = {"altair": version("altair"), "versions": {"vega_version": "kept"}}
    (tmp_path / "vega-versions.json").write_text(json.dumps(record))
    assert vega_bundle(tmp_path) == (tmp_path / "vega-bundle.js", {"vega_version": "kept"})
    assert (tmp_path / "vega-bundle.js").read_text() == "kept bundle"

    record["altair"] = "0.0.1"
    (tmp_path / "vega-versions.json").write_text(json.dumps(record))
    bundle, versions = vega_bundle(tmp_path)
    assert versions == {
        "vega_version": alt.VEGA_VERSION,
        "vegalite_version": alt.VEGALITE_VERSION,
        "vegaembed_version": alt.VEGAEMBED_VERSION,
    }
    assert bundle.read_text().startswith(f"/* vega bundle for vega-lite {alt.VEGALITE_VERSION}")
    assert bundle.stat().st_size > 500_000
    assert json.loads((tmp_path / "vega-versions.json").read_text())["altair"] == version("altair")


def test_no_sentence_names_a_parameter_by_its_code_name_alone(site, project):
    """A reader reads an assumption's label; its code name may follow in brackets, or be shown
    as code (the parameters page), never stand in a sentence in its place."""
    from bs4 import BeautifulSoup

    names = [name for name in project.parameters if "_" in name]
    bare = re.compile(r"(?<![\w(`])(" + "|".join(map(re.escape, names)) + r")(?![\w)`])")
    found = []
    for page in sorted((site / "_build" / "html" / "book").glob("*.html")):
        main = BeautifulSoup(page.read_text(), "html.parser").select_one("main")
        for hidden in main.select("code, pre, script, style, .cell_input, details"):
            hidden.decompose()
        for element in main.select("p, li, td, th, h1, h2, h3, figcaption"):
            text = element.get_text(" ", strip=True)
            found += [
                f"{page.name}: …{text[max(0, m.start() - 40) : m.end()]}"
                for m in bare.finditer(text)
            ]
    assert found == []


def test_the_vega_bundle_is_kept_in_the_environment(site, tmp_path, monkeypatch):
    """Every checkout using this environment shares one bundle (the site's build made it);
    where the environment cannot be written, the build folder keeps it instead."""
    import sys

    from gpufleet.build.site import vega_cache

    shared = Path(sys.prefix) / "share" / "gpufleet" / "vega"
    assert vega_cache(site / "_build") == shared
    assert (shared / "vega-bundle.js").stat().st_size > 500_000
    not_a_folder = tmp_path / "prefix"
    not_a_folder.write_text("a file where the environment would be")
    monkeypatch.setattr(sys, "prefix", str(not_a_folder))
    assert vega_cache(tmp_path / "_build") == tmp_path / "_build" / "vega"


def test_the_build_imports_no_notebook_executor_until_one_is_made():
    """myst-nb's execution clients stand in until made: the build's imports leave out
    jupyter-cache and SQLAlchemy, and making a client still gives the real one."""
    script = """
import sys
from gpufleet.build import booksite
booksite.warm()
print(sorted(m for m in ("sqlalchemy", "jupyter_cache", "nbclient") if m in sys.modules))
from myst_nb.core import execute
from myst_nb.core.execute.base import NotebookClientBase
try:
    execute.NotebookClientCache()
except TypeError as error:  # the real client's constructor, asking for its arguments
    print("notebook" in str(error))
real = sys.modules["myst_nb.core.execute.cache"].NotebookClientCache
print(issubclass(real, NotebookClientBase), "sqlalchemy" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split("\n")[:3] == ["[]", "True", "True True"]


def test_a_build_in_a_thread_logs_its_own_output_and_leaves_the_others(capsys):
    """While the site builds in its thread, what that thread prints goes to the build's log
    and what the runner prints (its progress) still reaches the terminal."""
    import io
    import threading

    from gpufleet.build import booksite

    log = io.StringIO()
    inside = threading.Event()
    carry_on = threading.Event()

    def building() -> None:
        with booksite._output_to(log):
            print("from the build")
            inside.set()
            carry_on.wait(10)
            print("warning from the build", file=sys.stderr)

    thread = threading.Thread(target=building)
    thread.start()
    inside.wait(10)
    print("[2/3] training: executed")
    carry_on.set()
    thread.join()
    assert log.getvalue() == "from the build\nwarning from the build\n"
    assert capsys.readouterr().out == "[2/3] training: executed\n"


def test_bytecode_is_compiled_for_the_files_given_and_a_broken_one_is_skipped(tmp_path):
    from importlib.util import cache_from_source

    from gpufleet.build import bytecode

    good, broken = tmp_path / "good.py", tmp_path / "broken.py"
    good.write_text("ANSWER = 42\n")
    broken.write_text("def (:\n")
    assert bytecode.compile_files([good, broken], workers=2) == 1
    assert Path(cache_from_source(str(good))).is_file()
    assert not Path(cache_from_source(str(broken))).exists()
    assert Path(json.__file__) in bytecode.imported_sources()


def test_bytecode_is_left_to_python_where_it_writes_it_itself(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-m", "gpufleet.build.bytecode"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert "nothing to do" in done.stdout
