"""The report's arithmetic: pure functions, units in their names, no I/O.

Every function works on plain floats and on NumPy arrays alike (element-wise), so the same
formulas serve a single run and a Monte Carlo sample. Inputs come from :mod:`gpufleet.data`
and :mod:`gpufleet.params`; nothing here reads a file or knows about notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def other_h100_equivalents(h100_equivalents_total: Number, h100_count: Number) -> Number:
    """H100 equivalents beyond the H100s themselves: the part the 'other GPUs' make up."""
    return h100_equivalents_total - h100_count


def gpus_per_h100_equivalent(h100_metric_value: Number, other_metric_value: Number) -> Number:
    """How many of another GPU match one H100 on a metric (both values in the metric's unit)."""
    return h100_metric_value / other_metric_value


def other_gpu_count(
    other_h100e: Number, h100_metric_value: Number, other_metric_value: Number
) -> Number:
    """Number of other GPUs that add up to ``other_h100e`` H100 equivalents on a metric."""
    return other_h100e * gpus_per_h100_equivalent(h100_metric_value, other_metric_value)


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


@dataclass(frozen=True)
class FleetCompute:
    """The fleet's size and compute under one reading of 'H100 equivalent'."""

    h100_count: float
    other_h100e: float
    other_gpu_count: float
    h100_peak_bf16_flops: float
    other_peak_bf16_flops: float
    peak_bf16_flops: float
    effective_bf16_flops: float

    @property
    def peak_bf16_dense_exaflops(self) -> float:
        return flops_to_exaflops(self.peak_bf16_flops)

    @property
    def effective_bf16_exaflops(self) -> float:
        return flops_to_exaflops(self.effective_bf16_flops)


def fleet_compute(
    *,
    h100_count: Number,
    h100_equivalents_total: Number,
    mfu: Number,
    h100_metric_value: Number,
    other_metric_value: Number,
    h100_bf16_tflops: Number,
    other_bf16_tflops: Number,
) -> FleetCompute:
    """The fleet's peak and effective dense BF16 compute.

    The H100s count at their own rate; the rest of the H100 equivalents are turned into a
    number of other GPUs through the chosen metric (``*_metric_value``, same unit for both),
    and those GPUs count at their own BF16 rate. When the metric is BF16 itself the result is
    simply ``h100_equivalents_total`` H100s.
    """
    other_h100e = other_h100_equivalents(h100_equivalents_total, h100_count)
    others = other_gpu_count(other_h100e, h100_metric_value, other_metric_value)
    h100_peak = aggregate_flops(h100_count, h100_bf16_tflops)
    other_peak = aggregate_flops(others, other_bf16_tflops)
    peak = h100_peak + other_peak
    return FleetCompute(
        h100_count=h100_count,
        other_h100e=other_h100e,
        other_gpu_count=others,
        h100_peak_bf16_flops=h100_peak,
        other_peak_bf16_flops=other_peak,
        peak_bf16_flops=peak,
        effective_bf16_flops=effective_flops(peak, mfu),
    )
