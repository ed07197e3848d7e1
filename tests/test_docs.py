"""The contributor's guide and the README say what the files hold."""

from __future__ import annotations

import csv
import re

from tests.conftest import ROOT

GUIDE = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")


def test_the_guide_lists_the_registrys_columns_in_order():
    marker = GUIDE.index("<!-- parameters.csv columns -->")
    documented = re.search(r"`([a-z_,]+)`", GUIDE[marker:])[1].split(",")
    with (ROOT / "data" / "parameters.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert documented == header, (
        "CONTRIBUTING.md lists other columns than data/parameters.csv has: "
        "update the list under 'Adding a parameter'"
    )


def test_every_file_the_guide_names_exists():
    named = set(re.findall(r"`((?:src|data|book|notebooks|tests)/[\w./*-]+?)(?:::\w+)?`", GUIDE))
    assert len(named) > 10  # the walkthrough names its files
    missing = sorted(path for path in named if not any(ROOT.glob(path.replace("NAME", "*"))))
    assert not missing, f"CONTRIBUTING.md names files that do not exist: {missing}"


def test_the_guide_names_tests_that_exist():
    for path, name in re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", GUIDE):
        assert f"def {name}(" in (ROOT / path).read_text(encoding="utf-8"), f"{path}::{name}"
