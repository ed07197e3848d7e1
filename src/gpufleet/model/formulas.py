"""The report's arithmetic: pure functions, units in their names, no I/O.

Every function works on plain floats and on NumPy arrays alike (element-wise), so the same
formulas serve a single run and a Monte Carlo sample. Inputs come from :mod:`gpufleet.model.data`
and :mod:`gpufleet.model.params`; nothing here reads a file or knows about notebooks.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

#: A scalar or an array of samples.
Number = TypeVar("Number", float, NDArray[np.float64])

TERA = 1e12
EXA = 1e18
SECONDS_PER_DAY = 86_400.0


def tflops_to_flops(tflops: Number) -> Number:
    """TFLOP/s to FLOP/s."""
    return tflops * TERA


def flops_to_exaflops(flops: Number) -> Number:
    """FLOP/s to EFLOP/s."""
    return flops / EXA


def h100_equivalents(gpu_count: Number, metric_value: Number, h100_metric_value: Number) -> Number:
    """``gpu_count`` GPUs counted in H100s on a metric (both values in the metric's unit)."""
    return gpu_count * metric_value / h100_metric_value


def gpus_per_h100_equivalent(h100_metric_value: Number, other_metric_value: Number) -> Number:
    """How many of another GPU match one H100 on a metric (both values in the metric's unit)."""
    return h100_metric_value / other_metric_value


def other_gpu_count(
    other_h100e: Number, h100_metric_value: Number, other_metric_value: Number
) -> Number:
    """Number of other GPUs that add up to ``other_h100e`` H100 equivalents on a metric."""
    return other_h100e * gpus_per_h100_equivalent(h100_metric_value, other_metric_value)


def mix_scale(room_h100e: Number, named_h100e: Number) -> Number:
    """The share of the named GPUs that fits in ``room_h100e`` H100 equivalents (at most 1).

    The named GPUs fill the room beyond the H100s; when they would overflow it (more H100
    equivalents than announced), their counts are scaled down to fit. With no room the fleet
    is H100s alone.
    """
    room = np.maximum(room_h100e, 0.0)
    fits = np.where(named_h100e > room, room / np.where(named_h100e > 0, named_h100e, 1.0), 1.0)
    return fits if np.ndim(fits) else float(fits)


def aggregate_flops(gpu_count: Number, per_gpu_tflops: Number) -> Number:
    """Peak FLOP/s of ``gpu_count`` GPUs rated at ``per_gpu_tflops`` TFLOP/s each."""
    return gpu_count * tflops_to_flops(per_gpu_tflops)


def effective_flops(peak_flops: Number, mfu: Number) -> Number:
    """Throughput achieved on training at a model FLOPs utilization ``mfu`` (0 to 1)."""
    return peak_flops * mfu


def flop_per_day(flops: Number) -> Number:
    """Floating-point operations done in one day at a sustained ``flops`` FLOP/s."""
    return flops * SECONDS_PER_DAY


def cluster_equivalents(gpu_count: Number, cluster_gpus: Number) -> Number:
    """How many clusters of ``cluster_gpus`` GPUs a count of GPUs would fill."""
    return gpu_count / cluster_gpus


# --- power and energy ----------------------------------------------------------------------

HOURS_PER_YEAR = 8_760.0
W_PER_MW = 1e6
MWH_PER_TWH = 1e6


def it_power_mw(gpu_count: Number, gpu_tdp_w: Number, server_power_ratio: Number) -> Number:
    """Peak power of ``gpu_count`` GPUs in their servers (server power = ratio x GPU TDP)."""
    return gpu_count * gpu_tdp_w * server_power_ratio / W_PER_MW


def it_power_with_network_mw(
    server_power_mw: Number, network_storage_power_share: Number
) -> Number:
    """IT load of servers plus the network and storage that take ``share`` of the total."""
    return server_power_mw / (1.0 - network_storage_power_share)


def facility_power_mw(it_power_mw: Number, pue: Number) -> Number:
    """Facility load: IT load times the power usage effectiveness (cooling, conversion losses)."""
    return it_power_mw * pue


def average_power_mw(peak_power_mw: Number, avg_power_fraction: Number) -> Number:
    """Average draw over a year when the equipment runs at ``avg_power_fraction`` of its peak."""
    return peak_power_mw * avg_power_fraction


def energy_mwh(power_mw: Number, hours: Number) -> Number:
    """Energy of a constant ``power_mw`` drawn for ``hours``."""
    return power_mw * hours


def annual_energy_mwh(average_power_mw: Number) -> Number:
    """Energy of one year at a constant average power."""
    return energy_mwh(average_power_mw, HOURS_PER_YEAR)


def mwh_to_twh(mwh: Number) -> Number:
    return mwh / MWH_PER_TWH


def electricity_cost_usd(energy_mwh: Number, electricity_usd_per_mwh: Number) -> Number:
    """What ``energy_mwh`` of electricity costs at a flat price."""
    return energy_mwh * electricity_usd_per_mwh


# --- cost ----------------------------------------------------------------------------------


def hardware_capex_usd(count: Number, unit_price_usd: Number) -> Number:
    """Purchase cost of ``count`` units at ``unit_price_usd`` each."""
    return count * unit_price_usd


def servers_capex_usd(
    gpu_count: Number, server_price_usd: Number, gpus_per_server: Number
) -> Number:
    """Purchase cost of the servers holding ``gpu_count`` GPUs, each server priced whole."""
    return gpu_count / gpus_per_server * server_price_usd


def network_capex_usd(compute_capex_usd: Number, network_share_of_it_capex: Number) -> Number:
    """Network cost when the network is ``share`` of the IT capex (compute plus network)."""
    return compute_capex_usd * network_share_of_it_capex / (1.0 - network_share_of_it_capex)


def facility_capex_usd(it_power_mw: Number, facility_usd_per_mw: Number) -> Number:
    """Building cost of data-center capacity for ``it_power_mw`` of critical IT load."""
    return it_power_mw * facility_usd_per_mw


def annual_depreciation_usd(capex_usd: Number, useful_life_years: Number) -> Number:
    """Straight-line depreciation: the capex spread evenly over its useful life."""
    return capex_usd / useful_life_years


def capital_recovery_factor(rate_per_year: Number, years: Number) -> Number:
    """The yearly payment that repays 1 dollar over ``years`` at ``rate_per_year`` (an annuity):
    ``r / (1 - (1 + r) ** -n)``, written to stay exact for rates near 0.

    At a rate of 0 it is ``1 / years``, straight-line depreciation. Where ``r x n`` is tiny the
    quotient loses its precision (at ``r`` = 5e-324 both of its terms round to the same
    subnormal number, and it gives 1 for any ``n``): there it is its expansion,
    ``1 / n + r (n + 1) / (2 n)``, exact to within ``(r n)²``.

    Two numbers are worked out without NumPy (the sensitivity charts make hundreds of such
    calls, and NumPy's overhead was most of each); arrays, element by element, with it.
    """
    if isinstance(rate_per_year, (int, float)) and isinstance(years, (int, float)):
        rate, n = float(rate_per_year), float(years)
        if rate * n < 1e-6:
            return 1.0 / n + rate * (n + 1.0) / (2.0 * n)
        return rate / -math.expm1(-n * math.log1p(rate))
    rate = np.asarray(rate_per_year, dtype=float)
    years = np.asarray(years, dtype=float)
    tiny = rate * years < 1e-6
    safe = np.where(tiny, 1.0, rate)
    annuity = safe / -np.expm1(-years * np.log1p(safe))
    expansion = 1.0 / years + rate * (years + 1.0) / (2.0 * years)
    factor = np.where(tiny, expansion, annuity)
    return factor if np.ndim(factor) else float(factor)


def annual_capital_charge_usd(capex_usd: Number, rate_per_year: Number, years: Number) -> Number:
    """What owning ``capex_usd`` of equipment costs a year: its depreciation plus the return
    the capital tied up in it must earn, as an annuity over its life."""
    return capex_usd * capital_recovery_factor(rate_per_year, years)


def annual_maintenance_usd(it_capex_usd: Number, maintenance_fraction_per_year: Number) -> Number:
    """Yearly maintenance and support, as a share of the IT hardware's cost."""
    return it_capex_usd * maintenance_fraction_per_year


def per_gpu_hour(annual_amount: Number, gpu_count: Number) -> Number:
    """A yearly amount (dollars, MWh, ...) spread over every hour of every GPU of the year."""
    return annual_amount / (gpu_count * HOURS_PER_YEAR)


def water_megalitres(energy_mwh: Number, water_l_per_kwh: Number) -> Number:
    """Water used for ``energy_mwh`` at a water-use effectiveness in litres per kWh."""
    return energy_mwh * 1_000.0 * water_l_per_kwh / 1e6


# --- emissions -----------------------------------------------------------------------------


def location_emissions_tco2e(energy_mwh: Number, grid_kgco2e_per_kwh: Number) -> Number:
    """Location-based emissions: energy times the grid's average intensity (kg/kWh = t/MWh)."""
    return energy_mwh * grid_kgco2e_per_kwh


def market_emissions_tco2e(location_tco2e: Number, renewable_match_fraction: Number) -> Number:
    """Market-based emissions: what renewable-energy contracts leave unmatched."""
    return location_tco2e * (1.0 - renewable_match_fraction)


def embodied_kgco2e_per_installed_gpu(
    embodied_kgco2e_per_gpu: Number, embodied_kgco2e_per_server: Number, gpus_per_server: Number
) -> Number:
    """Manufacturing emissions of a GPU plus its share of the server it sits in."""
    return embodied_kgco2e_per_gpu + embodied_kgco2e_per_server / gpus_per_server


def amortized_tco2e_per_year(embodied_tco2e: Number, useful_life_years: Number) -> Number:
    """Embodied emissions spread evenly over the equipment's life, like depreciation."""
    return embodied_tco2e / useful_life_years


def embodied_emissions_tco2e(gpu_count: Number, embodied_kgco2e_per_gpu: Number) -> Number:
    """Manufacturing emissions of ``gpu_count`` GPUs with their share of a server."""
    return gpu_count * embodied_kgco2e_per_gpu / 1_000.0


# --- training runs and reliability ---------------------------------------------------------


def training_energy_mwh(gpu_hours: Number, gpu_power_w: Number, pue: Number) -> Number:
    """Energy of a training run counted as the model cards do: GPU-hours x power per GPU x PUE."""
    return gpu_hours * gpu_power_w * pue / W_PER_MW


def gpu_hours_cost_usd(gpu_hours: Number, usd_per_gpu_hour: Number) -> Number:
    """What ``gpu_hours`` cost at a price per GPU-hour (a rental price, or an owner's cost)."""
    return gpu_hours * usd_per_gpu_hour


def gpu_hours_energy_mwh(gpu_hours: Number, kwh_per_gpu_hour: Number) -> Number:
    """Electricity of ``gpu_hours`` at ``kwh_per_gpu_hour`` each (facility included)."""
    return gpu_hours * kwh_per_gpu_hour / 1_000.0


def days_with_losses(days: Number, lost_time_fraction: Number) -> Number:
    """Elapsed days for ``days`` of useful work when ``lost_time_fraction`` of the time is lost.

    A job that loses all of its time (a fraction of 1 or more) makes no progress: it never
    finishes, and the days are infinite, never negative.
    """
    lost = np.asarray(lost_time_fraction, dtype=float)
    kept = np.where(lost < 1.0, 1.0 - lost, 1.0)
    elapsed = np.where(lost < 1.0, np.asarray(days, dtype=float) / kept, np.inf)
    return elapsed if np.ndim(elapsed) else float(elapsed)


def implied_intensity_kgco2e_per_kwh(emissions_tco2e: Number, energy_mwh: Number) -> Number:
    """The carbon intensity that turns ``energy_mwh`` into ``emissions_tco2e`` (t/MWh = kg/kWh)."""
    return emissions_tco2e / energy_mwh


def training_flop(parameters: Number, tokens: Number, flop_per_parameter_token: Number) -> Number:
    """Training compute of a dense transformer: about 6 FLOPs per parameter per token."""
    return flop_per_parameter_token * parameters * tokens


def training_days(training_flop: Number, effective_flops: Number) -> Number:
    """Days a run of ``training_flop`` takes at a sustained ``effective_flops`` FLOP/s."""
    return training_flop / flop_per_day(effective_flops)


def gpu_hours_for(training_flop: Number, per_gpu_tflops: Number, mfu: Number) -> Number:
    """GPU-hours a run of ``training_flop`` needs on GPUs of ``per_gpu_tflops`` at ``mfu``."""
    return training_flop / (tflops_to_flops(per_gpu_tflops) * mfu * 3_600.0)


def compute_optimal_parameters(
    training_flop: Number, tokens_per_parameter: Number, flop_per_parameter_token: Number
) -> Number:
    """Largest compute-optimal model for a budget: C = k x N x (r x N), so N = sqrt(C / (k r))."""
    return (training_flop / (flop_per_parameter_token * tokens_per_parameter)) ** 0.5


def failure_rate_per_gpu_day(interruptions: Number, gpus: Number, days: Number) -> Number:
    """Interruptions per GPU per day observed on ``gpus`` GPUs over ``days`` days."""
    return interruptions / (gpus * days)


def interruptions_per_day(rate_per_gpu_day: Number, gpus: Number) -> Number:
    """Expected interruptions a day for ``gpus`` GPUs at a per-GPU daily rate."""
    return rate_per_gpu_day * gpus


def hours_between_interruptions(rate_per_gpu_day: Number, gpus: Number) -> Number:
    """Mean time between interruptions of a job spanning ``gpus`` GPUs, in hours."""
    return 24.0 / interruptions_per_day(rate_per_gpu_day, gpus)


def young_interval_minutes(
    checkpoint_write_minutes: Number, minutes_between_interruptions: Number
) -> Number:
    """Young's optimal checkpoint interval, sqrt(2 x write time x mean time between failures)."""
    return (2.0 * checkpoint_write_minutes * minutes_between_interruptions) ** 0.5


def lost_time_fraction(
    checkpoint_interval_minutes: Number,
    checkpoint_write_minutes: Number,
    restart_minutes: Number,
    minutes_between_interruptions: Number,
) -> Number:
    """First-order share of a job's time lost to checkpoints and failures (Young, Daly).

    Each interval pays one checkpoint write; each interruption loses on average half an
    interval of work plus the restart. Valid while all three times are small against the mean
    time between interruptions. A write that takes no time costs nothing, however often it is
    made: at Young's interval for it, 0, the job loses only its restarts (the formula's limit).
    """
    return checkpoint_write_fraction(
        checkpoint_interval_minutes, checkpoint_write_minutes
    ) + interruption_loss_fraction(
        checkpoint_interval_minutes, restart_minutes, minutes_between_interruptions
    )


def checkpoint_write_fraction(
    checkpoint_interval_minutes: Number, checkpoint_write_minutes: Number
) -> Number:
    """Share of a job's time spent writing checkpoints: one write per interval; none for a
    write that takes no time, even at an interval of 0."""
    interval = np.asarray(checkpoint_interval_minutes, dtype=float)
    write = np.asarray(checkpoint_write_minutes, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(write > 0, write / np.where(interval > 0, interval, 0.0), 0.0)
    return share if np.ndim(share) else float(share)


def stalling_gpus(
    checkpoint_write_fraction: Number,
    minutes_lost_per_interruption: Number,
    rate_per_gpu_day: Number,
) -> Number:
    """The smallest job, in GPUs, that loses all its time by :func:`lost_time_fraction`: what
    writing checkpoints leaves, over what interruptions cost per GPU and minute. 0 when writing
    checkpoints alone takes all the time."""
    left = np.maximum(1.0 - np.asarray(checkpoint_write_fraction, dtype=float), 0.0)
    gpus = left * 1_440.0 / (rate_per_gpu_day * minutes_lost_per_interruption)
    return gpus if np.ndim(gpus) else float(gpus)


def interruption_loss_fraction(
    checkpoint_interval_minutes: Number,
    restart_minutes: Number,
    minutes_between_interruptions: Number,
) -> Number:
    """Share of a job's time lost to interruptions: each costs its restart and, on average,
    half an interval of work done again."""
    return (checkpoint_interval_minutes / 2.0 + restart_minutes) / minutes_between_interruptions
