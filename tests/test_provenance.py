"""Results that say what they were computed with, and no site that mixes assumptions unannounced."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import pytest

from gpufleet.book import notebooks
from gpufleet.build import provenance
from gpufleet.build.provenance import INPUTS, UNRECORDED, Assumptions, Difference
from gpufleet.build.results import read_notebook
from gpufleet.model import params
from gpufleet.model.headlines import compute_all
from tests.conftest import ROOT, copy_project, gpufleet
from tests.test_build import _text


def test_assumptions_round_trip_through_a_notebooks_metadata():
    wanted = Assumptions({"pue": 1.3, "mfu": 0.3}, "high-cost", "abc123")
    notebook = {"cells": [], "metadata": {"kernelspec": {"name": "python3"}}}
    provenance.record(notebook, wanted)
    assert notebook["metadata"]["kernelspec"] == {"name": "python3"}  # left as it was
    assert provenance.read(json.loads(json.dumps(notebook))) == wanted


def test_a_plain_papermill_notebook_records_its_injected_parameters():
    notebook = {"metadata": {"papermill": {"parameters": {"pue": 1.3}}}}
    assert provenance.read(notebook) == Assumptions({"pue": 1.3})
    assert provenance.read({"metadata": {}}) is None


def test_changed_leaves_out_values_equal_to_the_defaults(project):
    found = Assumptions({"pue": project.parameters["pue"].default, "mfu": 0.3})
    assert found.changed(project) == {"mfu": 0.3}
    assert found.value("pue", project) == 1.08
    assert found.value("avg_power_fraction", project) == 0.75  # not set: the default


def test_assumptions_in_words_and_for_a_spreadsheet(project):
    assert provenance.in_words(Assumptions(), project) == "the report's defaults"
    assert provenance.compact(Assumptions({"pue": 1.08}), project) == "defaults"
    assert provenance.compact(None, project) == "not recorded"
    found = Assumptions({"pue": 1.3, "h100_count": 360000}, "mine")
    assert provenance.compact(found, project) == "h100_count=360000; pue=1.3"
    assert provenance.in_words(found, project) == (
        "the mine scenario: NVIDIA H100 GPUs at the end of 2024 (h100_count) = 360,000 "
        "(default 350,000); power usage effectiveness (pue) = 1.3 (default 1.08)"
    )


def test_differences_compare_only_what_a_chapter_takes(project):
    before = Assumptions({"pue": 1.3, "mfu": 0.3}, None, "v1")
    wanted = Assumptions({"mfu": 0.3}, None, "v1")
    assert provenance.differences(before, wanted, ["pue", "mfu"], project) == [
        Difference("pue", 1.3, 1.08)
    ]
    assert provenance.differences(before, wanted, ["mfu"], project) == []
    assert provenance.differences(before, Assumptions({"mfu": 0.3}, None, "v2"), [], project) == [
        Difference(INPUTS)
    ]
    assert provenance.differences(None, wanted, [], project) == [Difference(UNRECORDED)]
    shown = provenance.for_terminal([Difference("pue", 1.3, 1.08), Difference(INPUTS)])
    assert shown == "pue = 1.3 (this run: 1.08); computed from other data or code"


def test_chapters_agree_when_each_parameter_has_one_value_where_it_is_taken(project):
    takes = {"fleet": ["h100_count"], "power": ["h100_count", "pue"], "costs": ["pue"]}
    same = {
        "fleet": Assumptions({}, None, "v1"),
        "power": Assumptions({"pue": 1.3}, None, "v1"),
        "costs": Assumptions({"pue": 1.3}, None, "v1"),
    }
    assert provenance.disagreements(same, takes, project) == []
    assert provenance.combined(same).changed(project) == {"pue": 1.3}

    pue_differs = {**same, "costs": Assumptions({}, None, "v1")}
    (problem,) = provenance.disagreements(pue_differs, takes, project)
    assert problem == "power usage effectiveness (pue) is 1.3 in power but 1.08 in costs"

    versions = {**same, "fleet": Assumptions({}, None, "v2")}
    (problem,) = provenance.disagreements(versions, takes, project)
    assert problem.startswith("computed from different versions of the data or code")

    unknown = {**same, "fleet": None}
    assert provenance.disagreements(unknown, takes, project) == [
        "no record of what fleet were computed with"
    ]


def test_page_notes_say_what_a_page_departs_from(project):
    assert provenance.page_note(Assumptions(), project) is None
    assert provenance.page_note(Assumptions({"pue": 1.08}), project) is None
    note = provenance.page_note(Assumptions({"pue": 1.3}), project)
    assert note.startswith(":::{note}") and "(pue) = 1.3 (default 1.08)" in note
    warning = provenance.page_note(
        Assumptions(), project, left_behind=[Difference("pue", 1.08, 1.3)]
    )
    assert warning.startswith(":::{warning}")
    assert "(pue) is 1.08 here but 1.3 in the chapters computed last" in warning


def test_many_changed_values_are_listed(project):
    found = Assumptions({"pue": 1.3, "mfu": 0.3, "h100_count": 360000}, "mine")
    note = provenance.page_note(found, project)
    assert ", the mine scenario:\n\n- " in note
    assert note.count("\n- ") == 3 and "(default 1.08)." in note


def test_the_introduction_names_the_assumptions_or_the_mix(project):
    takes = {"fleet": ["h100_count"], "power": ["pue"]}
    defaults = {"fleet": Assumptions(), "power": Assumptions()}
    assert "default assumptions" in provenance.intro_text(defaults, takes, project)
    changed = {"fleet": Assumptions(), "power": Assumptions({"pue": 1.3})}
    text = provenance.intro_text(changed, takes, project)
    assert "not the report's central estimates" in text and "(pue) = 1.3" in text
    mixed = provenance.intro_text(changed, takes, project, mixed=True)
    assert "not all computed with the same assumptions" in mixed
    assert "fleet: the report's defaults; power: power usage effectiveness" in mixed


def test_each_chapter_takes_every_parameter_its_headlines_depend_on(project):
    """A chapter computes with the defaults for what it does not take, so a parameter that
    moves one of its headlines and that it does not take would leave the chapter out of step
    with the others after `--set` (and the run's check for mixed sites would not see it)."""
    users = notebooks.parameter_users(ROOT)
    defaults = params.defaults(project)
    base = compute_all(defaults, project)
    missing = []
    for name, param in project.parameters.items():
        if param.type == "choice":
            others = [choice for choice in param.choices if choice != param.default]
        else:
            others = [v for v in (param.low, param.high) if v is not None and v != param.default]
        for other in others:
            try:
                values = params.validate({**defaults, name: other}, project)
            except params.ParameterError:
                continue  # a choice the other defaults rule out
            moved = compute_all(values, project)
            for key, headline in project.headlines.items():
                if not math.isclose(float(moved[key]), float(base[key]), rel_tol=1e-12):
                    if headline.notebook not in users.get(name, []):
                        missing.append(f"{name} moves {key}")
    assert not missing, (
        "add these parameters to the parameters cell of the headline's notebook "
        f"(notebooks/NAME.ipynb, then gpufleet strip): {sorted(set(missing))}"
    )


@pytest.mark.slow
def test_read_notebook_reads_a_plain_papermill_run(tmp_path, project):
    import papermill

    out = tmp_path / "power.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "power.ipynb"),
        str(out),
        parameters={"pue": 1.3},
        cwd=str(ROOT),
        progress_bar=False,
    )
    found = read_notebook(out)
    assert found.assumptions == Assumptions({"pue": 1.3})
    assert found.numbers["pue"] == 1.3
    expected = compute_all({**params.defaults(project), "pue": 1.3}, project)["facility_power_mw"]
    assert found.numbers["facility_power_mw"] == pytest.approx(expected)


# The runner, on real runs.


def _page(root, name):
    return _text((root / "_build" / "html" / "book" / f"{name}.html").read_text())


def test_results_and_pages_say_what_they_were_computed_with(site, site_changed):
    rows = list(csv.DictReader(io.StringIO(gpufleet(site_changed, "results", "--csv").stdout)))
    power = next(row for row in rows if row["key"] == "facility_power_mw")
    assert power["assumptions"] == "pue=1.3"
    fleet = next(row for row in rows if row["key"] == "h100_count")
    assert fleet["assumptions"] == "mfu=0.3"  # the fleet chapter takes mfu, not pue
    report = json.loads(gpufleet(site_changed, "assumptions", "--json", check=True).stdout)
    assert report["consistent"] and report["problems"] == []
    assert report["changed"] == {"h100_unit_price_usd": 30000.0, "mfu": 0.3, "pue": 1.3}
    assert report["chapters"]["power"]["parameters"] == {"pue": 1.3}
    text = gpufleet(site_changed, "results", check=True).stdout
    assert text.startswith("Computed with ")

    note = "The numbers on this page use other assumptions than the report"
    assert note in _page(site_changed, "power")
    assert "power usage effectiveness (pue) = 1.3 (default 1.08)" in _page(site_changed, "power")
    assert note not in _page(site, "power")
    intro = _page(site_changed, "intro")
    assert "These numbers are not the report" in intro and "(pue) = 1.3" in intro
    assert "Every number on this site is computed with the report" in _page(site, "intro")
    assert "% gpufleet" not in intro
    # A chapter's own download says so too, on every row.
    (power_csv,) = (site_changed / "_build" / "html" / "_downloads").glob("*/power.csv")
    assert {row["assumptions"] for row in csv.DictReader(io.StringIO(power_csv.read_text()))} == {
        "pue=1.3"
    }


def test_the_introduction_links_every_headline_as_csv(site, project):
    html = (site / "_build" / "html" / "book" / "intro.html").read_text()
    link = re.search(r'href="([^"]*headlines\.csv)"', html)
    assert link, "no link to the headlines' CSV"
    path = (site / "_build" / "html" / "book" / link[1]).resolve()
    rows = list(csv.DictReader(path.open()))
    assert [row["key"] for row in rows] == list(project.headlines)
    assert {row["assumptions"] for row in rows} == {"defaults"}
    assert rows[0]["p5"] and float(rows[0]["p5"]) <= float(rows[0]["p95"])


@pytest.fixture(scope="module")
def mixed_copy(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("mixed") / "project")
    gpufleet(root, "run", "--set", "pue=1.3", check=True)
    return root


def test_only_is_refused_when_it_would_mix_assumptions(mixed_copy):
    before = (mixed_copy / "_build" / "html" / "book" / "fleet.html").read_bytes()
    completed = gpufleet(mixed_copy, "run", "--only", "power")
    assert completed.returncode == 2
    assert "--only power would leave other chapters computed with other assumptions" in (
        completed.stderr
    )
    assert "pue = 1.3 (this run: 1.08)" in completed.stderr
    assert "--allow-mixed" in completed.stderr and "nothing was run" in completed.stderr
    assert (mixed_copy / "_build" / "html" / "book" / "fleet.html").read_bytes() == before
    # Keeping the earlier value explicitly is consistent, so it is not refused.
    gpufleet(mixed_copy, "run", "--only", "power", "--set", "pue=1.3", check=True)


def test_allow_mixed_publishes_a_site_that_says_so(mixed_copy):
    completed = gpufleet(mixed_copy, "run", "--only", "power", "--allow-mixed", check=True)
    assert "mixed site:" in completed.stdout
    warning = "This page was not computed with the same assumptions as the rest of the site"
    costs = _page(mixed_copy, "costs")
    assert warning in costs
    assert "(pue) is 1.3 here but 1.08 in the chapters computed last" in costs
    assert warning not in _page(mixed_copy, "power")  # the page this run computed
    assert warning not in _page(mixed_copy, "fleet")  # takes no pue: nothing differs
    assert "not all computed with the same assumptions" in _page(mixed_copy, "intro")
    shown = gpufleet(mixed_copy, "results", check=True)
    assert "warning: the chapters were not all computed with the same assumptions" in (shown.stderr)
    assert not json.loads(gpufleet(mixed_copy, "assumptions", "--json").stdout)["consistent"]
    # A plain run brings every chapter back to one set of assumptions.
    gpufleet(mixed_copy, "run", check=True)
    assert warning not in _page(mixed_copy, "costs")
    assert json.loads(gpufleet(mixed_copy, "assumptions", "--json").stdout)["consistent"]


def test_every_named_scenario_runs_and_builds_and_says_so(mixed_copy, project):
    """Each scenario of data/scenarios/ runs every chapter and builds (the high-cost one once
    left the Monte Carlo nothing to draw for the H100-hour), and the pages name it."""
    from gpufleet.model import scenarios

    for name in scenarios.named(ROOT):
        completed = gpufleet(mixed_copy, "run", "--scenario", name)
        assert completed.returncode == 0, f"--scenario {name}:\n{completed.stderr}"
        report = json.loads(gpufleet(mixed_copy, "assumptions", "--json", check=True).stdout)
        assert report["consistent"], (name, report["problems"])
        assert report["scenario"] == name
        assert f"the {name} scenario" in _page(mixed_copy, "intro")
    gpufleet(mixed_copy, "run", check=True)
