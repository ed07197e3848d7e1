"""The gpufleet command: bad input refused before anything runs; params and results."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

from tests.conftest import GPUFLEET, gpufleet


def tree_digest(folder) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "mfuu=0.3"], "unknown parameter 'mfuu'; did you mean 'mfu'?"),
        (["--set", "mfu=high"], "mfu: 'high' is not a number; allowed: a number from 0.01 to 1"),
        (["--set", "mfu=1.2"], "mfu: '1.2' is out of range; allowed: a number from 0.01 to 1"),
        (["--set", "h100_count=3.5"], "h100_count: '3.5' is not a whole number"),
        (
            ["--set", "h100_count=-1"],
            "h100_count: '-1' is out of range; allowed: a whole number of at least 1",
        ),
        (
            ["--set", "remainder_gpu=tpu"],
            "remainder_gpu: 'tpu' is not an allowed choice; allowed: a100_sxm_80gb",
        ),
        (
            ["--set", "h100_equivalents_total=100000"],
            "h100_equivalents_total: 100,000 is below h100_count (350,000)",
        ),
        (["--set", "mfu"], "--set 'mfu': expected NAME=VALUE"),
        (["--set", "pue=0.9"], "pue: '0.9' is out of range; allowed: a number from 1 to 3"),
        (
            ["--set", "h100_unit_price_usd=-5"],
            "h100_unit_price_usd: '-5' is out of range; allowed: a number of at least 0",
        ),
        (
            ["--set", "avg_power_fraction=1.2"],
            "avg_power_fraction: '1.2' is out of range; allowed: a number from 0 to 1",
        ),
        (
            ["--set", "useful_life_years=0"],
            "useful_life_years: '0' is out of range; allowed: a number from 0.5 to 20",
        ),
        (
            ["--set", "h100_unit_price_usd=40000"],
            "h100_unit_price_usd: 40,000 is more than an eighth of h100_server_price_usd",
        ),
        (
            ["--set", "equivalence_metric=fp8_dense"],
            "remainder_gpu: a100_sxm_80gb has no dense FP8 throughput figure",
        ),
        (
            ["--only", "fleet", "--set", "pue=1.2"],
            "pue: not taken by the selected notebook(s) fleet; "
            "it is used by costs, emissions, history, power",
        ),
        (["--only", "flet"], "--only 'flet': no such notebook; did you mean 'fleet'?"),
        (
            ["--only", "parameters", "--set", "mfu=0.3"],
            "mfu: not taken by the selected notebook(s) parameters; it is used by fleet",
        ),
        (
            ["--scenario", "optimistic"],
            "--scenario 'optimistic': no such scenario; known scenarios: all-a100, "
            "all-mi300x, announced, high-cost, low-cost",
        ),
    ],
)
def test_bad_input_is_refused_and_the_site_untouched(site, args, message):
    before = tree_digest(site / "_build" / "html")
    executed_before = (site / "book" / "fleet.ipynb").read_bytes()
    completed = gpufleet(site, "run", *args)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert "nothing was run" in completed.stderr
    assert "queued" not in completed.stdout
    assert tree_digest(site / "_build" / "html") == before
    assert (site / "book" / "fleet.ipynb").read_bytes() == executed_before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("parameters:\n  mfuu: 0.3\n", "unknown parameter 'mfuu'; did you mean 'mfu'?"),
        ("parameters:\n  mfu: 7\n", "mfu: 7 is out of range"),
        ("parameters: [mfu]\n", "'parameters' must be a mapping"),
        ("parameters:\n  mfu: 0.3\nextra: 1\n", "unknown key(s) extra"),
        ("parameters: {mfu: [0.3\n", "not valid YAML"),
        ("!!python/object/apply:os.system ['echo hacked']\n", "not valid YAML"),
    ],
)
def test_bad_scenario_file(site, tmp_path, content, message):
    scenario = tmp_path / "mine.yaml"
    scenario.write_text(content)
    completed = gpufleet(site, "run", "--scenario", str(scenario))
    assert completed.returncode == 2
    assert f"scenario {scenario}" in completed.stderr
    assert message in completed.stderr
    assert "hacked" not in completed.stdout


def test_bad_jobs_value(site):
    completed = gpufleet(site, "run", "--jobs", "0")
    assert completed.returncode == 2
    assert (
        "--jobs: invalid _positive_int value" in completed.stderr
        or "at least 1" in completed.stderr
    )


def test_params_json_lists_every_parameter(site, project):
    listed = json.loads(gpufleet(site, "params", "--json", check=True).stdout)
    assert set(listed) == set(project.parameters)
    mfu = listed["mfu"]
    assert mfu["default"] == 0.41
    assert mfu["unit"] == "fraction"
    assert (mfu["low"], mfu["high"]) == (0.38, 0.43)
    assert mfu["notebooks"] == ["fleet", "training", "uncertainty"]
    assert mfu["source"] == ["llama3herd2024"]
    assert listed["remainder_gpu"]["choices"] == ["a100_sxm_80gb", "mi300x", "h200_sxm"]


def test_params_text(site):
    shown = gpufleet(site, "params", check=True).stdout
    assert "mfu = 0.41 fraction\n" in shown
    assert "allowed: a number from 0.01 to 1; sourced range 0.38 to 0.43" in shown
    assert "used by: fleet, training, uncertainty" in shown


def test_results_json(site, project):
    found = json.loads(gpufleet(site, "results", "--json", check=True).stdout)
    assert set(found) == set(project.headlines)
    h100 = found["h100_count"]
    assert {k: h100[k] for k in ("value", "unit", "notebook", "description")} == {
        "value": 350000,
        "unit": "count",
        "notebook": "fleet",
        "description": "NVIDIA H100 GPUs in the fleet",
    }
    # By dense BF16 the fleet is its 590,000 H100 equivalents x 989 TFLOP/s, x 0.41 sustained.
    assert found["peak_bf16_dense_exaflops"]["value"] == pytest.approx(583.51)
    assert found["effective_bf16_exaflops"]["value"] == pytest.approx(239.2391)
    assert found["effective_bf16_exaflops"]["unit"] == "EFLOP/s"


def test_results_text(site):
    shown = gpufleet(site, "results", check=True).stdout
    assert "effective_bf16_exaflops: 239.2 EFLOP/s" in shown


def test_results_before_any_run(tmp_path):
    from tests.conftest import copy_project

    root = copy_project(tmp_path / "fresh")
    completed = gpufleet(root, "results")
    assert completed.returncode == 1
    assert "no results yet" in completed.stderr
    assert json.loads(gpufleet(root, "results", "--json", check=True).stdout) == {}


def test_output_into_a_pipe_nobody_reads_ends_quietly(site):
    """`gpufleet params | head -1`: the reader goes away; no traceback, the shell's status."""
    process = subprocess.Popen(
        [GPUFLEET, "--root", str(site), "params"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert stderr == b""
    assert process.returncode == 141


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "pue=1.2", "--set", "pue=1.3"], "--set pue is given twice ('1.2' and '1.3')"),
        (["--set", "pue="], "pue: the value is empty; allowed: a number from 1 to 3"),
    ],
)
def test_a_repeated_or_empty_setting_is_refused(site, args, message):
    completed = gpufleet(site, "run", *args)
    assert completed.returncode == 2
    assert message in completed.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("  pue: 1.2\n  pue: 1.3\n", "the key 'pue' is given twice"),
        ("  pue:\n", "pue: the value is empty"),
    ],
)
def test_a_scenario_file_with_a_repeated_or_empty_key_is_refused(site, tmp_path, content, message):
    path = tmp_path / "mine.yaml"
    path.write_text("description: x\nsources: [meta2024sustainability]\nparameters:\n" + content)
    completed = gpufleet(site, "run", "--scenario", str(path))
    assert completed.returncode == 2
    assert message in completed.stderr
    assert str(path) in completed.stderr  # the file is named, not "<unicode string>"


def test_results_export_to_a_spreadsheet(site, tmp_path, project):
    import csv

    out = tmp_path / "results.csv"
    gpufleet(site, "results", "--csv", "--out", str(out), check=True)
    rows = list(csv.DictReader(out.open()))
    assert [r["key"] for r in rows] == list(project.headlines)
    assert list(rows[0]) == [
        *("key", "description", "value", "p5", "p50", "p95", "unit", "chapter"),
        *("scenario", "assumptions"),
    ]
    assert {row["assumptions"] for row in rows} == {"defaults"}
    found = json.loads(gpufleet(site, "results", "--json", check=True).stdout)
    energy = next(r for r in rows if r["key"] == "annual_energy_twh")
    assert float(energy["value"]) == found["annual_energy_twh"]["value"]
    assert float(energy["p5"]) == found["annual_energy_twh"]["p5"]
    assert energy["chapter"] == "power"


def test_params_and_results_fit_an_80_column_terminal(site):
    for args in (["params"], ["results"], ["params", "pue", "mfu"]):
        shown = gpufleet(site, *args, check=True, env={"COLUMNS": "80"}).stdout
        too_wide = [line for line in shown.splitlines() if len(line) > 80]
        assert not too_wide, (args, too_wide[:3])
    assert gpufleet(site, "params", "pue", check=True).stdout.startswith("pue = 1.08 ratio\n")
    assert "90% of samples:" in gpufleet(site, "results", check=True).stdout
