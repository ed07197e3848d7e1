"""Fast, safe re-runs: only what changed runs, failures leave the site, runs never interleave."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import psutil
import pytest

from gpufleet import formatting
from gpufleet.build import site
from gpufleet.errors import RunError
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


@pytest.mark.parametrize(
    ("changed", "rebuilds"),
    [
        ("src/gpufleet/build/site.py", True),  # renders pages: the site is built again
        ("src/gpufleet/cli.py", False),  # shapes neither the notebooks nor the site
        ("src/gpufleet/model/fleet.py", None),  # the model: every notebook runs again
    ],
)
def test_a_change_in_the_code_reruns_what_depends_on_it(project_copy, changed, rebuilds):
    source = project_copy / changed
    original = source.read_text()
    try:
        source.write_text(original + "\n# an edit\n")
        completed = gpufleet(project_copy, "run", check=True)
        states = set(_states(completed.stdout).values())
        if rebuilds is None:
            assert states == {"queued"}
        else:
            assert states == {"up to date, not run"}
            assert ("building the site" in completed.stdout) is rebuilds
            assert ("nothing changed" in completed.stdout) is not rebuilds
    finally:
        source.write_text(original)
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


def test_an_incremental_build_writes_the_site_a_build_from_scratch_writes(project_copy):
    html = project_copy / "_build" / "html"
    try:
        incremental = gpufleet(project_copy, "run", "--set", "pue=1.3", check=True)
        # The seven chapters that take it and the introduction, which says what the numbers
        # assume; not the references or the parameters page.
        assert "building the site, 8 changed page(s)" in incremental.stdout
        site = tree_digest(html)
        # The introduction pastes the facility power from the power chapter: it was rebuilt.
        results = json.loads(gpufleet(project_copy, "results", "--json", check=True).stdout)
        facility_mw = results["facility_power_mw"]["value"]
        assert facility_mw == pytest.approx(1.3 / 1.08 * 845.8, rel=0.01)
        intro = (html / "book" / "intro.html").read_text()
        shown = formatting.prose(facility_mw, "amount")  # 1,018.1 MW as the pages write it
        assert f'<span class="pasted-text">{shown}</span> MW at the facility' in intro
        scratch = gpufleet(project_copy, "run", "--set", "pue=1.3", "--force", check=True)
        assert "building the site from scratch" in scratch.stdout
        assert tree_digest(html) == site
    finally:
        gpufleet(project_copy, "run", check=True)


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


def _processes_of(root) -> list[psutil.Process]:
    """Live processes whose command line names ``root`` (the command and what it forked)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if str(root) in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


def test_the_command_leaves_no_worker_behind(project_copy):
    """`gpufleet run` forks the notebooks' worker before anything else: used, unused (nothing
    changed, bad input) or interrupted, it is gone when the command ends (stopped by the
    command, or on its own when the command's end of its pipe closes)."""
    assert gpufleet(project_copy, "run").returncode == 0  # nothing to run
    assert gpufleet(project_copy, "run", "--set", "pue=high").returncode == 2
    ran = gpufleet(project_copy, "run", "--force", "--only", "parameters", "--no-build")
    assert ran.returncode == 0 and "parameters: executed" in ran.stdout
    process = _start_run(project_copy)
    _wait_for(process, "queued")
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=120)
    deadline = time.monotonic() + 10
    while _processes_of(project_copy) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_of(project_copy) == []


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
    header, first = power_csv.read_text().splitlines()[:2]
    assert header == "name,value,unit,headline,description,scenario,assumptions"
    assert first.endswith(",,defaults")  # no scenario, the defaults
    assert {row["assumptions"] for row in by_name.values()} == {"defaults"}
    (notebook,) = downloads.glob("*/power.ipynb")
    assert json.loads(notebook.read_text())["cells"]
    html = (project_copy / "_build" / "html" / "book" / "power.html").read_text()
    assert f"_downloads/{power_csv.parent.name}/power.csv" in html


def test_sync_tree_writes_only_what_changed(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    for folder in (source / "book", target / "book", target / "gone"):
        folder.mkdir(parents=True)
    (source / "book" / "same.md").write_text("same")
    (source / "book" / "new.md").write_text("new")
    (source / "book" / "edited.md").write_text("after")
    (target / "book" / "same.md").write_text("same")
    (target / "book" / "edited.md").write_text("before")
    (target / "gone" / "old.md").write_text("old")
    os.utime(target / "book" / "same.md", ns=(1, 1))
    changed = site.sync_tree(source, target)
    assert sorted(changed) == ["book/edited.md", "book/new.md", "gone/old.md"]
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == [
        "book",
        "book/edited.md",
        "book/new.md",
        "book/same.md",
    ]
    assert (target / "book" / "edited.md").read_text() == "after"
    assert (target / "book" / "same.md").stat().st_mtime_ns == 1  # untouched
    assert site.sync_tree(source, target) == []


def test_publishing_shares_the_unchanged_files_of_the_previous_site(tmp_path):
    built = tmp_path / "_build" / "sphinx" / "html"
    built.mkdir(parents=True)
    (built / "same.js").write_text("same")
    (built / "page.html").write_text("new page")
    site.publish(tmp_path, built, tmp_path / "no-notebooks")
    published = tmp_path / "_build" / "html"
    first_same = (published / "same.js").stat().st_ino
    first_page = published / "page.html"
    (built / "page.html").write_text("newer page")
    site.publish(tmp_path, built, tmp_path / "no-notebooks")
    assert (published / "page.html").read_text() == "newer page"
    assert (published / "same.js").stat().st_ino == first_same  # linked, not copied
    assert (published / "same.js").stat().st_ino != (built / "same.js").stat().st_ino
    assert not first_page.exists() or first_page.read_text() == "newer page"


def _fake_sphinx(monkeypatch, succeeds: bool, seen: list | None = None) -> list[bool]:
    """Replace the Sphinx build with one that records whether it was asked for all pages, and
    in ``seen``, the page it found as it set itself up and as it read."""
    calls = []

    def build(source, out, *, all_pages, before_reading=None):
        calls.append(all_pages)
        page = source / "book" / "page.md"
        if seen is not None:
            seen.append(("set up", page.read_text() if page.is_file() else None))
        if before_reading is not None:
            before_reading()
        if seen is not None:
            seen.append(("read", page.read_text()))
        (out / "_build" / "html").mkdir(parents=True, exist_ok=True)
        return succeeds, "" if succeeds else "WARNING: broken"

    monkeypatch.setattr(site.booksite, "build", build)
    monkeypatch.setattr(site.booksite, "warm", lambda: None)
    monkeypatch.setattr(site, "vendor_vega", lambda static, cache: None)
    return calls


def _waiting_for(seen: list, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(seen) < count:
        assert time.monotonic() < deadline, seen
        time.sleep(0.01)


def test_an_incremental_build_sets_sphinx_up_before_its_pages_are_staged(tmp_path, monkeypatch):
    """Sphinx is set up on the sources the last build left, while the notebooks run; it reads
    the pages staged when they are done."""
    source, workspace = tmp_path / "src", tmp_path / "_build" / "sphinx"
    (source / "book").mkdir(parents=True)
    (source / "book" / "page.md").write_text("# Before")
    seen: list = []
    calls = _fake_sphinx(monkeypatch, succeeds=True, seen=seen)
    site.build(source, workspace, key="k1", log=print)  # from scratch: staged, then set up
    assert seen == [("set up", "# Before"), ("read", "# Before")]
    seen.clear()
    building = site.Build(workspace, key="k1", log=print)
    time.sleep(0.3)
    assert seen == []  # every processor is running notebooks
    building.set_up()
    _waiting_for(seen, 1)
    assert seen == [("set up", "# Before")]
    (source / "book" / "page.md").write_text("# After")  # the notebooks' pages, staged
    html = building.finish(source)
    assert seen == [("set up", "# Before"), ("read", "# After")]
    assert calls == [True, False] and html == workspace / "out" / "_build" / "html"
    assert (workspace / site.BUILT_FROM).read_text() == "k1"


def test_a_cancelled_build_leaves_the_workspace_as_it_was(tmp_path, monkeypatch):
    source, workspace = tmp_path / "src", tmp_path / "_build" / "sphinx"
    (source / "book").mkdir(parents=True)
    (source / "book" / "page.md").write_text("# Before")
    seen: list = []
    calls = _fake_sphinx(monkeypatch, succeeds=True, seen=seen)
    site.build(source, workspace, key="k1", log=print)
    (source / "book" / "page.md").write_text("# After")
    site.Build(workspace, key="k1", log=print).cancel()  # a notebook failed: nothing staged
    set_up = site.Build(workspace, key="k1", log=print)
    set_up.set_up()
    _waiting_for(seen, 3)
    set_up.cancel()  # after Sphinx was set up
    site.Build(workspace, key="other", log=print).cancel()  # one that was to start afresh
    assert seen[2:] == [("set up", "# Before")] and calls == [True, False]
    assert (workspace / "src" / "book" / "page.md").read_text() == "# Before"
    assert (workspace / site.BUILT_FROM).read_text() == "k1"  # still to be trusted
    site.build(source, workspace, key="k1", log=print)
    assert calls == [True, False, False] and seen[-1] == ("read", "# After")


def test_a_failed_build_makes_the_next_one_start_from_scratch(tmp_path, monkeypatch):
    source, workspace = tmp_path / "src", tmp_path / "_build" / "sphinx"
    (source / "book").mkdir(parents=True)
    (source / "book" / "page.md").write_text("# A page")
    logged = []
    calls = _fake_sphinx(monkeypatch, succeeds=True)
    site.build(source, workspace, key="k1", log=logged.append)
    site.build(source, workspace, key="k1", log=logged.append)
    site.build(source, workspace, key="k2", log=logged.append)  # the pages' structure changed
    site.build(source, workspace, key="k2", from_scratch=True, log=logged.append)
    assert calls == [True, False, True, True]
    assert [line for line in logged if line.startswith("building")] == [
        "building the site from scratch (warnings are errors)",
        "building the site, 0 changed page(s) (warnings are errors)",
        "building the site from scratch (warnings are errors)",
        "building the site from scratch (warnings are errors)",
    ]
    calls = _fake_sphinx(monkeypatch, succeeds=False)
    with pytest.raises(RunError, match="the book build failed"):
        site.build(source, workspace, key="k2", log=logged.append)
    assert not (workspace / site.BUILT_FROM).exists()
    calls = _fake_sphinx(monkeypatch, succeeds=True)
    site.build(source, workspace, key="k2", log=logged.append)
    assert calls == [True]


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("git@github.com:owner/report.git", "https://github.com/owner/report"),
        ("https://gitlab.example.org/team/report.git/", "https://gitlab.example.org/team/report"),
        ("/srv/git/report", None),  # cloned from a folder: nothing to link
        (None, None),  # no remote
    ],
)
def test_the_repository_link_comes_from_gits_origin(tmp_path, monkeypatch, origin, expected):
    monkeypatch.delenv(site.REPOSITORY_VARIABLE, raising=False)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    if origin:
        subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", origin], check=True)
    assert site.repository_url(tmp_path) == expected


def test_the_repository_link_named_by_the_workflow_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(site.REPOSITORY_VARIABLE, "https://github.com/meta-watch/gpufleet")
    assert site.repository_url(tmp_path) == "https://github.com/meta-watch/gpufleet"
    monkeypatch.setenv(site.REPOSITORY_VARIABLE, "github.com/no-scheme")
    with pytest.raises(RunError, match="GPUFLEET_REPOSITORY_URL='github.com/no-scheme' is not"):
        site.repository_url(tmp_path)


def test_a_bad_repository_address_stops_the_run_before_anything_runs(project_copy):
    before = tree_digest(project_copy / "_build" / "html")
    completed = gpufleet(
        project_copy, "run", "--force", env={site.REPOSITORY_VARIABLE: "ftp://example.org/x"}
    )
    assert completed.returncode == 1
    assert "GPUFLEET_REPOSITORY_URL='ftp://example.org/x' is not" in completed.stderr
    assert "executed in" not in completed.stdout
    assert tree_digest(project_copy / "_build" / "html") == before
