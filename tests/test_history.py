"""The fleet over time, against Meta's accounts and its peers: hand-computed shares, the
timeline's points against data/, and the chapter's run."""

from __future__ import annotations

import dataclasses

import pytest

from gpufleet.model import data, fleet, headlines, history
from gpufleet.model.params import defaults
from tests.conftest import gpufleet


def _small(project, accounts):
    """The project with Meta's accounts replaced by ``{year: (capex, electricity MWh)}``."""
    return dataclasses.replace(
        project,
        meta_accounts={
            year: data.YearAccount(year, capex, ("x",), mwh, ("x",), None, None, None)
            for year, (capex, mwh) in accounts.items()
        },
    )


def test_shares_of_metas_accounts_by_hand(project):
    # 1,000 MWh reported in 2023; a fleet using 0.25 GWh is a quarter of it.
    small = _small(project, {2023: (6e9, 1_000.0), 2024: (4e9, None)})
    assert history.latest_electricity_year(small) == 2023
    assert history.meta_dc_electricity_share(0.25e-3, small) == pytest.approx(0.25)
    # 2.5e9 of H100s against 6e9 + 4e9 spent in 2023 and 2024: a quarter.
    assert history.meta_capex_usd(small) == 10e9
    assert history.h100_capex_share_of_meta_capex(2.5e9, small) == pytest.approx(0.25)


def test_the_headline_shares_at_defaults(project):
    numbers = headlines.compute_all(defaults(project), project)
    result = fleet.evaluate(defaults(project), project, cost_=True)
    # 5.5569 TWh a year against Meta's 14,975,435 MWh in 2023.
    assert numbers["meta_dc_electricity_share"] == pytest.approx(
        numbers["annual_energy_twh"] / 14.975435
    )
    assert numbers["meta_dc_electricity_share"] == pytest.approx(0.3711, abs=1e-4)
    # The H100s' servers, network and buildings against USD 28.103 + 39.23 billion.
    assert numbers["h100_capex_share_of_meta_capex"] == pytest.approx(
        result.cost[0].capex_usd / (28.103e9 + 39.23e9)
    )


def test_timeline_points_match_data(project):
    values = defaults(project)
    points = history.timeline(values, project)
    assert [p.milestone.key for p in points] == sorted(
        project.milestones, key=lambda k: project.milestones[k].date
    )
    by_key = {p.milestone.key: p for p in points}
    # The complete RSC: 16,000 A100s, worth 16,000 x 312 / 989 H100s, in DGX A100 servers.
    rsc = by_key["rsc_complete"]
    assert rsc.gpus == 16_000
    assert rsc.h100_equivalents == pytest.approx(16_000 * 312 / 989)
    assert rsc.facility_power_mw == pytest.approx(16_000 * 400 * 2.03 / 0.9 * 1.08 / 1e6)
    assert rsc.estimated == ""
    # A milestone given as power: H100s at the fleet's facility power per H100.
    gw = by_key["compute_2025"]
    per_h100_mw = 700 * 1.82 / 0.9 * 1.08 / 1e6
    assert gw.gpus == pytest.approx(1_000 / per_h100_mw)
    assert gw.facility_power_mw == 1_000 and "from the power" in gw.estimated
    # GPUs of an unnamed kind are taken to be H100s, and it says so.
    assert "taken to be H100s" in by_key["gpus_end_2025"].estimated


def test_a_milestone_naming_an_unknown_gpu_is_refused(data_copy):
    path = data_copy / "data" / "timeline.csv"
    path.write_text(path.read_text().replace(",installed,h100_sxm,49152", ",installed,b300,49152"))
    with pytest.raises(data.DataError, match="column accelerator: 'b300' is not in"):
        data.load(data_copy)


def test_a_capex_without_its_source_is_refused(data_copy):
    path = data_copy / "data" / "meta_accounts.csv"
    path.write_text(path.read_text().replace("39230000000,meta2025q4results", "39230000000,"))
    with pytest.raises(data.DataError, match=r"line 4 \(2024\), column capex_source"):
        data.load(data_copy)


@pytest.mark.slow
def test_the_chapter_runs_with_a_scenario_and_a_setting(site):
    completed = gpufleet(
        site,
        "run",
        "--only",
        "history",
        "--scenario",
        "high-cost",
        "--set",
        "h100_server_price_usd=300000",
        "--no-build",
        "--allow-mixed",  # the other chapters keep the defaults
        check=True,
    )
    assert "history: executed" in completed.stdout
    gpufleet(site, "run", check=True)  # back to the defaults for the other tests
