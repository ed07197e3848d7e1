"""Every headline number from one set of parameter values, in one call.

The one place headlines are computed: each chapter glues its own from here
(:func:`gpufleet.book.chapter.headlines`), the uncertainty chapter passes arrays of samples
through it, and the scenario comparison calls it once per scenario.
"""

from __future__ import annotations

from collections.abc import Mapping

from gpufleet.model import fleet, formulas, training
from gpufleet.model.data import ProjectData


def compute_all(values: Mapping[str, object], project: ProjectData) -> dict[str, object]:
    """``{key: value}`` for every key in data/headlines.csv; arrays in, arrays out."""
    compute = fleet.compute(values, project)
    result = fleet.evaluate(values, project, cost_=True, emissions_=True)
    power = result.total_power
    cost = result.total_cost
    emitted = result.total_emissions
    run = training.run(values)
    fact = project.fact
    rate = formulas.failure_rate_per_gpu_day(
        fact("llama3_interruptions_unexpected"),
        fact("llama3_405b_gpus"),
        fact("llama3_snapshot_days"),
    )
    numbers = {
        "h100_count": values["h100_count"],
        "h100_equivalents_total": values["h100_equivalents_total"],
        "peak_bf16_dense_exaflops": compute.peak_bf16_dense_exaflops,
        "effective_bf16_exaflops": compute.effective_bf16_exaflops,
        "it_power_mw": power.it_power_mw,
        "facility_power_mw": power.facility_power_mw,
        "annual_energy_twh": power.annual_energy_twh,
        "annual_electricity_cost_usd": power.annual_electricity_cost_usd,
        "gpu_capex_usd": result.cost[0].gpu_capex_usd,
        "fleet_capex_usd": cost.capex_usd,
        "annual_depreciation_usd": cost.annual_depreciation_usd,
        "cost_per_gpu_hour_usd": result.h100_cost_per_gpu_hour_usd,
        "annual_emissions_location_tco2e": emitted.annual_location_tco2e,
        "annual_emissions_market_tco2e": emitted.annual_market_tco2e,
        "embodied_emissions_tco2e": emitted.embodied_tco2e,
        "training_energy_mwh": run.energy_mwh,
        "training_emissions_tco2e": run.emissions_tco2e,
        "training_amortized_cost_usd": run.amortized_cost_usd,
        "training_cloud_cost_usd": run.cloud_cost_usd,
        "llama3_405b_days_on_fleet": formulas.training_days(
            fact("llama3_405b_training_flop"), compute.effective_bf16_flops
        ),
        "fleet_interruptions_per_day": formulas.interruptions_per_day(rate, values["h100_count"]),
    }
    missing = set(project.headlines) - set(numbers)
    if missing:
        raise KeyError(f"headlines not computed here: {', '.join(sorted(missing))}")
    return {key: numbers[key] for key in project.headlines}
