"""The model against values computed by hand, and relationships that must hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.model import fleet, formulas

H100_BF16 = 989.0
A100_BF16 = 312.0
MI300X_BF16 = 1307.0


def test_unit_conversions():
    assert formulas.tflops_to_flops(989.0) == pytest.approx(9.89e14)
    assert formulas.flops_to_exaflops(5.934e20) == pytest.approx(593.4)
    assert formulas.flop_per_day(1e18) == pytest.approx(8.64e22)


def test_other_gpus_counted_by_bf16():
    # 250,000 H100e beyond the H100s, an A100 worth 312/989 of an H100 in BF16.
    assert formulas.other_gpu_count(250_000, H100_BF16, A100_BF16) == pytest.approx(
        250_000 * 989 / 312
    )  # 792,467.9
    assert formulas.other_gpu_count(250_000, H100_BF16, A100_BF16) == pytest.approx(
        792_467.95, abs=0.1
    )


def test_fleet_by_bf16_is_total_times_h100_peak():
    # By hand: 600,000 x 989e12 FLOP/s = 5.934e20 FLOP/s = 593.4 EFLOP/s; x 0.41 = 243.294.
    result = formulas.fleet_compute(
        h100_count=350_000,
        h100_equivalents_total=600_000,
        mfu=0.41,
        h100_metric_value=H100_BF16,
        other_metric_value=A100_BF16,
        h100_bf16_tflops=H100_BF16,
        other_bf16_tflops=A100_BF16,
    )
    assert result.other_h100e == 250_000
    assert result.peak_bf16_dense_exaflops == pytest.approx(593.4)
    assert result.effective_bf16_exaflops == pytest.approx(243.294)
    assert result.h100_peak_bf16_flops == pytest.approx(3.4615e20)


def test_fleet_by_memory_capacity():
    # A100 80 GB = H100 80 GB in capacity: 250,000 A100s at 312 TFLOP/s = 78 EFLOP/s,
    # plus 350,000 H100s at 989 = 346.15 EFLOP/s; 424.15 EFLOP/s in all.
    result = formulas.fleet_compute(
        h100_count=350_000,
        h100_equivalents_total=600_000,
        mfu=0.5,
        h100_metric_value=80.0,
        other_metric_value=80.0,
        h100_bf16_tflops=H100_BF16,
        other_bf16_tflops=A100_BF16,
    )
    assert result.other_gpu_count == pytest.approx(250_000)
    assert result.peak_bf16_dense_exaflops == pytest.approx(424.15)
    assert result.effective_bf16_exaflops == pytest.approx(212.075)


def test_fleet_by_bandwidth_with_mi300x():
    # 250,000 x 3.35 / 5.3 = 158,018.87 MI300X; x 1307 TFLOP/s = 206.53 EFLOP/s; + 346.15.
    result = formulas.fleet_compute(
        h100_count=350_000,
        h100_equivalents_total=600_000,
        mfu=0.4,
        h100_metric_value=3.35,
        other_metric_value=5.3,
        h100_bf16_tflops=H100_BF16,
        other_bf16_tflops=MI300X_BF16,
    )
    assert result.other_gpu_count == pytest.approx(158_018.87, abs=0.01)
    assert result.peak_bf16_dense_exaflops == pytest.approx(552.6806, abs=1e-3)


def test_cluster_equivalents():
    assert formulas.cluster_equivalents(350_000, 24_576) == pytest.approx(14.2415, abs=1e-4)


def test_model_accepts_arrays():
    counts = np.array([300_000.0, 350_000.0, 400_000.0])
    result = formulas.fleet_compute(
        h100_count=counts,
        h100_equivalents_total=np.full(3, 600_000.0),
        mfu=np.array([0.3, 0.4, 0.5]),
        h100_metric_value=H100_BF16,
        other_metric_value=A100_BF16,
        h100_bf16_tflops=H100_BF16,
        other_bf16_tflops=A100_BF16,
    )
    np.testing.assert_allclose(result.peak_bf16_flops, np.full(3, 600_000 * 989e12))
    np.testing.assert_allclose(
        result.effective_bf16_flops, 600_000 * 989e12 * np.array([0.3, 0.4, 0.5])
    )


positive = st.floats(min_value=1.0, max_value=1e7, allow_nan=False)


@given(
    h100=positive,
    extra=st.floats(min_value=0, max_value=1e7),
    mfu=st.floats(0.01, 1.0),
    metric_h100=positive,
    metric_other=positive,
    bf16_other=positive,
)
def test_relationships(h100, extra, mfu, metric_h100, metric_other, bf16_other):
    result = formulas.fleet_compute(
        h100_count=h100,
        h100_equivalents_total=h100 + extra,
        mfu=mfu,
        h100_metric_value=metric_h100,
        other_metric_value=metric_other,
        h100_bf16_tflops=H100_BF16,
        other_bf16_tflops=bf16_other,
    )
    # Peak is the sum of its parts; effective never exceeds peak and scales with mfu.
    assert result.peak_bf16_flops == pytest.approx(
        result.h100_peak_bf16_flops + result.other_peak_bf16_flops
    )
    assert result.effective_bf16_flops <= result.peak_bf16_flops * (1 + 1e-12)
    assert result.effective_bf16_flops == pytest.approx(result.peak_bf16_flops * mfu)
    # Counting the others by the H100's own yardstick gives back the H100e.
    assert result.other_gpu_count * metric_other / metric_h100 == pytest.approx(extra, abs=1e-6)


def test_bf16_metric_makes_the_other_gpu_irrelevant(project):
    values = {
        "h100_count": 350_000,
        "h100_equivalents_total": 600_000,
        "mfu": 0.41,
        "equivalence_metric": "bf16_dense",
    }
    peaks = {
        gpu: fleet.compute({**values, "other_gpu": gpu}, project).peak_bf16_flops
        for gpu in project.parameters["other_gpu"].choices
    }
    for peak in peaks.values():
        assert peak == pytest.approx(
            600_000 * project.accelerators["h100_sxm"].bf16_dense_tflops * 1e12
        )


def test_equivalence_table_skips_missing_metrics(project):
    table = fleet.equivalence_table(project, 250_000, ["a100_sxm_80gb", "mi300x"])
    assert not ((table["gpu"] == "a100_sxm_80gb") & (table["metric"] == "fp8_dense")).any()
    row = table[(table["gpu"] == "mi300x") & (table["metric"] == "memory_capacity")].iloc[0]
    assert row["count"] == pytest.approx(250_000 * 80 / 192)
