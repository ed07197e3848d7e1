"""The explorers' grids: built by the model's own function, equal to a direct evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gpufleet.book import explorer
from gpufleet.model import headlines, sensitivity
from gpufleet.model.params import defaults


def test_a_slider_spans_the_sourced_range_and_holds_the_value(project):
    param = project.parameters["avg_power_fraction"]  # 0.64 .. 1.0, default 0.75
    s = explorer.slider(param, 0.75)
    positions = s.values()
    assert positions[0] == pytest.approx(0.64)  # the low end exactly
    assert positions[-1] == pytest.approx(1.0)  # both ends exact where a step allows it
    assert np.isclose(positions, 0.75).any()  # the chapter's value is a position
    assert np.allclose(np.diff(positions), s.step)
    # A value outside the range widens it.
    wide = explorer.slider(param, 0.5)
    assert wide.values()[0] == pytest.approx(0.5) and (wide.low, wide.high) == (0.64, 1.0)


def test_the_grid_equals_a_direct_evaluation(project):
    values = defaults(project)
    names = ["avg_power_fraction", "pue", "network_storage_power_share"]
    frame, sliders = explorer.grid(values, project, "annual_energy_twh", names)
    assert len(frame) == np.prod([len(s.values()) for s in sliders])
    # At the defaults, the chapter's own number.
    at_default = frame[
        np.isclose(frame["avg_power_fraction"], 0.75)
        & np.isclose(frame["pue"], 1.08)
        & np.isclose(frame["network_storage_power_share"], 0.10)
    ]
    direct = headlines.compute_all(values, project)["annual_energy_twh"]
    assert at_default["annual_energy_twh"].item() == pytest.approx(direct, rel=1e-5)
    # And anywhere else.
    for row in frame.sample(5, random_state=1).itertuples():
        setting = {name: getattr(row, name) for name in names}
        expected = headlines.compute_all({**values, **setting}, project)["annual_energy_twh"]
        assert row.annual_energy_twh == pytest.approx(expected, rel=1e-5)


def test_whole_numbers_stay_whole(project):
    frame, _ = explorer.grid(defaults(project), project, "fleet_gpu_count", ["mi300x_count"])
    assert (frame["mi300x_count"] == frame["mi300x_count"].round()).all()


def test_a_value_no_fine_step_reaches_stays_in_range(project):
    import dataclasses

    param = dataclasses.replace(project.parameters["pue"], low=1.0, high=1.3)
    s = explorer.slider(param, 1.0 + 0.3 / 97)  # 97 steps would be needed
    positions = s.values()
    assert np.isclose(positions, 1.0 + 0.3 / 97).any()
    assert 1.0 - 1e-12 <= positions[0] < 1.0 + s.step  # within a step of each end, never past
    assert 1.3 - s.step < positions[-1] <= 1.3 + 1e-12


def test_the_controls_are_what_moves_the_number_most(project):
    """The yearly energy moves most with the average draw, then with what an H100 equivalent
    measures (a choice): a slider for the first, a selector for the second."""
    values = defaults(project)
    moves = sensitivity.one_at_a_time(
        lambda v: headlines.compute_all(v, project)["annual_energy_twh"], values, project
    )
    ranked = list(moves["parameter"][:2])
    assert ranked == ["avg_power_fraction", "equivalence_metric"]
    assert explorer.choose(moves, project) == ranked


def test_a_chart_needs_a_number_to_draw_against(project):
    """When the top assumptions are all choices, the first numeric one is taken, first."""
    moves = pd.DataFrame({"parameter": ["equivalence_metric", "remainder_gpu", "pue", "mfu"]})
    assert explorer.choose(moves, project) == ["pue", "equivalence_metric"]
    assert explorer.choose(moves, project, count=3) == [
        "pue",
        "equivalence_metric",
        "remainder_gpu",
    ]


def test_a_choice_offers_the_options_that_hold_with_the_other_values(project):
    values = defaults(project)
    metric = explorer.choice(project.parameters["equivalence_metric"], values, project)
    assert metric.value == metric.default == "bf16_dense"
    assert metric.words[metric.options.index("memory_bandwidth")] == "memory bandwidth"
    # The A100 that makes up the remainder has no FP8 figure: FP8 is then not offered.
    a100 = project.accelerators["a100_sxm_80gb"]
    assert a100.fp8_dense_tflops is None
    assert "fp8_dense" not in metric.options
    assert set(metric.options) == {"bf16_dense", "memory_bandwidth", "memory_capacity"}
    gpu = explorer.choice(project.parameters["remainder_gpu"], values, project)
    assert gpu.words == tuple(project.accelerators[o].name for o in gpu.options)


def test_the_grid_with_a_choice_equals_a_direct_evaluation(project):
    values = defaults(project)
    names = ["avg_power_fraction", "equivalence_metric"]
    frame, controls = explorer.grid(values, project, "annual_energy_twh", names)
    slider, metric = controls
    assert isinstance(slider, explorer.Slider) and isinstance(metric, explorer.Choice)
    assert set(frame["equivalence_metric"]) == set(metric.options)
    assert len(frame) == len(slider.values()) * len(metric.options) <= explorer.MAX_ROWS
    for option in metric.options:
        for fraction in (slider.values()[0], values["avg_power_fraction"], slider.values()[-1]):
            row = frame[
                (frame["equivalence_metric"] == option)
                & np.isclose(frame["avg_power_fraction"], fraction)
            ]
            direct = headlines.compute_all(
                {**values, "avg_power_fraction": fraction, "equivalence_metric": option}, project
            )["annual_energy_twh"]
            assert len(row) == 1
            assert row["annual_energy_twh"].iloc[0] == pytest.approx(direct, rel=1e-5)
    at_default = frame[
        (frame["equivalence_metric"] == "bf16_dense")
        & np.isclose(frame["avg_power_fraction"], 0.75)
    ]["annual_energy_twh"].iloc[0]
    other = frame[
        (frame["equivalence_metric"] == "memory_capacity")
        & np.isclose(frame["avg_power_fraction"], 0.75)
    ]["annual_energy_twh"].iloc[0]
    assert other != at_default  # the choice moves the number


def test_the_table_is_small_enough_for_a_page(project):
    names = ["avg_power_fraction", "network_storage_power_share"]
    frame, _ = explorer.grid(defaults(project), project, "annual_energy_twh", names)
    assert len(frame) <= 1_000
    assert len(frame.to_json(orient="records")) < 80_000
