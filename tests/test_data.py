"""Loading data/: the real files load, and broken ones fail naming file, line and column."""

from __future__ import annotations

import pytest

from gpufleet import data
from gpufleet.data import DataError


def test_real_files_load(project):
    assert project.accelerators["h100_sxm"].bf16_dense_tflops == 989
    assert project.accelerators["a100_sxm_80gb"].fp8_dense_tflops is None
    assert project.facts["announced_h100_count"].value == 350_000
    assert project.facts["announced_h100_equivalents_total"].value == 600_000
    assert project.parameters["h100_count"].default == 350_000
    assert isinstance(project.parameters["h100_count"].default, int)
    assert project.parameters["mfu"].default == pytest.approx(0.41)


def test_every_figure_has_a_known_source(project):
    records = [
        *project.accelerators.values(),
        *project.facts.values(),
        *project.parameters.values(),
    ]
    for record in records:
        assert record.source, record
        if record.source == (data.UNSOURCED,):
            assert record.note, f"{record} is unsourced without saying why"
            continue
        assert set(record.source) <= project.references


def test_article_figures_are_the_parameter_defaults(project):
    assert project.parameters["h100_count"].default == project.fact("announced_h100_count")
    assert project.parameters["h100_equivalents_total"].default == project.fact(
        "announced_h100_equivalents_total"
    )


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "accelerators.csv",
            "h100_pcie,H100 PCIe 80GB,NVIDIA,350,",
            "h100_pcie,H100 PCIe 80GB,NVIDIA,lots,",
            "data/accelerators.csv, line 3 (h100_pcie), column tdp_w: 'lots' is not a number",
        ),
        (
            "accelerators.csv",
            "1307,2615,192,5.3,amd2023mi300x",
            "1307,2615,192,5.3,",
            "data/accelerators.csv, line 6 (mi300x), column source: a value is required",
        ),
        (
            "accelerators.csv",
            "2.039,nvidia2021a100",
            "2.039,nvidia2099a100",
            "data/accelerators.csv, line 5 (a100_sxm_80gb), column source: nvidia2099a100 not in "
            "book/references.bib",
        ),
        (
            "accelerators.csv",
            "h100_pcie,H100 PCIe 80GB,NVIDIA,350,",
            "h100_pcie,H100 PCIe 80GB,NVIDIA,-350,",
            "column tdp_w: '-350' must be greater than 0",
        ),
        (
            "facts.csv",
            "announced_h100_count,350000,count,",
            "announced_h100_count,350000,gpus,",
            "data/facts.csv, line 2 (announced_h100_count), column unit: unknown unit 'gpus'",
        ),
        (
            "facts.csv",
            "count,2024-01-18",
            "count,18/01/2024",
            "column date: '18/01/2024' is not a date in the form YYYY, YYYY-MM or YYYY-MM-DD",
        ),
        (
            "parameters.csv",
            "mfu,float,0.41,",
            "mfu,float,1.41,",
            "data/parameters.csv, line 4 (mfu), column default: "
            "1.41 is outside its range 0.38..0.43",
        ),
        (
            "parameters.csv",
            "h100_count,int,350000,",
            "h100_count,int,350000.5,",
            "data/parameters.csv, line 2 (h100_count), column default: "
            "'350000.5' is not a whole number",
        ),
        (
            "parameters.csv",
            "h100_pcie h200_sxm a100_sxm_80gb mi300x",
            "h100_pcie tpu_v5 a100_sxm_80gb",
            "data/parameters.csv, line 6 (other_gpu), column choices: "
            "tpu_v5 not in data/accelerators.csv",
        ),
        (
            "parameters.csv",
            "name,type,default",
            "name,kind,default",
            "data/parameters.csv, line 1 (header): "
            "missing column(s) type; unexpected column(s) kind",
        ),
        (
            "headlines.csv",
            "h100_count,count,fleet",
            "h100_count,count,Fleet Notebook",
            "data/headlines.csv, line 2 (h100_count), column notebook: 'Fleet Notebook' must be",
        ),
    ],
)
def test_broken_file_is_named(data_copy, file, old, new, message):
    _edit(data_copy / "data" / file, old, new)
    with pytest.raises(DataError) as caught:
        data.load(data_copy)
    assert message in str(caught.value)


def test_duplicate_key(data_copy):
    path = data_copy / "data" / "facts.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(
        DataError,
        match=r"facts.csv, line 2 \(announced_h100_count\), column key: "
        r"'announced_h100_count' appears twice",
    ):
        data.load(data_copy)


def test_wrong_cell_count(data_copy):
    path = data_copy / "data" / "accelerators.csv"
    path.write_text(path.read_text() + "b200,B200,NVIDIA,1000\n")
    with pytest.raises(DataError, match=r"accelerators.csv, line 7 \(b200\): 4 cells, expected 12"):
        data.load(data_copy)


def test_missing_file(data_copy):
    (data_copy / "data" / "facts.csv").unlink()
    with pytest.raises(DataError, match="data/facts.csv: file not found"):
        data.load(data_copy)


def test_find_root_outside_a_project(tmp_path):
    with pytest.raises(DataError, match="no project found"):
        data.find_root(tmp_path)
