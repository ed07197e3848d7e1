"""Meta's fleet over time, against Meta's own accounts and against its peers.

The milestones in ``data/timeline.csv`` become fleets of one kind of GPU and go through the
same functions as the report's fleet (:mod:`gpufleet.model.fleet`): compute, power, energy.
A milestone given only as power is turned into H100s at the power the fleet's H100s draw,
and marked as estimated. Meta's reported capital expenditure, electricity and water
(``data/meta_accounts.csv``) are set against what the model implies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gpufleet.model import fleet, formulas
from gpufleet.model.data import REFERENCE_GPU, Milestone, ProjectData


@dataclass(frozen=True)
class Point:
    """A milestone turned into a fleet: its GPUs, compute and power."""

    milestone: Milestone
    gpus: float
    h100_equivalents: float
    peak_bf16_exaflops: float
    facility_power_mw: float
    annual_energy_twh: float
    estimated: str  # what was estimated rather than stated ("" when nothing was)


def _one_kind(milestone: Milestone, project: ProjectData) -> fleet.Group:
    """The milestone's GPUs as a group (GPUs of an unnamed kind are taken to be H100s)."""
    gpu = project.accelerators[milestone.accelerator or REFERENCE_GPU]
    return fleet.Group(milestone.event, gpu, milestone.gpus, "named")


def point(milestone: Milestone, values: Mapping[str, object], project: ProjectData) -> Point:
    """What a milestone means as a fleet, with the report's assumptions ``values``."""
    h100 = project.accelerators[REFERENCE_GPU]
    if milestone.gpus is not None:
        group = _one_kind(milestone, project)
        estimated = "" if milestone.accelerator else "the kind of GPU (taken to be H100s)"
    elif milestone.h100_equivalents is not None:
        group = fleet.Group(milestone.event, h100, milestone.h100_equivalents, "named")
        estimated = "the GPUs (taken to be H100s)"
    else:
        one = fleet.power(fleet.one_h100(project), values)
        count = milestone.power_mw / one.facility_power_mw
        group = fleet.Group(milestone.event, h100, count, "named")
        estimated = "the GPUs, from the power (taken to be H100s at the report's power per GPU)"
    group_power = fleet.power(group, values)
    h100e = milestone.h100_equivalents or fleet.group_h100e(group, "bf16_dense", project)
    facility = milestone.power_mw or group_power.facility_power_mw
    return Point(
        milestone=milestone,
        gpus=group.count,
        h100_equivalents=h100e,
        peak_bf16_exaflops=formulas.flops_to_exaflops(fleet.group_peak_bf16_flops(group)),
        facility_power_mw=facility,
        annual_energy_twh=formulas.mwh_to_twh(
            formulas.annual_energy_mwh(
                formulas.average_power_mw(facility, values["avg_power_fraction"])
            )
        ),
        estimated=estimated,
    )


def timeline(values: Mapping[str, object], project: ProjectData) -> list[Point]:
    """Every milestone, in date order."""
    ordered = sorted(project.milestones.values(), key=lambda m: m.date)
    return [point(milestone, values, project) for milestone in ordered]


# --- against Meta's own accounts -------------------------------------------------------------


def latest_electricity_year(project: ProjectData) -> int:
    """The latest year for which Meta's data-center electricity is in data/meta_accounts.csv."""
    return max(y for y, a in project.meta_accounts.items() if a.dc_electricity_mwh is not None)


def meta_dc_electricity_share(
    annual_energy_twh: float, project: ProjectData, year: int | None = None
) -> float:
    """The fleet's yearly energy as a share of Meta's reported data-center electricity."""
    year = year or latest_electricity_year(project)
    reported = formulas.mwh_to_twh(project.meta_accounts[year].dc_electricity_mwh)
    return annual_energy_twh / reported


#: The years whose capital expenditure the H100s' is set against.
CAPEX_YEARS = (2023, 2024)


def meta_capex_usd(project: ProjectData, years=CAPEX_YEARS) -> float:
    """Meta's capital expenditure over ``years`` (principal payments on finance leases
    included, as Meta's results state it)."""
    return sum(project.meta_accounts[year].capex_usd for year in years)


def h100_capex_share_of_meta_capex(h100_capex_usd: float, project: ProjectData) -> float:
    """The H100s' capital cost (servers, network, buildings) as a share of Meta's capital
    expenditure in the years they were bought."""
    return h100_capex_usd / meta_capex_usd(project)
