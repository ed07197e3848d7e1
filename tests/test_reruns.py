"""Fast, safe re-runs: only what changed runs, failures leave the site, runs never interleave."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.conftest import GPUFLEET, copy_project, gpufleet
from tests.test_cli import tree_digest


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory):
    """A copy of the project, run once with defaults; tests here run it again."""
    root = copy_project(tmp_path_factory.mktemp("reruns") / "project")
    gpufleet(root, "run", check=True)
    return root


def _states(output: str) -> dict[str, str]:
    """Each notebook's state as the runner reports it: 'queued' or 'up to date, not run'."""
    states = {}
    for line in output.splitlines():
        if line.startswith("[") and "]" in line:
            name, _, state = line.split("] ", 1)[1].partition(": ")
            states[name] = state.split(" (")[0]
    return states


def test_no_change_runs_nothing(project_copy):
    before = tree_digest(project_copy / "_build" / "html")
    completed = gpufleet(project_copy, "run", check=True)
    assert set(_states(completed.stdout).values()) == {"up to date, not run"}
    assert "executed in" not in completed.stdout
    assert "nothing changed: the site is up to date" in completed.stdout
    assert tree_digest(project_copy / "_build" / "html") == before


def test_one_parameter_reruns_exactly_its_notebooks(project_copy):
    completed = gpufleet(project_copy, "run", "--set", "grid_kgco2e_per_kwh=0.5", check=True)
    ran = {name for name, state in _states(completed.stdout).items() if state == "queued"}
    # The notebooks that take it.
    assert ran == {"emissions", "training", "validation", "uncertainty"}
    executed = {
        line.split(":")[0].strip()
        for line in completed.stdout.splitlines()
        if "executed in" in line
    }
    assert executed == ran
    # Back to the default: the same three run again, the others stay.
    completed = gpufleet(project_copy, "run", check=True)
    assert {n for n, s in _states(completed.stdout).items() if s == "queued"} == ran


def test_force_reruns_everything(project_copy):
    completed = gpufleet(project_copy, "run", "--force", "--no-build", check=True)
    assert set(_states(completed.stdout).values()) == {"queued"}


def test_a_change_in_data_reruns_every_notebook(project_copy):
    facts = project_copy / "data" / "facts.csv"
    original = facts.read_text()
    try:
        facts.write_text(original.replace("up 34% on 2022", "up 34 percent on 2022", 1))
        assert facts.read_text() != original
        completed = gpufleet(project_copy, "run", "--no-build", check=True)
        assert set(_states(completed.stdout).values()) == {"queued"}
    finally:
        facts.write_text(original)
        gpufleet(project_copy, "run", check=True)


def test_identical_runs_give_identical_results_and_site(project_copy):
    first = gpufleet(project_copy, "results", "--json", check=True).stdout
    site = tree_digest(project_copy / "_build" / "html")
    notebooks = {p.name: p.read_bytes() for p in (project_copy / "book").glob("*.ipynb")}
    gpufleet(project_copy, "run", "--force", check=True)
    assert gpufleet(project_copy, "results", "--json", check=True).stdout == first
    assert tree_digest(project_copy / "_build" / "html") == site
    assert {p.name: p.read_bytes() for p in (project_copy / "book").glob("*.ipynb")} == notebooks
    assert str(project_copy) not in json.dumps(notebooks["fleet.ipynb"].decode())


def test_a_failing_notebook_leaves_the_site(project_copy):
    source = project_copy / "notebooks" / "power.ipynb"
    original = source.read_text()
    notebook = json.loads(original)
    notebook["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "raise RuntimeError('boom')",
        }
    )
    before = tree_digest(project_copy / "_build" / "html")
    executed_before = (project_copy / "book" / "power.ipynb").read_bytes()
    try:
        source.write_text(json.dumps(notebook))
        completed = gpufleet(project_copy, "run")
    finally:
        source.write_text(original)
    assert completed.returncode == 1
    assert "notebook power failed in cell" in completed.stderr
    assert "RuntimeError: boom" in completed.stderr
    assert "_build/failed/power.ipynb" in completed.stderr
    assert (project_copy / "_build" / "failed" / "power.ipynb").is_file()
    assert tree_digest(project_copy / "_build" / "html") == before
    assert (project_copy / "book" / "power.ipynb").read_bytes() == executed_before


def _start_run(root, *args):
    return subprocess.Popen(
        [GPUFLEET, "--root", str(root), "run", "--force", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(process, text, timeout=60):
    """Read the process's output until ``text`` appears."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if text in line:
            return "".join(seen)
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"{text!r} never appeared in {''.join(seen)!r}")


def test_sigterm_mid_run_leaves_the_site(project_copy):
    before = tree_digest(project_copy / "_build" / "html")
    process = _start_run(project_copy)
    _wait_for(process, "queued")
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "terminated; the previous site is untouched" in stderr
    assert tree_digest(project_copy / "_build" / "html") == before
    assert not (project_copy / "_build" / ".stage").exists()
    # The lock was released: the next run goes ahead.
    gpufleet(project_copy, "run", check=True)


def test_concurrent_runs_do_not_interleave(project_copy):
    first = _start_run(project_copy)
    _wait_for(first, "queued")
    second = gpufleet(project_copy, "run", "--force")
    assert second.returncode == 1
    assert "another gpufleet run is in progress in this checkout" in second.stderr
    first.communicate(timeout=300)
    assert first.returncode == 0
    assert (project_copy / "_build" / "html" / "index.html").is_file()


def test_downloads_are_published(project_copy):
    downloads = project_copy / "_build" / "html" / "_downloads"
    (power_json,) = downloads.glob("*/power.json")
    by_name = {row["name"]: row for row in json.loads(power_json.read_text())}
    assert by_name["it_power_mw"]["headline"] is True
    assert by_name["it_power_mw"]["unit"] == "MW"
    (power_csv,) = downloads.glob("*/power.csv")
    assert power_csv.read_text().splitlines()[0] == "name,value,unit,headline,description"
    (notebook,) = downloads.glob("*/power.ipynb")
    assert json.loads(notebook.read_text())["cells"]
    html = (project_copy / "_build" / "html" / "book" / "power.html").read_text()
    assert f"_downloads/{power_csv.parent.name}/power.csv" in html
