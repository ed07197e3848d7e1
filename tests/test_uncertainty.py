"""Uncertainty: the Monte Carlo, percentiles, the vectorized model, and scenarios."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from gpufleet.build.results import glued_values
from gpufleet.model import data, headlines, scenarios, sensitivity, uncertainty
from gpufleet.model.params import ParameterError, defaults
from tests.conftest import ROOT, gpufleet


@pytest.fixture(scope="module")
def table(project):
    return uncertainty.summary(defaults(project), project, 50_000, seed=7)


def test_percentiles_are_ordered(project, table):
    for row in table.itertuples():
        assert row.p5 <= row.p50 <= row.p95, row.key


def test_every_default_is_a_central_estimate(table):
    """For every headline the defaults' value lies within the 5th to 95th percentiles and
    within 15% of the median: the defaults are the middle of the sourced ranges, not a corner."""
    for row in table.itertuples():
        assert row.p5 <= row.value <= row.p95, (row.key, row.value, row.p5, row.p95)
        assert abs(row.value - row.p50) <= 0.15 * abs(row.p50), (row.key, row.value, row.p50)


def test_the_mix_and_the_total_are_drawn(project, table):
    """The fleet's composition moves its GPU count and its peak compute in the Monte Carlo."""
    by_key = table.set_index("key")
    for key in ("fleet_gpu_count", "peak_bf16_dense_exaflops", "h100_equivalents_total"):
        assert by_key.loc[key, "p5"] < by_key.loc[key, "p95"], key
    assert {"mi300x_count", "h100_equivalents_total", "h100_count"} <= set(
        uncertainty.varied(defaults(project), project)
    )


def test_collapsed_ranges_collapse_the_interval(project):
    collapsed = dataclasses.replace(
        project,
        parameters={
            name: dataclasses.replace(param, low=param.default, high=param.default)
            if param.distribution
            else param
            for name, param in project.parameters.items()
        },
    )
    table = uncertainty.summary(defaults(project), collapsed, 1_000, seed=1)
    for row in table.itertuples():
        assert row.p5 == pytest.approx(row.value) and row.p95 == pytest.approx(row.value)


def test_same_seed_same_numbers(project):
    first = uncertainty.summary(defaults(project), project, 10_000, seed=3)
    again = uncertainty.summary(defaults(project), project, 10_000, seed=3)
    other = uncertainty.summary(defaults(project), project, 10_000, seed=4)
    assert first.equals(again)
    assert not first.equals(other)


def test_user_set_parameters_are_held_fixed(project):
    values = {**defaults(project), "h100_unit_price_usd": 30_000.0}
    assert "h100_unit_price_usd" not in uncertainty.varied(values, project)
    assert "h100_count" in uncertainty.varied(values, project)
    simulated = uncertainty.simulate(values, project, 5_000, seed=1)
    # Every sample prices its H100s at the 30,000 dollars the user set.
    np.testing.assert_allclose(simulated["gpu_capex_usd"] / simulated["h100_count"], 30_000)
    assert simulated["h100_count"].std() > 0


def test_vectorized_model_equals_scalar_model(project):
    values = defaults(project)
    draws = uncertainty.sample(project, uncertainty.varied(values, project), 25, seed=11)
    vectorized = headlines.compute_all({**values, **draws}, project)
    for i in range(25):
        scalar = headlines.compute_all(
            {**values, **{k: float(v[i]) for k, v in draws.items()}}, project
        )
        for key, value in scalar.items():
            assert np.broadcast_to(vectorized[key], (25,))[i] == pytest.approx(value), key


def test_results_json_carries_percentiles(site):
    found = json.loads(gpufleet(site, "results", "--json", check=True).stdout)
    energy = found["annual_energy_twh"]
    assert energy["p5"] <= energy["p50"] <= energy["p95"]
    assert set(energy) == {"value", "unit", "notebook", "description", "p5", "p50", "p95"}
    glued = glued_values(site / "book" / "uncertainty.ipynb")
    assert energy["p95"] == glued["annual_energy_twh__p95"]


def test_uncertainty_chapter_matches_the_package(site, project):
    glued = glued_values(site / "book" / "uncertainty.ipynb")
    values = defaults(project)
    model_values = {k: v for k, v in values.items() if k not in ("samples", "seed")}
    table = uncertainty.summary(model_values, project, values["samples"], values["seed"])
    for row in table.itertuples():
        assert glued[f"{row.key}__p50"] == pytest.approx(row.p50), row.key


@pytest.mark.parametrize("name", scenarios.named(ROOT))
def test_each_scenario_loads_and_runs(project, name, tmp_path_factory):
    loaded = scenarios.load(scenarios.resolve(ROOT, name), project)
    assert loaded.description and loaded.sources
    numbers = headlines.compute_all({**defaults(project), **loaded.parameters}, project)
    assert all(np.isfinite(float(v)) for v in numbers.values())


def test_scenarios_order_the_cost(project):
    by_name = {s.name: s for s in scenarios.load_all(project)}
    cost = {
        name: float(
            headlines.compute_all({**defaults(project), **s.parameters}, project)[
                "cost_per_gpu_hour_usd"
            ]
        )
        for name, s in by_name.items()
    }
    assert cost["low-cost"] < cost["announced"] < cost["high-cost"]


@pytest.mark.parametrize("key", ["fleet_capex_usd", "cost_per_gpu_hour_usd", "annual_energy_twh"])
def test_the_high_cost_scenario_costs_more_and_the_low_cost_one_less(project, key):
    by_name = {s.name: s for s in scenarios.load_all(project)}
    base = defaults(project)
    value = {
        name: float(headlines.compute_all({**base, **by_name[name].parameters}, project)[key])
        for name in ("low-cost", "high-cost")
    }
    central = float(headlines.compute_all(base, project)[key])
    assert value["low-cost"] < central < value["high-cost"], value


def test_scenarios_change_assumptions_not_the_fleet(project):
    """The cost scenarios keep the fleet the defaults describe: same GPUs of every kind."""
    fleet_parameters = {"h100_count", "h100_equivalents_total", "mi300x_count", "a100_count"}
    for name in ("low-cost", "high-cost"):
        loaded = scenarios.load(scenarios.resolve(ROOT, name), project)
        assert not fleet_parameters & set(loaded.parameters), name


def test_gpufleet_runs_a_scenario(site):
    completed = gpufleet(
        site,
        "run",
        *("--scenario", "high-cost", "--only", "power", "--no-build", "--allow-mixed"),
        check=True,
    )
    assert "scenario high-cost" in completed.stdout
    assert "pue=1.09" in completed.stdout
    gpufleet(site, "run", check=True)  # back to the defaults for the other tests


def test_scenario_with_unknown_source_is_refused(project, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("description: x\nsources: [nobody2099]\nparameters:\n  pue: 1.2\n")
    with pytest.raises(ParameterError, match=r"source\(s\) nobody2099 not in book/references.bib"):
        scenarios.load(path, project)


def test_scenario_files_are_data_files(project):
    assert data.load(ROOT).root == ROOT
    assert {s.name for s in scenarios.load_all(project)} >= {"announced", "low-cost", "high-cost"}


def test_a_job_that_makes_no_progress_has_an_infinite_range_not_nan(project):
    """With a 2,000,000-GPU job every sample's job makes no progress: its days are infinite in
    every sample, so their percentiles too (numpy's interpolation would give NaN)."""
    values = {**defaults(project), "job_gpus": 2_000_000}
    table = uncertainty.summary(values, project, 2_000, seed=3).set_index("key")
    row = table.loc["llama3_405b_days_on_fleet"]
    assert [row.value, row.p5, row.p50, row.p95] == [np.inf] * 4
    others = table.drop(index="llama3_405b_days_on_fleet")
    assert np.isfinite(others[["value", "p5", "p50", "p95"]].to_numpy()).all()
    # Half infinite (0, 1, ..., 49 and 50 infinities): each percentile is a sample, the 5th
    # and the 50th of the 100, and the 95th is infinite.
    mixed = uncertainty.summarize(
        {key: np.concatenate([np.arange(50.0), np.full(50, np.inf)]) for key in project.headlines},
        {key: 1.0 for key in project.headlines},
        project,
    ).iloc[0]
    assert [mixed.p5, mixed.p50, mixed.p95] == [4.0, 49.0, np.inf]


def test_an_output_that_is_not_finite_has_no_swing(project):
    values = defaults(project)

    def outputs(v):
        return {"finite": v["pue"] * 2.0, "never": np.inf if v["pue"] < 2 else 1.0}

    frame = sensitivity.swings(outputs, values, project, ["pue", "mfu"])
    assert list(frame["output"]) == ["finite"]
    assert frame.iloc[0]["swing"] == pytest.approx((1.09 - 1.07) * 2.0)
