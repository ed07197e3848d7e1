"""The source notebooks: conventions, defaults from the registry, and real papermill runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import papermill
import pytest
import yaml

from gpufleet.book import notebooks
from gpufleet.build import results
from tests.conftest import ROOT

SOURCES = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAPERMILL = str(Path(sys.executable).with_name("papermill"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    for index, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {index} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {index} was executed"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_follows_the_notebook_format(path):
    """The runner reads the chapters without checking them (:func:`execution.execute_one`)."""
    import nbformat

    nbformat.validate(nbformat.reader.reads(path.read_text()))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_kernel_is_python3(path):
    assert json.loads(path.read_text())["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_parameters_match_the_registry(path, project):
    declared = notebooks.declared_parameters(path)
    for name, param in declared.items():
        assert name in project.parameters, f"{path.name}: {name} is not in data/parameters.csv"
        registry = project.parameters[name]
        assert param.default == registry.default, f"{path.name}: {name} default differs"
        assert (
            type(param.default).__name__
            == {"int": "int", "float": "float", "choice": "str"}[registry.type]
        )
        assert param.annotation == type(param.default).__name__


def test_every_parameter_is_used_by_a_notebook(project):
    users = notebooks.parameter_users(ROOT)
    unused = sorted(set(project.parameters) - set(users))
    assert not unused, (
        f"data/parameters.csv has parameters no notebook takes: {unused}; add each to the "
        "parameters cell of the notebooks whose numbers it moves (notebooks/NAME.ipynb), then "
        "run gpufleet strip notebooks/*.ipynb (see CONTRIBUTING.md, 'Adding a parameter')"
    )
    unknown = sorted(set(users) - set(project.parameters))
    assert not unknown, f"notebooks take parameters data/parameters.csv lacks: {unknown}"


def test_every_notebook_is_in_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {chapter["file"] for part in toc["parts"] for chapter in part["chapters"]}
    for path in SOURCES:
        assert f"book/{path.stem}" in files


def test_every_headline_is_glued_by_its_notebook_from_the_one_computation(project):
    """Each chapter with headlines glues them with chapter.headlines (compute_all), not with
    a number of its own under the same key."""
    for key, headline in project.headlines.items():
        source = (ROOT / "notebooks" / f"{headline.notebook}.ipynb").read_text()
        assert "chapter.headlines(p)" in source, f"{headline.notebook} glues no headlines"
        assert not re.search(rf'report\.(number|text)\(\\"{key}\\"', source), (
            f"{headline.notebook}.ipynb glues the headline {key} itself; chapter.headlines does"
        )


#: The hand-written pages, which paste numbers from the chapters.
PAGES = sorted((ROOT / "book").glob("*.md"))
GLUE_TEXT = re.compile(r"\{glue:text\}`([^`]*)`")


def _prose(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _pasted() -> list[tuple[str, str, str, str | None]]:
    """Every ``{glue:text}`` in the prose: (page, chapter it pastes from, key, format spec)."""
    found = []
    for path in SOURCES + PAGES:
        for reference in GLUE_TEXT.findall(_prose(path)):
            target, spec = reference, None
            head, colon, tail = reference.rpartition(":")
            if colon and not head.endswith(":"):  # "key:spec", not "doc.ipynb::key"
                target, spec = head, tail
            doc, _, key = target.rpartition("::")
            chapter_name = doc.removesuffix(".ipynb") if doc else path.stem
            found.append((str(path.relative_to(ROOT)), chapter_name, key, spec))
    return found


def test_no_number_in_the_prose_carries_a_format_of_its_own():
    """A format chosen at a reference (":,.0f", ":.2f", ":,g") suits the value it was chosen
    for and prints "0", "0.00" or "1.23457e+06" for another: the prose pastes the text
    report.number writes by rule (key__text). Only ":s" (text from another page) is allowed."""
    pasted = _pasted()
    assert len(pasted) > 300  # the pages' references were all found
    own = sorted(
        f"{page}: {key}:{spec}" for page, _, key, spec in pasted if spec not in (None, "s")
    )
    assert not own, (
        f"{len(own)} references write a number with a format of their own: {own}; paste its "
        "text instead, {glue:text}`KEY__text` (from another page: `NOTEBOOK.ipynb::KEY__text:s`), "
        "and say what the figure is with report.number(..., kind=...) (CONTRIBUTING.md, "
        "'Every number in the prose is glued')"
    )


def test_no_number_is_pasted_raw(project):
    """A number glued with report.number pasted without a format reads "350000.0": the prose
    pastes its text, KEY__text."""
    glued = {}
    for path in SOURCES:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        glued[path.stem] = set(re.findall(r'report\.number\(\s*"(\w+)"', code)) | {
            key for key, headline in project.headlines.items() if headline.notebook == path.stem
        }
    raw = sorted(f"{page}: {key}" for page, name, key, _ in _pasted() if key in glued.get(name, ()))
    assert not raw, f"numbers pasted as they are, not as their text (KEY__text): {raw}"


def test_a_computed_default_is_refused(tmp_path):
    path = tmp_path / "bad.ipynb"
    cell = {
        "cell_type": "code",
        "metadata": {"tags": ["parameters"]},
        "outputs": [],
        "execution_count": None,
        "source": "a: float = 1.0  # one\nb: float = a * 2  # two\n",
    }
    path.write_text(
        json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 4})
    )
    with pytest.raises(notebooks.NotebookError, match="b must be a literal"):
        notebooks.declared_parameters(path)


def test_papermill_documents_the_parameters():
    shown = subprocess.run(
        [PAPERMILL, "--help-notebook", str(ROOT / "notebooks" / "fleet.ipynb")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "mfu: float (default 0.41)" in shown
    assert "Model FLOPs utilization in training (fraction)" in shown


def _run(tmp_path, notebook="fleet", **parameters) -> dict[str, float]:
    out = tmp_path / f"{notebook}.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / f"{notebook}.ipynb"),
        str(out),
        parameters=parameters,
        cwd=str(ROOT),
        kernel_name="python3",
        progress_bar=False,
    )
    return results.glued_values(out)


#: The default fleet by hand: 173,000 MI300X (228,625.9 H100e by BF16) and 16,000 A100
#: (5,047.5) leave 6,326.6 of the 240,000 H100e beyond the H100s to 20,054.5 more A100s.
A100S = 16_000 + (240_000 - 173_000 * 1307 / 989 - 16_000 * 312 / 989) * 989 / 312
SERVERS_MW = (350_000 * 700 * 1.82 + 173_000 * 750 * 1.77 + A100S * 400 * 2.03) / 1e6


@pytest.mark.slow
def test_fleet_with_defaults(tmp_path):
    glued = _run(tmp_path)
    # 590,000 H100e x 989 TFLOP/s = 583.51 EFLOP/s; x 0.41 = 239.239.
    assert glued["peak_bf16_dense_exaflops"] == pytest.approx(583.51)
    assert glued["effective_bf16_exaflops"] == pytest.approx(239.2391)
    assert glued["h100_count"] == 350_000
    assert glued["fleet_gpu_count"] == pytest.approx(350_000 + 173_000 + A100S)


@pytest.mark.slow
def test_fleet_with_overrides(tmp_path):
    glued = _run(
        tmp_path,
        mfu=0.3,
        h100_count=400_000,
        equivalence_metric="memory_capacity",
        remainder_gpu="mi300x",
    )
    # By memory, 173,000 MI300X (192 GB) are 415,200 H100e and 16,000 A100 16,000: more than
    # the 190,000 left beside 400,000 H100s, so both are scaled by 190,000 / 431,200.
    scale = 190_000 / 431_200
    peak_tflops = 400_000 * 989 + scale * (173_000 * 1307 + 16_000 * 312)
    assert glued["fleet_gpu_count"] == pytest.approx(400_000 + scale * 189_000)
    assert glued["peak_bf16_dense_exaflops"] == pytest.approx(peak_tflops / 1e6)
    assert glued["effective_bf16_exaflops"] == pytest.approx(peak_tflops / 1e6 * 0.3)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("notebook", "parameters", "message"),
    [
        ("fleet", {"mfu": 1.5}, "mfu: 1.5 is out of range; allowed: a number from 0.01 to 1"),
        ("power", {"pue": 0.8}, "pue: 0.8 is out of range; allowed: a number from 1 to 3"),
        ("costs", {"useful_life_years": 0}, "useful_life_years: 0 is out of range"),
        (
            "emissions",
            {"renewable_match_fraction": 2},
            "renewable_match_fraction: 2 is out of range",
        ),
        # A typo papermill itself would only warn about, running on with the defaults.
        ("power", {"puee": 1.3}, "unknown parameter 'puee'; did you mean 'pue'?"),
        ("power", {"mfu": 0.3}, "mfu: not a parameter of power.ipynb"),
    ],
)
def test_plain_papermill_gets_the_same_clear_error(tmp_path, notebook, parameters, message):
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        _run(tmp_path, notebook, **parameters)
    assert caught.value.ename == "ParameterError"
    assert message in caught.value.evalue


def _texts(tmp_path, notebook="fleet") -> dict[str, str]:
    """The texts a notebook run by :func:`_run` glued, as a page pastes them."""
    from myst_nb.core.variables import format_plain_text

    cells = json.loads((tmp_path / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
    return {
        output["metadata"]["scrapbook"]["name"]: format_plain_text(
            output["data"][results.GLUE_MIME], "s"
        )
        for cell in cells
        for output in cell.get("outputs", [])
        if "scrapbook" in output.get("metadata", {})
    }


@pytest.mark.slow
def test_fleet_words_a_small_fleet_by_rule(tmp_path):
    """At the low ends of the counts, the sentences still read: a share over 100% as a
    multiple, zero as "none", one as singular."""
    _run(tmp_path, h100_count=1000, h100_equivalents_total=1000)
    texts = _texts(tmp_path)
    # 2 x 24,576 H100s in Meta's clusters against 1,000 in the fleet: 49.152 times.
    assert texts["clusters_text"] == (
        "The H100s of the fleet would fill 4.07% of one such cluster, and the two clusters "
        "would need 49.2 times the fleet's H100s: with these assumptions the fleet has fewer "
        "H100s than Meta's two clusters alone."
    )
    assert texts["summary_clusters_text"].startswith(
        "The two training clusters Meta described would need 49.2 times the fleet's H100s"
    )
    assert texts["other_gpus_text"] == "none"
    assert texts["fleet_gpus_text"] == "1,000 GPUs"
    assert texts["h100s_text"] == "1,000 H100s"

    _run(
        tmp_path,
        h100_count=1,
        h100_equivalents_total=1,
        mi300x_count=0,
        equivalence_metric="memory_bandwidth",
    )
    texts = _texts(tmp_path)
    assert texts["h100s_text"] == "1 H100"
    assert texts["h100e_total_text"] == "1 H100 equivalent"
    assert texts["fleet_gpus_text"] == "1 GPU"
    # 5.3 TB/s of an MI300X against 3.35 of an H100: one MI300X is worth 1.58 H100s.
    assert texts["measure_text"] == (
        "Here GPUs are counted by memory bandwidth instead, by which one MI300X is worth "
        "1.58 H100s; no MI300Xs are assumed here."
    )

    _run(tmp_path, mi300x_count=1, equivalence_metric="memory_bandwidth")
    texts = _texts(tmp_path)
    assert "by which 1 MI300X is worth 1.58 H100s." in texts["measure_text"]
    assert texts["intro_mix_text"].startswith(
        ": beside the H100s, 1 AMD MI300X (an analyst's estimate"
    )
    # The defaults: 350,000 H100s, of which the two clusters hold 14%.
    _run(tmp_path)
    texts = _texts(tmp_path)
    assert texts["clusters_text"] == (
        "The H100s of the fleet would fill 14.2 such clusters, and the two clusters hold 14% "
        "of the fleet's H100s. Where the others run, and on what work, Meta has not described "
        "in the same detail."
    )


@pytest.mark.slow
def test_power_with_overrides(tmp_path):
    glued = _run(
        tmp_path,
        "power",
        mi300x_count=0,
        a100_count=0,
        remainder_gpu="mi300x",
        h100_equivalents_total=600_000,
        network_storage_power_share=0.2,
        avg_power_fraction=1.0,
        pue=1.2,
        electricity_usd_per_mwh=100,
    )
    # 350,000 x 700 W x 1.82 + 250,000 x 989/1307 MI300X x 750 W x 1.77 = 445.9 + 251.14 MW of
    # servers; with network and storage at 20% of the IT load, 871.30 MW.
    it_mw = (350_000 * 700 * 1.82 + 250_000 * 989 / 1307 * 750 * 1.77) / 1e6 / 0.8
    assert glued["it_power_mw"] == pytest.approx(it_mw)
    assert glued["facility_power_mw"] == pytest.approx(it_mw * 1.2)
    assert glued["annual_energy_twh"] == pytest.approx(it_mw * 1.2 * 8_760 / 1e6)
    assert glued["annual_electricity_cost_usd"] == pytest.approx(it_mw * 1.2 * 8_760 * 100)


@pytest.mark.slow
def test_costs_with_overrides(tmp_path):
    glued = _run(
        tmp_path,
        "costs",
        h100_server_price_usd=320_000,
        h100_unit_price_usd=40_000,
        h100_count=100_000,
        h100_equivalents_total=100_000,
        network_share_of_it_capex=0.1,
        useful_life_years=4,
        facility_usd_per_mw=10e6,
        facility_life_years=25,
        cost_of_capital=0,
    )
    # Only H100s: servers 12,500 x 320,000 = 4e9; network 4e9 x 0.1/0.9; buildings for
    # 100,000 x 700 W x 1.82 / 0.9 = 141.56 MW of IT load at 10 M USD each.
    it_capex = 4e9 / 0.9
    it_mw = 100_000 * 700 * 1.82 / 0.9 / 1e6
    facility = it_mw * 10e6
    assert glued["gpu_capex_usd"] == pytest.approx(4e9)
    assert glued["fleet_capex_usd"] == pytest.approx(it_capex + facility)
    assert glued["annual_depreciation_usd"] == pytest.approx(it_capex / 4 + facility / 25)
    # At a cost of capital of 0 the capital charge is the depreciation.
    assert glued["annual_capital_charge_usd"] == pytest.approx(it_capex / 4 + facility / 25)
    electricity = it_mw * 1.08 * 0.75 * 8_760 * 80.6
    assert glued["cost_per_gpu_hour_usd"] == pytest.approx(
        (it_capex / 4 + facility / 25 + electricity) / (100_000 * 8_760)
    )


@pytest.mark.slow
def test_emissions_with_overrides(tmp_path):
    glued = _run(
        tmp_path,
        "emissions",
        grid_kgco2e_per_kwh=0.5,
        renewable_match_fraction=0.4,
        embodied_kgco2e_per_gpu=200,
        embodied_kgco2e_per_server=1600,
    )
    location = SERVERS_MW / 0.9 * 1.08 * 0.75 * 8_760 * 0.5
    assert glued["annual_emissions_location_tco2e"] == pytest.approx(location)
    assert glued["annual_emissions_market_tco2e"] == pytest.approx(location * 0.6)
    # 200 kg per H100 and MI300X (the H100's figure stands in), 150 per A100, + 1,600 / 8.
    assert glued["embodied_emissions_tco2e"] == pytest.approx(
        ((350_000 + 173_000) * 400 + A100S * 350) / 1_000
    )


def test_strip_removes_outputs(tmp_path):
    path = tmp_path / "nb.ipynb"
    cell = {
        "cell_type": "code",
        "metadata": {"tags": ["hide-input"]},
        "execution_count": 3,
        "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi\n"}],
        "source": "print('hi')",
    }
    path.write_text(
        json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 4})
    )
    assert notebooks.strip_outputs(path) is True
    stripped = json.loads(path.read_text())["cells"][0]
    assert stripped["outputs"] == [] and stripped["execution_count"] is None
    assert stripped["metadata"]["tags"] == ["hide-input"]
    assert notebooks.strip_outputs(path) is False


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_committed_notebooks_are_already_stripped(path, tmp_path, project):
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    assert notebooks.strip_outputs(copy, project) is False, (
        f"run `gpufleet strip notebooks/{path.name}` (outputs, or a parameters cell that is "
        "not what data/parameters.csv writes)"
    )


@pytest.mark.parametrize("path", [p for p in SOURCES if notebooks.parameters_cell(p)], ids=str)
def test_parameters_cell_is_what_the_registry_writes(path, project):
    assert notebooks.parameters_cell(path) == notebooks.expected_parameters_cell(path, project), (
        f"{path.name}: its parameters cell differs from data/parameters.csv; run "
        f"`gpufleet strip notebooks/{path.name}`"
    )


def test_strip_writes_the_parameters_cell_from_the_registry(tmp_path, project):
    """A stale cell (a wrong default, a lost comment, the registry's order not kept) is
    rewritten; the names it declares are kept."""
    path = tmp_path / "nb.ipynb"
    cell = {
        "cell_type": "code",
        "metadata": {"tags": ["parameters", "remove-cell"]},
        "execution_count": None,
        "outputs": [],
        "source": "pue = 2\nmfu: float = 0.5  # an old comment\nequivalence_metric: str = 'x'",
    }
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4}))
    assert notebooks.strip_outputs(path, project) is True
    assert notebooks.parameters_cell(path) == (
        "# Written from data/parameters.csv by `gpufleet strip`; edit the registry, "
        "not this cell.\n"
        "mfu: float = 0.41  # Model FLOPs utilization in training (fraction)\n"
        'equivalence_metric: str = "bf16_dense"  # What an H100 equivalent measures (4 choices)\n'
        "pue: float = 1.08  # Power usage effectiveness (ratio)"
    )
    assert set(notebooks.declared_parameters(path)) == {"mfu", "equivalence_metric", "pue"}
    # A choice lists its options where the line has room for them.
    assert notebooks.parameter_line(project.parameters["remainder_gpu"]).endswith(
        "# GPU making up any remainder: a100_sxm_80gb, mi300x, h200_sxm"
    )
    assert notebooks.strip_outputs(path, project) is False


def test_a_parameters_cell_naming_no_registry_parameter_is_refused(project):
    with pytest.raises(notebooks.NotebookError, match="puee not in data/parameters.csv"):
        notebooks.parameters_cell_text(["pue", "puee"], project)
