"""Loading data/: the real files load, and broken ones fail naming file, line and column."""

from __future__ import annotations

import csv
import os
import typing
from dataclasses import MISSING, fields

import pytest

from gpufleet.model import data
from gpufleet.model.data import DataError


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


def test_article_figures_are_the_parameter_defaults_or_bound_them(project):
    assert project.parameters["h100_count"].default == project.fact("announced_h100_count")
    # "Almost 600k": the announced total is the top of the range, the default below it.
    total = project.parameters["h100_equivalents_total"]
    assert total.high == project.fact("announced_h100_equivalents_total")
    assert total.low < total.default < total.high


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
            "data/accelerators.csv, line 6 (h100_pcie), column tdp_w: 'lots' is not a number",
        ),
        (
            "accelerators.csv",
            "1307,2615,192,5.3,amd2023mi300x amd2024rocmmi300",
            "1307,2615,192,5.3,",
            "data/accelerators.csv, line 3 (mi300x), column source: a value is required",
        ),
        (
            "accelerators.csv",
            "2.039,nvidia2021a100",
            "2.039,nvidia2099a100",
            "data/accelerators.csv, line 4 (a100_sxm_80gb), column source: nvidia2099a100 not in "
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
            "mfu,Model FLOPs utilization in training,float,0.41,",
            "mfu,Model FLOPs utilization in training,float,1.41,",
            "data/parameters.csv, line 7 (mfu), column default: "
            "1.41 is outside its range 0.38..0.43",
        ),
        (
            "parameters.csv",
            "h100_count,NVIDIA H100 GPUs at the end of 2024,int,350000,",
            "h100_count,NVIDIA H100 GPUs at the end of 2024,int,350000.5,",
            "data/parameters.csv, line 2 (h100_count), column default: "
            "'350000.5' is not a whole number",
        ),
        (
            "parameters.csv",
            "a100_sxm_80gb mi300x h200_sxm",
            "a100_sxm_80gb tpu_v5 h200_sxm",
            "data/parameters.csv, line 6 (remainder_gpu), column choices: "
            "tpu_v5 not in data/accelerators.csv",
        ),
        (
            "parameters.csv",
            "name,label,type,default",
            "name,label,kind,default",
            "data/parameters.csv, line 1 (header): "
            "missing column(s) type; unexpected column(s) kind",
        ),
        (
            "headlines.csv",
            "h100_count,count,fleet",
            "h100_count,count,Fleet Notebook",
            "data/headlines.csv, line 2 (h100_count), column notebook: 'Fleet Notebook' must be",
        ),
        (
            "parameters.csv",
            "mfu,Model FLOPs utilization in training,",
            "mfu,Model FLOPs utilization reached by a training run at scale,",
            "data/parameters.csv, line 7 (mfu), column label: 'Model FLOPs utilization reached "
            "by a training run at scale' has 58 characters; a label has at most 40",
        ),
        (
            "parameters.csv",
            "mfu,Model FLOPs utilization in training,float,0.41,",
            "mfu,Model FLOPs utilization in training,float,fast,",
            "data/parameters.csv, line 7 (mfu), column default: 'fast' is not a number",
        ),
        (
            "published_runs.csv",
            "llama31_8b,Llama 3.1 8B,1460000,",
            "llama31_8b,Llama 3.1 8B,many,",
            "data/published_runs.csv, line 2 (llama31_8b), column gpu_hours: "
            "'many' is not a number",
        ),
        (
            "published_runs.csv",
            "0,llama31modelcard2024,\nllama31_405b",
            "0,unsourced,\nllama31_405b",
            "data/published_runs.csv, line 3 (llama31_70b), column note: "
            "an unsourced figure must say why in its note",
        ),
        (
            "llama3_interruptions.csv",
            "faulty_gpu,GPU,148,",
            "faulty_gpu,GPU,0,",
            "data/llama3_interruptions.csv, line 2 (faulty_gpu), column count: "
            "'0' must be greater than 0",
        ),
        (
            "llama3_interruptions.csv",
            "gpu_hbm3_memory,GPU,72,llama3herd2024",
            "gpu_hbm3_memory,GPU,72,nobody2024",
            "data/llama3_interruptions.csv, line 3 (gpu_hbm3_memory), column source: "
            "nobody2024 not in book/references.bib",
        ),
        (
            "published_runs.csv",
            "key,model,gpu_hours,gpu_power_w",
            "key,model,gpu_power_w,gpu_hours",
            "data/published_runs.csv, line 1 (header): columns out of order; expected: "
            "key,model,gpu_hours,gpu_power_w,location_tco2e,market_tco2e,source,note",
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
    with pytest.raises(DataError, match=r"accelerators.csv, line 7 \(b200\): 4 cells, expected 15"):
        data.load(data_copy)


def test_missing_file(data_copy):
    (data_copy / "data" / "facts.csv").unlink()
    with pytest.raises(DataError, match="data/facts.csv: file not found"):
        data.load(data_copy)


def test_find_root_outside_a_project(tmp_path):
    with pytest.raises(DataError, match="no project found"):
        data.find_root(tmp_path)


# --- the one declaration per file: record class fields are the file's columns ---------------

TABLES = list(data._FILES.items())
TABLE_IDS = [file for _, file in TABLES]

#: Columns that may be empty in their file but are never None once loaded.
EMPTY_BUT_NOT_NONE = {(data.Parameter, "choices")}


def _header(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def test_every_data_file_has_a_record_class(project):
    on_disk = sorted(path.name for path in (project.root / "data").glob("*.csv"))
    assert sorted(data._FILES.values()) == on_disk


@pytest.mark.parametrize(("cls", "file"), TABLES, ids=TABLE_IDS)
def test_record_fields_are_the_file_header(project, cls, file):
    assert [field.name for field in fields(cls)] == _header(project.root / "data" / file)


@pytest.mark.parametrize(("cls", "file"), TABLES, ids=TABLE_IDS)
def test_every_field_declares_its_column(cls, file):
    assert cls.__dataclass_params__.frozen
    hints = typing.get_type_hints(cls)
    for field in fields(cls):
        name = f"{cls.__name__}.{field.name}"
        assert callable(field.metadata.get("parse")), f"{name} has no parser"
        assert field.default is MISSING and field.default_factory is MISSING, f"{name} defaults"
        may_be_none = type(None) in typing.get_args(hints[field.name])
        optional = not field.metadata["required"]
        assert optional == may_be_none or (cls, field.name) in EMPTY_BUT_NOT_NONE, (
            f"{name}: an optional column must be typed '| None' and a required one not"
        )


def test_loaded_records_have_their_declared_types(project):
    for parameter in project.parameters.values():
        assert isinstance(parameter.choices, tuple), parameter
        expected = {"int": int, "float": float, "choice": str}[parameter.type]
        assert type(parameter.default) is expected, parameter
    assert project.published_runs["llama31_8b"].gpu_hours == 1_460_000
    assert project.interruptions["faulty_gpu"].source == ("llama3herd2024",)
    assert project.headlines["h100_count"].notebook == "fleet"


def _columns(checked_only=False):
    """(file, column) for every column of every file: the required ones, or the ones whose
    parser checks the text (not free text or a list of words)."""
    free = (data._text, data._words, data._short_text)  # a label's length is tested on its own
    return [
        pytest.param(file, field.name, id=f"{file}:{field.name}")
        for cls, file in TABLES
        for field in fields(cls)
        if (field.metadata["parse"] not in free if checked_only else field.metadata["required"])
    ]


def _set_cell(path, line, column, value):
    """Set one cell of a CSV file and return the edited row."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    row = rows[line - 1]
    row[rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return row


def _error(root):
    with pytest.raises(DataError) as caught:
        data.load(root)
    return str(caught.value)


@pytest.mark.parametrize(("file", "column"), _columns())
def test_every_required_cell_is_required(data_copy, file, column):
    row = _set_cell(data_copy / "data" / file, 2, column, "")
    key = row[0] or "no key"
    assert _error(data_copy) == f"data/{file}, line 2 ({key}), column {column}: a value is required"


@pytest.mark.parametrize(("file", "column"), _columns(checked_only=True))
def test_every_checked_cell_is_checked(data_copy, file, column):
    row = _set_cell(data_copy / "data" / file, 2, column, "?")
    message = _error(data_copy)
    assert message.startswith(f"data/{file}, line 2 ({row[0]}), column {column}: ")
    assert "'?'" in message


def test_load_is_cached_until_a_file_changes(data_copy):
    first = data.load(data_copy)
    assert data.load(data_copy) is first
    path = data_copy / "data" / "headlines.csv"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert data.load(data_copy) is not first
