"""Uncertainty: the Monte Carlo, percentiles, the vectorized model, and scenarios."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from gpufleet.build.results import glued_values
from gpufleet.model import data, headlines, scenarios, uncertainty
from gpufleet.model.params import ParameterError, defaults
from tests.conftest import ROOT, gpufleet


@pytest.fixture(scope="module")
def table(project):
    return uncertainty.summary(defaults(project), project, 50_000, seed=7)


def test_percentiles_are_ordered_and_within_the_samples(project, table):
    simulated = uncertainty.simulate(defaults(project), project, 50_000, seed=7)
    for row in table.itertuples():
        assert row.p5 <= row.p50 <= row.p95, row.key
        samples = simulated[row.key]
        # The central value is a possible outcome, inside what the ranges allow (within 1% of the
        # samples' span at its ends). It need not lie between p5 and p95: several defaults sit
        # at one end of their sourced range.
        slack = 0.01 * (samples.max() - samples.min())
        assert samples.min() - slack <= row.value <= samples.max() + slack, row.key


def test_known_positions_of_the_central_values(table):
    by_key = table.set_index("key")
    # Average power draw defaults to the low end of its range (0.75 of 0.75..1.0): the energy
    # of the defaults is below the 5th percentile.
    assert by_key.loc["annual_energy_twh", "value"] < by_key.loc["annual_energy_twh", "p5"]
    # The GPU price is central in its range (25,000 in 20,000..40,000): inside the interval.
    row = by_key.loc["gpu_capex_usd"]
    assert row["p5"] < row["value"] < row["p95"]
    # Nothing uncertain enters the peak compute: the interval is the point.
    row = by_key.loc["peak_bf16_dense_exaflops"]
    assert row["p5"] == pytest.approx(row["value"]) == pytest.approx(row["p95"])


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


def test_gpufleet_runs_a_scenario(site):
    completed = gpufleet(
        site, "run", "--scenario", "high-cost", "--only", "power", "--no-build", check=True
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
