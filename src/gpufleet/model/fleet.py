"""The fleet: its mix of GPUs, their compute, power, cost and emissions, group by group.

Nothing here is a formula of its own; it picks the right figures out of ``data/`` and passes
them to :mod:`gpufleet.model.formulas`, returning plain results and tables for the notebooks.
Every function accepts scalar parameters or NumPy arrays of Monte Carlo samples.

The fleet is made of groups: the H100s (``h100_count``), the GPUs ``data/accelerators.csv``
counts by a parameter of their own (``count_parameter``: the MI300Xs, the A100s), and a
remainder of ``remainder_gpu`` that makes the total come to ``h100_equivalents_total`` H100
equivalents under the chosen ``equivalence_metric``. Named GPUs that would overflow the total
are scaled down to fit it, so a total equal to ``h100_count`` is H100s alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpufleet.model import formulas
from gpufleet.model.data import (
    METRIC_LABELS,
    METRIC_UNITS,
    REFERENCE_GPU,
    Accelerator,
    ProjectData,
)

GPUS_PER_SERVER = 8


@dataclass(frozen=True)
class Group:
    """GPUs of one kind in the fleet."""

    label: str
    accelerator: Accelerator
    count: float
    role: str


@dataclass(frozen=True)
class Mix:
    """How the H100 equivalents beyond the H100s are made up."""

    groups: tuple[Group, ...]
    room_h100e: float  # H100 equivalents beyond the H100s
    named_h100e: float  # what the named GPUs would count for, before any scaling
    scale: float  # the share of the named GPUs that fits in the room (1: all of them)
    remainder_h100e: float  # what the remainder GPU makes up

    @property
    def gpu_count(self) -> float:
        """Physical GPUs of every kind."""
        return sum(group.count for group in self.groups)

    @property
    def other_gpu_count(self) -> float:
        """Physical GPUs other than the H100s."""
        return sum(group.count for group in self.groups if group.role != "h100")


def named_accelerators(project: ProjectData) -> list[Accelerator]:
    """The GPUs besides the H100 that a parameter counts (data/accelerators.csv order)."""
    return [
        gpu
        for gpu in project.accelerators.values()
        if gpu.count_parameter and gpu.id != REFERENCE_GPU
    ]


def h100e(gpu: Accelerator, count, metric: str, h100: Accelerator):
    """``count`` of ``gpu`` in H100 equivalents; a GPU without the metric counts for none."""
    value = gpu.metric(metric)
    if value is None:
        return 0.0 * count
    return formulas.h100_equivalents(count, value, h100.metric(metric))


def group_h100e(group: Group, metric: str, project: ProjectData):
    """A group's GPUs in H100 equivalents by ``metric`` (none for a GPU without the figure)."""
    return h100e(group.accelerator, group.count, metric, project.accelerators[REFERENCE_GPU])


def mix(values: Mapping[str, object], project: ProjectData) -> Mix:
    """The fleet's groups for checked parameter values."""
    h100 = project.accelerators[REFERENCE_GPU]
    metric = str(values["equivalence_metric"])
    room = values["h100_equivalents_total"] - values["h100_count"]
    named = [(gpu, values[gpu.count_parameter]) for gpu in named_accelerators(project)]
    named_h100e = sum(h100e(gpu, count, metric, h100) for gpu, count in named)
    scale = formulas.mix_scale(room, named_h100e)
    remainder_h100e = np.maximum(room - named_h100e * scale, 0.0)
    remainder_gpu = project.accelerators[str(values["remainder_gpu"])]
    remainder_count = formulas.other_gpu_count(
        remainder_h100e, h100.metric(metric), remainder_gpu.metric(metric)
    )
    groups = [Group(h100.name, h100, values["h100_count"], "h100")]
    groups += [Group(gpu.name, gpu, count * scale, "named") for gpu, count in named]
    groups.append(
        Group(f"{remainder_gpu.name} (remainder)", remainder_gpu, remainder_count, "remainder")
    )
    return Mix(
        groups=tuple(groups),
        room_h100e=room,
        named_h100e=named_h100e,
        scale=scale,
        remainder_h100e=remainder_h100e if np.ndim(remainder_h100e) else float(remainder_h100e),
    )


@dataclass(frozen=True)
class Compute:
    """The fleet's dense BF16 compute."""

    h100_peak_bf16_flops: float
    peak_bf16_flops: float
    mfu: float

    @property
    def other_peak_bf16_flops(self) -> float:
        return self.peak_bf16_flops - self.h100_peak_bf16_flops

    @property
    def effective_bf16_flops(self) -> float:
        return formulas.effective_flops(self.peak_bf16_flops, self.mfu)

    @property
    def peak_bf16_dense_exaflops(self) -> float:
        return formulas.flops_to_exaflops(self.peak_bf16_flops)

    @property
    def effective_bf16_exaflops(self) -> float:
        return formulas.flops_to_exaflops(self.effective_bf16_flops)


def group_peak_bf16_flops(group: Group) -> float:
    return formulas.aggregate_flops(group.count, group.accelerator.bf16_dense_tflops)


def compute(values: Mapping[str, object], project: ProjectData) -> Compute:
    """Peak and effective dense BF16 compute of the whole fleet, and of its H100s."""
    groups = mix(values, project).groups
    return Compute(
        h100_peak_bf16_flops=group_peak_bf16_flops(groups[0]),
        peak_bf16_flops=sum(group_peak_bf16_flops(group) for group in groups),
        mfu=values["mfu"],
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


@dataclass(frozen=True)
class Power:
    server_power_mw: float
    it_power_mw: float
    facility_power_mw: float
    average_power_mw: float
    annual_energy_mwh: float
    annual_electricity_cost_usd: float

    @property
    def annual_energy_twh(self) -> float:
        return formulas.mwh_to_twh(self.annual_energy_mwh)


def power(group: Group, values: Mapping[str, object]) -> Power:
    """A group's peak server, IT and facility power, its yearly energy and electricity bill."""
    gpu = group.accelerator
    servers = formulas.it_power_mw(group.count, gpu.tdp_w, gpu.server_power_ratio)
    it = formulas.it_power_with_network_mw(servers, values["network_storage_power_share"])
    facility = formulas.facility_power_mw(it, values["pue"])
    average = formulas.average_power_mw(facility, values["avg_power_fraction"])
    energy = formulas.annual_energy_mwh(average)
    return Power(
        server_power_mw=servers,
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
    server_capex_usd: float  # the servers, their GPUs included
    network_capex_usd: float
    facility_capex_usd: float
    annual_depreciation_usd: float  # straight line, as in Meta's accounts
    annual_capital_charge_usd: float  # depreciation plus the return on the capital tied up
    annual_maintenance_usd: float
    annual_electricity_cost_usd: float

    @property
    def it_capex_usd(self) -> float:
        return self.server_capex_usd + self.network_capex_usd

    @property
    def capex_usd(self) -> float:
        return self.it_capex_usd + self.facility_capex_usd

    @property
    def annual_cost_usd(self) -> float:
        """What owning and running the group costs a year: the capital charge, maintenance
        and electricity."""
        return (
            self.annual_capital_charge_usd
            + self.annual_maintenance_usd
            + self.annual_electricity_cost_usd
        )


def server_price_usd(group: Group, values: Mapping[str, object]) -> float:
    """An 8-GPU server's price, GPUs included: the parameter for the H100, data for others."""
    if group.accelerator.id == REFERENCE_GPU:
        return values["h100_server_price_usd"]
    return group.accelerator.server_price_usd


def h100_gpu_capex_usd(values: Mapping[str, object]) -> float:
    """What the H100 GPUs alone cost, their share of the servers' price."""
    return formulas.hardware_capex_usd(values["h100_count"], values["h100_unit_price_usd"])


def cost(group: Group, group_power: Power, values: Mapping[str, object]) -> Cost:
    """What a group costs to buy (servers, network, buildings) and to own each year."""
    servers = formulas.servers_capex_usd(
        group.count, server_price_usd(group, values), GPUS_PER_SERVER
    )
    network = formulas.network_capex_usd(servers, values["network_share_of_it_capex"])
    facility = formulas.facility_capex_usd(group_power.it_power_mw, values["facility_usd_per_mw"])
    it_capex = servers + network
    rate = values["cost_of_capital"]
    it_life, facility_life = values["useful_life_years"], values["facility_life_years"]
    return Cost(
        server_capex_usd=servers,
        network_capex_usd=network,
        facility_capex_usd=facility,
        annual_depreciation_usd=formulas.annual_depreciation_usd(it_capex, it_life)
        + formulas.annual_depreciation_usd(facility, facility_life),
        annual_capital_charge_usd=formulas.annual_capital_charge_usd(it_capex, rate, it_life)
        + formulas.annual_capital_charge_usd(facility, rate, facility_life),
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


def embodied_kgco2e_per_gpu(group: Group, values: Mapping[str, object]) -> float:
    """A GPU's manufacturing footprint: data where published, else the H100's parameter."""
    published = group.accelerator.embodied_kgco2e_per_gpu
    if group.accelerator.id == REFERENCE_GPU or published is None:
        return values["embodied_kgco2e_per_gpu"]
    return published


def emissions(group: Group, group_power: Power, values: Mapping[str, object]) -> Emissions:
    """Operational (location- and market-based) and embodied emissions of a group."""
    location = formulas.location_emissions_tco2e(
        group_power.annual_energy_mwh, values["grid_kgco2e_per_kwh"]
    )
    per_gpu_kg = formulas.embodied_kgco2e_per_installed_gpu(
        embodied_kgco2e_per_gpu(group, values),
        values["embodied_kgco2e_per_server"],
        GPUS_PER_SERVER,
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
class GpuHour:
    """One H100-hour of the fleet, as every chapter counts it: its server, its share of the
    network and storage, the building's overhead (PUE) at the average draw, and what owning
    and running it costs."""

    energy_kwh: float
    capital_usd: float
    maintenance_usd: float
    electricity_usd: float

    @property
    def cost_usd(self) -> float:
        return self.capital_usd + self.maintenance_usd + self.electricity_usd


@dataclass(frozen=True)
class Fleet:
    """The fleet's groups with their power, and (when asked for) cost and emissions."""

    mix: Mix
    power: tuple[Power, ...]
    cost: tuple[Cost, ...] = ()
    emissions: tuple[Emissions, ...] = ()

    @property
    def groups(self) -> tuple[Group, ...]:
        return self.mix.groups

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
    def h100_hour(self) -> GpuHour:
        """The fleet's H100-hour: the H100s' yearly energy and cost over their hours."""
        return gpu_hour(self.groups[0].count, self.power[0], self.cost[0])


def gpu_hour(count: float, group_power: Power, group_cost: Cost) -> GpuHour:
    """A group's yearly energy and cost over its ``count`` GPUs' hours of the year."""
    return GpuHour(
        energy_kwh=formulas.per_gpu_hour(group_power.annual_energy_mwh * 1_000.0, count),
        capital_usd=formulas.per_gpu_hour(group_cost.annual_capital_charge_usd, count),
        maintenance_usd=formulas.per_gpu_hour(group_cost.annual_maintenance_usd, count),
        electricity_usd=formulas.per_gpu_hour(group_cost.annual_electricity_cost_usd, count),
    )


def one_h100(project: ProjectData) -> Group:
    """A single H100 in its server: what per-GPU figures (an H100-hour, the power behind a
    megawatt) are computed on; they are the same for any number of H100s."""
    return Group("one H100", project.accelerators[REFERENCE_GPU], 1.0, "h100")


def capex_usd(gpu: Accelerator, count: float, values: Mapping[str, object]) -> float:
    """What ``count`` GPUs cost with their servers, network and buildings."""
    group = Group(gpu.name, gpu, count, "named")
    return cost(group, power(group, values), values).capex_usd


def h100_hour(values: Mapping[str, object], project: ProjectData) -> GpuHour:
    """The fleet's H100-hour from the parameters it depends on alone (one H100 in its server,
    network, storage and building; the same per hour for any number of them)."""
    one = one_h100(project)
    one_power = power(one, values)
    return gpu_hour(1.0, one_power, cost(one, one_power, values))


def evaluate(
    values: Mapping[str, object],
    project: ProjectData,
    *,
    cost_: bool = False,
    emissions_: bool = False,
) -> Fleet:
    """Power for every group, plus cost and emissions when asked (they need more parameters)."""
    the_mix = mix(values, project)
    parts = the_mix.groups
    powers = tuple(power(group, values) for group in parts)
    costs = tuple(cost(g, p, values) for g, p in zip(parts, powers, strict=True)) if cost_ else ()
    emitted = (
        tuple(emissions(g, p, values) for g, p in zip(parts, powers, strict=True))
        if emissions_
        else ()
    )
    return Fleet(the_mix, powers, costs, emitted)
