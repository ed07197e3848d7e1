"""Training runs: binds parameters and published figures to the model's training formulas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from gpufleet.model import formulas
from gpufleet.model.data import ProjectData


@dataclass(frozen=True)
class Run:
    gpu_hours: float
    energy_mwh: float
    emissions_tco2e: float
    energy_cost_usd: float
    amortized_capex_usd: float
    cloud_cost_usd: float

    @property
    def amortized_cost_usd(self) -> float:
        """The hardware's capital cost for the run's GPU-hours, plus the run's electricity."""
        return self.amortized_capex_usd + self.energy_cost_usd


def capex_per_gpu_usd(values: Mapping[str, object]) -> float:
    """An H100 with its share of server and network (buildings aside)."""
    compute = values["h100_unit_price_usd"] + values["server_overhead_usd_per_gpu"]
    return compute + formulas.network_capex_usd(compute, values["network_share_of_it_capex"])


def run(values: Mapping[str, object]) -> Run:
    """Energy, emissions and cost of a run of ``training_gpu_hours`` on H100s."""
    hours = values["training_gpu_hours"]
    energy = formulas.training_energy_mwh(hours, values["training_gpu_power_w"], values["pue"])
    return Run(
        gpu_hours=hours,
        energy_mwh=energy,
        emissions_tco2e=formulas.location_emissions_tco2e(energy, values["grid_kgco2e_per_kwh"]),
        energy_cost_usd=formulas.electricity_cost_usd(energy, values["electricity_usd_per_mwh"]),
        amortized_capex_usd=formulas.amortized_capex_usd(
            hours, capex_per_gpu_usd(values), values["useful_life_years"]
        ),
        cloud_cost_usd=formulas.rental_cost_usd(hours, values["cloud_usd_per_gpu_hour"]),
    )


def model_card_check(project: ProjectData, pue: float, grid_kgco2e_per_kwh: float) -> pd.DataFrame:
    """Each published run against the model: with the card's implied intensity, and with ours.

    The card states its power per GPU (TDP) and that PUE is applied, but not its PUE or grid
    factor; their product is recovered from the card's total row and applied to every row.
    """
    runs = project.published_runs
    total = runs["llama31_total"]
    implied = formulas.implied_intensity_kgco2e_per_kwh(
        total.location_tco2e, formulas.training_energy_mwh(total.gpu_hours, total.gpu_power_w, 1.0)
    )
    rows = []
    for run_ in runs.values():
        at_tdp_mwh = formulas.training_energy_mwh(run_.gpu_hours, run_.gpu_power_w, 1.0)
        card_model = formulas.location_emissions_tco2e(at_tdp_mwh, implied)
        ours = formulas.location_emissions_tco2e(
            formulas.training_energy_mwh(run_.gpu_hours, run_.gpu_power_w, pue), grid_kgco2e_per_kwh
        )
        rows.append(
            {
                "key": run_.key,
                "model": run_.model,
                "gpu_hours": run_.gpu_hours,
                "published_tco2e": run_.location_tco2e,
                "model_card_assumptions_tco2e": card_model,
                "difference_pct": 100 * (card_model - run_.location_tco2e) / run_.location_tco2e,
                "report_assumptions_tco2e": ours,
                "report_difference_pct": 100 * (ours - run_.location_tco2e) / run_.location_tco2e,
                "published_market_tco2e": run_.market_tco2e,
            }
        )
    frame = pd.DataFrame(rows)
    frame.attrs["implied_kgco2e_per_kwh"] = implied
    return frame
