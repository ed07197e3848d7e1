"""Power, cost and emissions: formulas against hand-computed values, and invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpufleet.model import fleet, formulas
from gpufleet.model.params import defaults

# Hand arithmetic for the defaults (350,000 H100 + 792,467.95 A100 counted by dense BF16):
A100_COUNT = 250_000 * 989 / 312  # 792,467.95
H100_IT_MW = 350_000 * 700 * 1.82 / 1e6  # 445.9
A100_IT_MW = A100_COUNT * 400 * 1.82 / 1e6  # 576.9167
IT_MW = H100_IT_MW + A100_IT_MW  # 1,022.8167
ENERGY_MWH = IT_MW * 1.08 * 0.75 * 8_760  # 7,257,497.9


def test_power_formulas():
    assert formulas.it_power_mw(350_000, 700, 1.82) == pytest.approx(445.9)
    assert formulas.facility_power_mw(445.9, 1.08) == pytest.approx(481.572)
    assert formulas.average_power_mw(481.572, 0.75) == pytest.approx(361.179)
    assert formulas.annual_energy_mwh(361.179) == pytest.approx(3_163_928.04)
    assert formulas.mwh_to_twh(3_163_928.04) == pytest.approx(3.16392804)
    assert formulas.electricity_cost_usd(1_000, 80.6) == pytest.approx(80_600)


def test_cost_formulas():
    assert formulas.hardware_capex_usd(350_000, 25_000) == 8.75e9
    # The network is 20% of IT capex: 100 of compute needs 25 of network (25 / 125 = 20%).
    assert formulas.network_capex_usd(100.0, 0.2) == pytest.approx(25.0)
    assert formulas.facility_capex_usd(10.0, 11.7e6) == pytest.approx(117e6)
    assert formulas.annual_depreciation_usd(5.5e9, 5.5) == pytest.approx(1e9)
    assert formulas.annual_maintenance_usd(1e9, 0.03) == pytest.approx(3e7)
    assert formulas.cost_per_gpu_hour_usd(8.76e6, 1_000) == pytest.approx(1.0)


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
    assert power.it_power_mw == pytest.approx(IT_MW)
    assert power.facility_power_mw == pytest.approx(IT_MW * 1.08)
    assert power.annual_energy_mwh == pytest.approx(ENERGY_MWH)
    assert power.annual_energy_twh == pytest.approx(7.2574979, abs=1e-6)
    assert power.annual_electricity_cost_usd == pytest.approx(ENERGY_MWH * 80.6)

    h100, a100 = result.cost
    assert h100.gpu_capex_usd == pytest.approx(8.75e9)
    assert h100.server_capex_usd == pytest.approx(350_000 * 8_750)
    assert h100.network_capex_usd == pytest.approx((8.75e9 + 3.0625e9) * 0.086 / 0.914)
    assert h100.facility_capex_usd == pytest.approx(H100_IT_MW * 11.7e6)
    assert a100.gpu_capex_usd == pytest.approx(A100_COUNT * 17_500)
    it_capex = (8.75e9 + 3.0625e9) / 0.914 + A100_COUNT * (17_500 + 8_750) / 0.914
    facility = IT_MW * 11.7e6
    assert result.total_cost.capex_usd == pytest.approx(it_capex + facility)
    assert result.total_cost.annual_depreciation_usd == pytest.approx(
        it_capex / 5.5 + facility / 25
    )
    # One H100-hour: its share of depreciation plus its electricity, over 350,000 x 8,760 hours.
    h100_year = (
        (8.75e9 + 3.0625e9) / 0.914 / 5.5
        + H100_IT_MW * 11.7e6 / 25
        + H100_IT_MW * 1.08 * 0.75 * 8_760 * 80.6
    )
    assert result.h100_cost_per_gpu_hour_usd == pytest.approx(h100_year / (350_000 * 8_760))
    assert result.h100_cost_per_gpu_hour_usd == pytest.approx(0.9176, abs=1e-4)

    emissions = result.total_emissions
    assert emissions.annual_location_tco2e == pytest.approx(ENERGY_MWH * 0.367)
    assert emissions.annual_market_tco2e == 0.0
    assert emissions.embodied_tco2e == pytest.approx((350_000 + A100_COUNT) * 476.5 / 1_000)


def _values_strategy(project):
    """Random values within each numeric parameter's allowed range (choices at default)."""
    numeric = {
        "h100_count": st.integers(1, 2_000_000),
        "pue": st.floats(1.0, 3.0),
        "avg_power_fraction": st.floats(0.05, 1.0),
        "server_power_ratio": st.floats(1.0, 4.0),
        "electricity_usd_per_mwh": st.floats(1.0, 500.0),
        "h100_unit_price_usd": st.floats(1_000.0, 100_000.0),
        "useful_life_years": st.floats(1.0, 15.0),
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
        return values

    return draw()


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
    # Capex is linear in the GPU price: equal steps in price give equal steps in capex.
    price = values["h100_unit_price_usd"]
    capex = [run(h100_unit_price_usd=price * k).total_cost.capex_usd for k in (1, 2, 3)]
    assert capex[2] - capex[1] == pytest.approx(capex[1] - capex[0])
    assert run(h100_unit_price_usd=price * factor).cost[0].gpu_capex_usd == pytest.approx(
        base.cost[0].gpu_capex_usd * factor
    )
    # A longer useful life makes an H100-hour cheaper.
    longer = run(useful_life_years=values["useful_life_years"] * factor)
    assert longer.h100_cost_per_gpu_hour_usd < base.h100_cost_per_gpu_hour_usd
    # Market-based never exceeds location-based.
    assert base.total_emissions.annual_market_tco2e <= base.total_emissions.annual_location_tco2e
