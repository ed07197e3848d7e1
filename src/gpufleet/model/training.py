"""Training runs: binds parameters and published figures to the model's training formulas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from gpufleet.model import fleet, formulas
from gpufleet.model.data import ProjectData


@dataclass(frozen=True)
class Run:
    """A training run of ``gpu_hours`` on H100s, counted two ways.

    *As the model cards count it*: each GPU at its TDP times the PUE (``card_*``), the basis
    published runs are reported in. *On the fleet's basis*: each GPU-hour as the fleet's
    H100-hour (:func:`gpufleet.model.fleet.h100_hour`), with its server, network, storage,
    building and average draw, and what owning it costs.
    """

    gpu_hours: float
    card_energy_mwh: float
    card_emissions_tco2e: float
    fleet_energy_mwh: float
    fleet_emissions_tco2e: float
    owned_capital_usd: float
    owned_maintenance_usd: float
    owned_electricity_usd: float
    cloud_cost_usd: float

    @property
    def owned_cost_usd(self) -> float:
        """The run's GPU-hours at the fleet's own cost per H100-hour."""
        return self.owned_capital_usd + self.owned_maintenance_usd + self.owned_electricity_usd


def run(values: Mapping[str, object], project: ProjectData) -> Run:
    """Energy, emissions and cost of a run of ``training_gpu_hours`` on H100s."""
    hours = values["training_gpu_hours"]
    card = formulas.training_energy_mwh(hours, values["training_gpu_power_w"], values["pue"])
    hour = fleet.h100_hour(values, project)
    on_fleet = formulas.gpu_hours_energy_mwh(hours, hour.energy_kwh)
    grid = values["grid_kgco2e_per_kwh"]
    return Run(
        gpu_hours=hours,
        card_energy_mwh=card,
        card_emissions_tco2e=formulas.location_emissions_tco2e(card, grid),
        fleet_energy_mwh=on_fleet,
        fleet_emissions_tco2e=formulas.location_emissions_tco2e(on_fleet, grid),
        owned_capital_usd=formulas.gpu_hours_cost_usd(hours, hour.capital_usd),
        owned_maintenance_usd=formulas.gpu_hours_cost_usd(hours, hour.maintenance_usd),
        owned_electricity_usd=formulas.gpu_hours_cost_usd(hours, hour.electricity_usd),
        cloud_cost_usd=formulas.gpu_hours_cost_usd(hours, values["cloud_usd_per_gpu_hour"]),
    )


def interruption_rate_per_gpu_day(project: ProjectData) -> float:
    """Unexpected interruptions per GPU per day during Llama 3 405B's pre-training."""
    fact = project.fact
    return formulas.failure_rate_per_gpu_day(
        fact("llama3_interruptions_unexpected"),
        fact("llama3_405b_gpus"),
        fact("llama3_snapshot_days"),
    )


@dataclass(frozen=True)
class Losses:
    """What a job of ``gpus`` GPUs loses, at Llama 3's interruption rate and the checkpoint
    parameters (:func:`gpufleet.model.formulas.lost_time_fraction`): its time writing
    checkpoints, and to interruptions, each costing ``redo_and_restart`` minutes on average."""

    gpus: float
    minutes_between: float
    writing: float
    failures: float
    redo_and_restart: float
    stalls_from: float  # the smallest job, in GPUs, that makes no progress

    @property
    def total(self) -> float:
        return self.writing + self.failures

    @property
    def progresses(self) -> bool:
        """Whether the job gets ahead at all: it loses less than all of its time."""
        return self.total < 1.0


def losses(values: Mapping[str, object], project: ProjectData, gpus) -> Losses:
    """What a ``gpus``-GPU job loses to checkpoints and interruptions, term by term."""
    rate = interruption_rate_per_gpu_day(project)
    interval = values["checkpoint_interval_minutes"]
    writing = formulas.checkpoint_write_fraction(interval, values["checkpoint_write_minutes"])
    redo_and_restart = interval / 2.0 + values["restart_minutes"]
    minutes_between = 60.0 * formulas.hours_between_interruptions(rate, gpus)
    return Losses(
        gpus=gpus,
        minutes_between=minutes_between,
        writing=writing,
        failures=formulas.interruption_loss_fraction(
            interval, values["restart_minutes"], minutes_between
        ),
        redo_and_restart=redo_and_restart,
        stalls_from=formulas.stalling_gpus(writing, redo_and_restart, rate),
    )


def lost_time_fraction(values: Mapping[str, object], project: ProjectData, gpus) -> float:
    """Share of a ``gpus``-GPU job's time lost to checkpoints and interruptions, at Llama 3's
    interruption rate and the checkpoint parameters; 1 or more for a job that makes no
    progress."""
    minutes_between = 60.0 * formulas.hours_between_interruptions(
        interruption_rate_per_gpu_day(project), gpus
    )
    return formulas.lost_time_fraction(
        values["checkpoint_interval_minutes"],
        values["checkpoint_write_minutes"],
        values["restart_minutes"],
        minutes_between,
    )


def days_for(
    training_flop: float, gpus, values: Mapping[str, object], project: ProjectData, *, loss_gpus
) -> float:
    """Elapsed days for ``training_flop`` on ``gpus`` H100s at the utilization ``mfu``, with
    the time a job of ``loss_gpus`` GPUs loses to checkpoints and interruptions; infinite when
    such a job makes no progress."""
    h100 = project.accelerators[fleet.REFERENCE_GPU]
    flops = formulas.effective_flops(
        formulas.aggregate_flops(gpus, h100.bf16_dense_tflops), values["mfu"]
    )
    return formulas.days_with_losses(
        formulas.training_days(training_flop, flops),
        lost_time_fraction(values, project, loss_gpus),
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
