"""Power, cost and emissions: formulas against hand-computed values, and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpufleet.model import fleet, formulas
from gpufleet.model.params import defaults

# Hand arithmetic for the defaults: 350,000 H100 (700 W, server 1.82x), 173,000 MI300X
# (750 W, 1.77x), 16,000 A100 + 20,054.487 A100 of remainder (400 W, 2.03x); network and
# storage 10% of IT power.
A100_COUNT = 16_000 + 6_326.5925177 * 989 / 312  # 36,054.487
SERVER_MW = {
    "h100": 350_000 * 700 * 1.82 / 1e6,  # 445.9
    "mi300x": 173_000 * 750 * 1.77 / 1e6,  # 229.6575
    "a100": A100_COUNT * 400 * 2.03 / 1e6,  # 29.2762
}
IT_MW = {group: mw / 0.9 for group, mw in SERVER_MW.items()}
TOTAL_IT_MW = sum(IT_MW.values())  # 783.149
ENERGY_MWH = TOTAL_IT_MW * 1.08 * 0.75 * 8_760  # 5,556,909
SERVERS_USD = {
    "h100": 350_000 / 8 * 297_000,
    "mi300x": 173_000 / 8 * 217_000,
    "a100": A100_COUNT / 8 * 199_000,
}


def _crf(rate, years):
    """Capital recovery factor, written out: r / (1 - (1 + r)^-n)."""
    return rate / (1 - (1 + rate) ** -years)


def test_power_formulas():
    assert formulas.it_power_mw(350_000, 700, 1.82) == pytest.approx(445.9)
    assert formulas.facility_power_mw(445.9, 1.08) == pytest.approx(481.572)
    assert formulas.average_power_mw(481.572, 0.75) == pytest.approx(361.179)
    assert formulas.annual_energy_mwh(361.179) == pytest.approx(3_163_928.04)
    assert formulas.mwh_to_twh(3_163_928.04) == pytest.approx(3.16392804)
    assert formulas.electricity_cost_usd(1_000, 80.6) == pytest.approx(80_600)


def test_cost_formulas():
    assert formulas.hardware_capex_usd(350_000, 25_000) == 8.75e9
    assert formulas.servers_capex_usd(800, 297_000, 8) == pytest.approx(29_700_000)
    # The network is 20% of IT capex: 100 of compute needs 25 of network (25 / 125 = 20%).
    assert formulas.network_capex_usd(100.0, 0.2) == pytest.approx(25.0)
    assert formulas.facility_capex_usd(10.0, 11.7e6) == pytest.approx(117e6)
    assert formulas.annual_depreciation_usd(5.5e9, 5.5) == pytest.approx(1e9)
    assert formulas.annual_maintenance_usd(1e9, 0.03) == pytest.approx(3e7)
    assert formulas.per_gpu_hour(8.76e6, 1_000) == pytest.approx(1.0)
    # An annuity: 1,000 over 2 years at 10% is repaid by 576.19 a year
    # (576.19 / 1.1 + 576.19 / 1.21 = 1,000); at 0% it is straight-line depreciation.
    assert formulas.annual_capital_charge_usd(1_000, 0.10, 2) == pytest.approx(576.190, abs=1e-3)
    assert formulas.annual_capital_charge_usd(1_000, 0.0, 4) == pytest.approx(250.0)
    assert formulas.capital_recovery_factor(0.087, 5.5) == pytest.approx(0.236432, abs=1e-6)
    assert formulas.capital_recovery_factor(1e-300, 5.5) == pytest.approx(1 / 5.5)
    # The smallest positive rate: straight-line, 1 / 1.25 (not 1, which the quotient gives).
    assert formulas.capital_recovery_factor(5e-324, 1.25) == pytest.approx(0.8)
    # Near 0 the factor rises with the rate, on both sides of the switch to the expansion:
    # 1/5 + 1e-7 x 6/10 at 1e-7 a year over 5 years.
    assert formulas.capital_recovery_factor(1e-7, 5) == pytest.approx(0.2 + 6e-8, rel=1e-12)
    rates = [0, 1e-12, 1e-9, 1.9e-7, 2.1e-7, 1e-6, 1e-3]
    factors = [formulas.capital_recovery_factor(r, 5) for r in rates]
    assert factors == sorted(factors) and len(set(factors)) == len(factors)
    # Numbers go without NumPy, arrays with it: the two give the same factor.
    grid = [(r, n) for r in (0, 5e-324, 1e-9, 1.9e-7, 2.1e-7, 0.087, 0.5) for n in (0.5, 5.5, 60)]
    as_arrays = formulas.capital_recovery_factor(
        np.array([r for r, _ in grid]), np.array([n for _, n in grid])
    )
    for (rate, years), from_array in zip(grid, as_arrays, strict=True):
        assert formulas.capital_recovery_factor(rate, years) == pytest.approx(from_array, rel=1e-14)
    assert formulas.it_power_with_network_mw(90.0, 0.1) == pytest.approx(100.0)


def test_emission_formulas():
    assert formulas.location_emissions_tco2e(1_000, 0.367) == pytest.approx(367.0)
    assert formulas.market_emissions_tco2e(367.0, 1.0) == 0.0
    assert formulas.market_emissions_tco2e(367.0, 0.25) == pytest.approx(275.25)
    assert formulas.embodied_kgco2e_per_installed_gpu(164, 2_500, 8) == pytest.approx(476.5)
    assert formulas.embodied_emissions_tco2e(350_000, 476.5) == pytest.approx(166_775)
    assert formulas.amortized_tco2e_per_year(550.0, 5.5) == pytest.approx(100.0)


def test_fleet_at_defaults(project):
    values = defaults(project)
    result = fleet.evaluate(values, project, cost_=True, emissions_=True)
    power = result.total_power
    assert power.it_power_mw == pytest.approx(TOTAL_IT_MW)
    assert power.it_power_mw == pytest.approx(783.149, abs=1e-3)
    assert power.facility_power_mw == pytest.approx(TOTAL_IT_MW * 1.08)
    assert power.annual_energy_mwh == pytest.approx(ENERGY_MWH)
    assert power.annual_energy_twh == pytest.approx(5.5569, abs=1e-4)
    assert power.annual_electricity_cost_usd == pytest.approx(ENERGY_MWH * 80.6)

    h100 = result.cost[0]
    assert fleet.h100_gpu_capex_usd(values) == pytest.approx(8.75e9)
    assert h100.server_capex_usd == pytest.approx(12.99375e9)
    assert h100.network_capex_usd == pytest.approx(12.99375e9 * 0.099 / 0.901)
    assert h100.facility_capex_usd == pytest.approx(IT_MW["h100"] * 11.7e6)
    it_capex = sum(SERVERS_USD.values()) / 0.901
    facility = TOTAL_IT_MW * 11.7e6
    assert result.total_cost.capex_usd == pytest.approx(it_capex + facility)
    assert result.total_cost.annual_depreciation_usd == pytest.approx(
        it_capex / 5.5 + facility / 27.5
    )
    assert result.total_cost.annual_capital_charge_usd == pytest.approx(
        it_capex * _crf(0.087, 5.5) + facility * _crf(0.087, 27.5)
    )
    # One H100-hour: its capital charge and electricity over 350,000 x 8,760 hours.
    h100_year = (
        12.99375e9 / 0.901 * _crf(0.087, 5.5)
        + IT_MW["h100"] * 11.7e6 * _crf(0.087, 27.5)
        + IT_MW["h100"] * 1.08 * 0.75 * 8_760 * 80.6
    )
    hour = result.h100_hour
    assert hour.cost_usd == pytest.approx(h100_year / (350_000 * 8_760))
    assert hour.cost_usd == pytest.approx(1.3875, abs=1e-4)
    assert hour.energy_kwh == pytest.approx(0.7 * 1.82 / 0.9 * 1.08 * 0.75)
    # The same H100-hour from its own parameters alone, for one H100.
    alone = fleet.h100_hour(values, project)
    assert alone.cost_usd == pytest.approx(hour.cost_usd)
    assert alone.energy_kwh == pytest.approx(hour.energy_kwh)

    emissions = result.total_emissions
    assert emissions.annual_location_tco2e == pytest.approx(ENERGY_MWH * 0.367)
    assert emissions.annual_market_tco2e == 0.0
    # 164 kg per H100 and MI300X (the H100's figure as a stand-in), 150 per A100, + 2,500 / 8.
    assert emissions.embodied_tco2e == pytest.approx(
        ((350_000 + 173_000) * (164 + 312.5) + A100_COUNT * (150 + 312.5)) / 1_000
    )


def _values_strategy(project):
    """Random values within each numeric parameter's allowed range (choices at default)."""
    numeric = {
        "h100_count": st.integers(1, 2_000_000),
        "mi300x_count": st.integers(0, 1_000_000),
        "a100_count": st.integers(0, 1_000_000),
        "pue": st.floats(1.0, 3.0),
        "avg_power_fraction": st.floats(0.05, 1.0),
        "network_storage_power_share": st.floats(0.0, 0.5),
        "electricity_usd_per_mwh": st.floats(1.0, 500.0),
        "h100_server_price_usd": st.floats(100_000.0, 800_000.0),
        "useful_life_years": st.floats(1.0, 15.0),
        "cost_of_capital": st.floats(0.0, 0.3),
        "grid_kgco2e_per_kwh": st.floats(0.01, 1.5),
        "renewable_match_fraction": st.floats(0.0, 1.0),
        "network_share_of_it_capex": st.floats(0.0, 0.5),
        "maintenance_fraction_per_year": st.floats(0.0, 0.2),
    }
    base = defaults(project)

    @st.composite
    def draw(draw_):
        values = {**base, **{name: draw_(s) for name, s in numeric.items()}}
        values["h100_equivalents_total"] = values["h100_count"] + draw_(st.integers(0, 1_000_000))
        values["remainder_gpu"] = draw_(st.sampled_from(["a100_sxm_80gb", "mi300x", "h200_sxm"]))
        return values

    return draw()


def _more(values, project, name, step):
    """``values`` with ``step`` more GPUs counted by ``name``, the total raised by their H100
    equivalents so that the rest of the fleet stays as it was."""
    from gpufleet.model.data import REFERENCE_GPU

    h100 = project.accelerators[REFERENCE_GPU]
    gpu = next(g for g in project.accelerators.values() if g.count_parameter == name)
    metric = values["equivalence_metric"]
    added = step * gpu.metric(metric) / h100.metric(metric)
    return {
        **values,
        name: values[name] + step,
        "h100_equivalents_total": values["h100_equivalents_total"] + added,
    }


@settings(max_examples=60, deadline=None)
@given(data=st.data(), factor=st.floats(1.01, 3.0))
def test_invariants(project, data, factor):
    values = data.draw(_values_strategy(project))

    def run(**changes):
        return fleet.evaluate({**values, **changes}, project, cost_=True, emissions_=True)

    base = run()
    # Energy is proportional to PUE (as long as the PUE stays allowed).
    pue = min(values["pue"] * factor, 3.0)
    assert run(pue=pue).total_power.annual_energy_mwh == pytest.approx(
        base.total_power.annual_energy_mwh * pue / values["pue"]
    )
    # Emissions are proportional to the grid's intensity.
    assert run(
        grid_kgco2e_per_kwh=values["grid_kgco2e_per_kwh"] * factor
    ).total_emissions.annual_location_tco2e == pytest.approx(
        base.total_emissions.annual_location_tco2e * factor
    )
    # Capex is linear in the H100 server's price, and rises with it.
    price = values["h100_server_price_usd"]
    capex = [run(h100_server_price_usd=price * k).total_cost.capex_usd for k in (1, 2, 3)]
    assert capex[2] - capex[1] == pytest.approx(capex[1] - capex[0])
    assert capex[1] > capex[0]
    # A dearer electricity, a higher cost of capital, more maintenance: a dearer H100-hour.
    for name in ("electricity_usd_per_mwh", "maintenance_fraction_per_year", "cost_of_capital"):
        dearer = run(**{name: values[name] * factor + 0.01}).h100_hour.cost_usd
        assert dearer > base.h100_hour.cost_usd, name
    # A longer useful life makes an H100-hour cheaper.
    longer = run(useful_life_years=values["useful_life_years"] * factor)
    assert longer.h100_hour.cost_usd < base.h100_hour.cost_usd
    # Market-based never exceeds location-based.
    assert base.total_emissions.annual_market_tco2e <= base.total_emissions.annual_location_tco2e


@settings(max_examples=40, deadline=None)
@given(data=st.data(), step=st.integers(1, 100_000))
def test_energy_and_capex_rise_with_every_gpu_count(project, data, step):
    """More GPUs of any kind, the rest of the fleet as it was: more energy, more capital."""
    values = data.draw(_values_strategy(project))
    base = fleet.evaluate(values, project, cost_=True)
    for name in ("h100_count", "mi300x_count", "a100_count"):
        more = fleet.evaluate(_more(values, project, name, step), project, cost_=True)
        assert more.total_power.annual_energy_mwh > base.total_power.annual_energy_mwh, name
        assert more.total_cost.capex_usd > base.total_cost.capex_usd, name
