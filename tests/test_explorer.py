"""The explorers' grids: built by the model's own function, equal to a direct evaluation."""

from __future__ import annotations

import numpy as np
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


def test_the_sliders_are_what_moves_the_number_most(project):
    values = defaults(project)
    moves = sensitivity.one_at_a_time(
        lambda v: headlines.compute_all(v, project)["annual_energy_twh"], values, project
    )
    chosen = explorer.choose(moves, project)
    assert 1 <= len(chosen) <= 2
    assert chosen[0] == next(
        name for name in moves["parameter"] if project.parameters[name].type != "choice"
    )
    assert all(project.parameters[name].type != "choice" for name in chosen)


def test_the_table_is_small_enough_for_a_page(project):
    names = ["avg_power_fraction", "network_storage_power_share"]
    frame, _ = explorer.grid(defaults(project), project, "annual_energy_twh", names)
    assert len(frame) <= 1_000
    assert len(frame.to_json(orient="records")) < 80_000
