"""Chapter-level assembly: binds checked parameters and data to the model's functions.

Nothing here is a formula of its own; it picks the right figures out of ``data/`` and passes
them to :mod:`gpufleet.model.formulas`, returning plain results and tables for the notebooks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from gpufleet.model import formulas
from gpufleet.model.data import METRIC_LABELS, METRIC_UNITS, Accelerator, ProjectData

REFERENCE_GPU = "h100_sxm"


def compute(values: Mapping[str, object], project: ProjectData) -> formulas.FleetCompute:
    """The fleet's compute for checked parameter values (see :func:`formulas.fleet_compute`)."""
    h100 = project.accelerators[REFERENCE_GPU]
    other = project.accelerators[str(values["other_gpu"])]
    metric = str(values["equivalence_metric"])
    return formulas.fleet_compute(
        h100_count=values["h100_count"],
        h100_equivalents_total=values["h100_equivalents_total"],
        mfu=values["mfu"],
        h100_metric_value=h100.metric(metric),
        other_metric_value=other.metric(metric),
        h100_bf16_tflops=h100.bf16_dense_tflops,
        other_bf16_tflops=other.bf16_dense_tflops,
    )


def equivalence_table(
    project: ProjectData, other_h100e: float, gpus: Iterable[str]
) -> pd.DataFrame:
    """For each metric and GPU: how many of that GPU make one H100, and make ``other_h100e``.

    A GPU with no figure for a metric (the A100 has no FP8) gets no row for it.
    """
    h100 = project.accelerators[REFERENCE_GPU]
    rows = []
    for metric, label in METRIC_LABELS.items():
        for gpu_id in gpus:
            gpu = project.accelerators[gpu_id]
            value = gpu.metric(metric)
            if value is None:
                continue
            rows.append(
                {
                    "metric": metric,
                    "metric_label": label,
                    "unit": METRIC_UNITS[metric],
                    "gpu": gpu_id,
                    "gpu_name": gpu.name,
                    "h100_value": h100.metric(metric),
                    "gpu_value": value,
                    "per_h100": formulas.gpus_per_h100_equivalent(h100.metric(metric), value),
                    "count": formulas.other_gpu_count(other_h100e, h100.metric(metric), value),
                }
            )
    return pd.DataFrame(rows)


# --- power, cost and emissions, by group of GPUs ---------------------------------------------

POWER_PARAMETERS = ("server_power_ratio", "avg_power_fraction", "pue", "electricity_usd_per_mwh")
COST_PARAMETERS = (
    "h100_unit_price_usd",
    "server_overhead_usd_per_gpu",
    "network_share_of_it_capex",
    "facility_usd_per_mw",
    "useful_life_years",
    "facility_life_years",
    "maintenance_fraction_per_year",
)
EMISSION_PARAMETERS = (
    "grid_kgco2e_per_kwh",
    "renewable_match_fraction",
    "embodied_kgco2e_per_gpu",
    "embodied_kgco2e_per_server",
    "useful_life_years",
)
GPUS_PER_SERVER = 8


@dataclass(frozen=True)
class Group:
    """A homogeneous group of GPUs in the fleet: the H100s, or the other GPUs."""

    label: str
    accelerator: Accelerator
    count: float


def groups(values: Mapping[str, object], project: ProjectData) -> tuple[Group, Group]:
    """The fleet's two groups: its H100s, and the other GPUs the H100 equivalents imply."""
    h100 = project.accelerators[REFERENCE_GPU]
    other = project.accelerators[str(values["other_gpu"])]
    metric = str(values["equivalence_metric"])
    other_count = formulas.other_gpu_count(
        formulas.other_h100_equivalents(values["h100_equivalents_total"], values["h100_count"]),
        h100.metric(metric),
        other.metric(metric),
    )
    return (
        Group("H100s", h100, values["h100_count"]),
        Group(f"other GPUs ({other.name})", other, other_count),
    )


@dataclass(frozen=True)
class Power:
    it_power_mw: float
    facility_power_mw: float
    average_power_mw: float
    annual_energy_mwh: float
    annual_electricity_cost_usd: float

    @property
    def annual_energy_twh(self) -> float:
        return formulas.mwh_to_twh(self.annual_energy_mwh)


def power(group: Group, values: Mapping[str, object]) -> Power:
    """A group's peak IT and facility power, its yearly energy and electricity bill."""
    it = formulas.it_power_mw(group.count, group.accelerator.tdp_w, values["server_power_ratio"])
    facility = formulas.facility_power_mw(it, values["pue"])
    average = formulas.average_power_mw(facility, values["avg_power_fraction"])
    energy = formulas.annual_energy_mwh(average)
    return Power(
        it_power_mw=it,
        facility_power_mw=facility,
        average_power_mw=average,
        annual_energy_mwh=energy,
        annual_electricity_cost_usd=formulas.electricity_cost_usd(
            energy, values["electricity_usd_per_mwh"]
        ),
    )


@dataclass(frozen=True)
class Cost:
    gpu_capex_usd: float
    server_capex_usd: float
    network_capex_usd: float
    facility_capex_usd: float
    annual_depreciation_usd: float
    annual_maintenance_usd: float
    annual_electricity_cost_usd: float

    @property
    def it_capex_usd(self) -> float:
        return self.gpu_capex_usd + self.server_capex_usd + self.network_capex_usd

    @property
    def capex_usd(self) -> float:
        return self.it_capex_usd + self.facility_capex_usd

    @property
    def annual_cost_usd(self) -> float:
        """Total cost of ownership per year: depreciation, maintenance and electricity."""
        return (
            self.annual_depreciation_usd
            + self.annual_maintenance_usd
            + self.annual_electricity_cost_usd
        )


def unit_price_usd(group: Group, values: Mapping[str, object]) -> float:
    """The GPU's price: the parameter for the H100, data/accelerators.csv for the others."""
    if group.accelerator.id == REFERENCE_GPU:
        return values["h100_unit_price_usd"]
    if group.accelerator.unit_price_usd is None:
        raise ValueError(f"{group.accelerator.id} has no unit price in data/accelerators.csv")
    return group.accelerator.unit_price_usd


def cost(group: Group, group_power: Power, values: Mapping[str, object]) -> Cost:
    """What a group costs to buy (GPUs, servers, network, building) and to own each year."""
    gpus = formulas.hardware_capex_usd(group.count, unit_price_usd(group, values))
    servers = formulas.hardware_capex_usd(group.count, values["server_overhead_usd_per_gpu"])
    network = formulas.network_capex_usd(gpus + servers, values["network_share_of_it_capex"])
    facility = formulas.facility_capex_usd(group_power.it_power_mw, values["facility_usd_per_mw"])
    it_capex = gpus + servers + network
    return Cost(
        gpu_capex_usd=gpus,
        server_capex_usd=servers,
        network_capex_usd=network,
        facility_capex_usd=facility,
        annual_depreciation_usd=formulas.annual_depreciation_usd(
            it_capex, values["useful_life_years"]
        )
        + formulas.annual_depreciation_usd(facility, values["facility_life_years"]),
        annual_maintenance_usd=formulas.annual_maintenance_usd(
            it_capex, values["maintenance_fraction_per_year"]
        ),
        annual_electricity_cost_usd=group_power.annual_electricity_cost_usd,
    )


@dataclass(frozen=True)
class Emissions:
    annual_location_tco2e: float
    annual_market_tco2e: float
    embodied_tco2e: float
    embodied_per_year_tco2e: float


def emissions(group: Group, group_power: Power, values: Mapping[str, object]) -> Emissions:
    """Operational (location- and market-based) and embodied emissions of a group."""
    location = formulas.location_emissions_tco2e(
        group_power.annual_energy_mwh, values["grid_kgco2e_per_kwh"]
    )
    per_gpu_kg = formulas.embodied_kgco2e_per_installed_gpu(
        values["embodied_kgco2e_per_gpu"], values["embodied_kgco2e_per_server"], GPUS_PER_SERVER
    )
    embodied = formulas.embodied_emissions_tco2e(group.count, per_gpu_kg)
    return Emissions(
        annual_location_tco2e=location,
        annual_market_tco2e=formulas.market_emissions_tco2e(
            location, values["renewable_match_fraction"]
        ),
        embodied_tco2e=embodied,
        embodied_per_year_tco2e=formulas.amortized_tco2e_per_year(
            embodied, values["useful_life_years"]
        ),
    )


def total(parts):
    """Field-by-field sum of the same dataclass for several groups."""
    parts = list(parts)
    kind = type(parts[0])
    return kind(
        **{name: sum(getattr(p, name) for p in parts) for name in kind.__dataclass_fields__}
    )


@dataclass(frozen=True)
class Fleet:
    """The fleet's groups with their power, and (when asked for) cost and emissions."""

    groups: tuple[Group, ...]
    power: tuple[Power, ...]
    cost: tuple[Cost, ...] = ()
    emissions: tuple[Emissions, ...] = ()

    @property
    def total_power(self) -> Power:
        return total(self.power)

    @property
    def total_cost(self) -> Cost:
        return total(self.cost)

    @property
    def total_emissions(self) -> Emissions:
        return total(self.emissions)

    @property
    def h100_cost_per_gpu_hour_usd(self) -> float:
        """What one H100-hour costs Meta: the H100s' yearly cost over their hours."""
        return formulas.cost_per_gpu_hour_usd(self.cost[0].annual_cost_usd, self.groups[0].count)


def evaluate(
    values: Mapping[str, object],
    project: ProjectData,
    *,
    cost_: bool = False,
    emissions_: bool = False,
) -> Fleet:
    """Power for every group, plus cost and emissions when asked (they need more parameters)."""
    parts = groups(values, project)
    powers = tuple(power(group, values) for group in parts)
    costs = tuple(cost(g, p, values) for g, p in zip(parts, powers, strict=True)) if cost_ else ()
    emitted = (
        tuple(emissions(g, p, values) for g, p in zip(parts, powers, strict=True))
        if emissions_
        else ()
    )
    return Fleet(parts, powers, costs, emitted)
