"""Every headline number from one set of parameter values, in one call.

The one place headlines are computed: each chapter glues its own from here
(:func:`gpufleet.book.chapter.headlines`), the uncertainty chapter passes arrays of samples
through it, and the scenario comparison calls it once per scenario.
"""

from __future__ import annotations

from collections.abc import Mapping

from gpufleet.model import fleet, formulas, history, training
from gpufleet.model.data import ProjectData


def compute_all(values: Mapping[str, object], project: ProjectData) -> dict[str, object]:
    """``{key: value}`` for every key in data/headlines.csv; arrays in, arrays out."""
    result = fleet.evaluate(values, project, cost_=True, emissions_=True)
    compute = fleet.compute(values, project)
    power = result.total_power
    cost = result.total_cost
    emitted = result.total_emissions
    run = training.run(values, project)
    numbers = {
        "h100_count": values["h100_count"],
        "h100_equivalents_total": values["h100_equivalents_total"],
        "fleet_gpu_count": result.mix.gpu_count,
        "peak_bf16_dense_exaflops": compute.peak_bf16_dense_exaflops,
        "effective_bf16_exaflops": compute.effective_bf16_exaflops,
        "it_power_mw": power.it_power_mw,
        "facility_power_mw": power.facility_power_mw,
        "annual_energy_twh": power.annual_energy_twh,
        "annual_electricity_cost_usd": power.annual_electricity_cost_usd,
        "gpu_capex_usd": fleet.h100_gpu_capex_usd(values),
        "fleet_capex_usd": cost.capex_usd,
        "annual_depreciation_usd": cost.annual_depreciation_usd,
        "annual_capital_charge_usd": cost.annual_capital_charge_usd,
        "cost_per_gpu_hour_usd": result.h100_hour.cost_usd,
        "annual_emissions_location_tco2e": emitted.annual_location_tco2e,
        "annual_emissions_market_tco2e": emitted.annual_market_tco2e,
        "embodied_emissions_tco2e": emitted.embodied_tco2e,
        "training_energy_mwh": run.card_energy_mwh,
        "training_emissions_tco2e": run.card_emissions_tco2e,
        "training_energy_fleet_basis_mwh": run.fleet_energy_mwh,
        "training_emissions_fleet_basis_tco2e": run.fleet_emissions_tco2e,
        "training_owned_cost_usd": run.owned_cost_usd,
        "training_cloud_cost_usd": run.cloud_cost_usd,
        "llama3_405b_days_on_fleet": training.days_for(
            project.fact("llama3_405b_training_flop"),
            values["h100_count"],
            values,
            project,
            loss_gpus=values["job_gpus"],
        ),
        "fleet_interruptions_per_day": formulas.interruptions_per_day(
            training.interruption_rate_per_gpu_day(project), values["h100_count"]
        ),
        "meta_dc_electricity_share": history.meta_dc_electricity_share(
            power.annual_energy_twh, project
        ),
        "h100_capex_share_of_meta_capex": history.h100_capex_share_of_meta_capex(
            result.cost[0].capex_usd, project
        ),
    }
    missing = set(project.headlines) - set(numbers)
    if missing:
        raise KeyError(f"headlines not computed here: {', '.join(sorted(missing))}")
    return {key: numbers[key] for key in project.headlines}
