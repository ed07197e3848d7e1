"""Shared fixtures: the project, and built copies of it (the build is the integration test)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gpufleet.build import files
from gpufleet.model import data

ROOT = Path(__file__).resolve().parents[1]
GPUFLEET = str(Path(sys.executable).with_name("gpufleet"))


def copy_project(target: Path) -> Path:
    """A copy of the project's sources (no venv, no build, no executed notebooks)."""
    return files.copy_project(ROOT, target)


#: The repository the test site says it is built from (as the Pages workflow would).
REPOSITORY = "https://github.com/example/gpufleet"


def gpufleet(
    root: Path, *args: str, check: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [GPUFLEET, "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
    if check and completed.returncode != 0:
        raise AssertionError(
            f"gpufleet {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
        )
    return completed


@pytest.fixture(scope="session")
def project() -> data.ProjectData:
    return data.load(ROOT)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """A copy of the project, run with every default and built (warnings are errors), linking
    the repository it says it was built from."""
    root = copy_project(tmp_path_factory.mktemp("site") / "project")
    gpufleet(root, "run", check=True, env={"GPUFLEET_REPOSITORY_URL": REPOSITORY})
    return root


CHANGES = ("mfu=0.3", "pue=1.3", "h100_unit_price_usd=30000")


@pytest.fixture(scope="session")
def site_changed(tmp_path_factory) -> Path:
    """A copy of the project run with the parameters in CHANGES set."""
    root = copy_project(tmp_path_factory.mktemp("site-changed") / "project")
    gpufleet(root, "run", *(arg for change in CHANGES for arg in ("--set", change)), check=True)
    return root


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A scratch copy of data/ and the bibliography, for breaking files on purpose."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book")
    shutil.copy(ROOT / "_config.yml", tmp_path)
    return tmp_path


#: Fixtures that run the report or build the site: tests using them are slow.
SLOW_FIXTURES = {
    "site",
    "site_changed",
    "project_copy",
    "mixed_copy",
    "trained",
    "served",
    "browser",
}


def pytest_collection_modifyitems(config, items):
    """Mark every test that runs notebooks or builds the site as slow, so that
    ``make test-fast`` (``-m "not slow"``) runs the unit tests alone."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
