"""The model against values computed by hand, and relationships that must hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
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


def _values(project, **changes):
    """The defaults with the fleet set by hand (only what the mix and compute read)."""
    from gpufleet.model.params import defaults

    return {**defaults(project), **changes}


def test_a_fleet_of_h100s_and_a100s_by_bf16_is_the_total_times_the_h100_peak(project):
    # By hand: 600,000 x 989e12 FLOP/s = 5.934e20 FLOP/s = 593.4 EFLOP/s; x 0.41 = 243.294.
    values = _values(
        project, h100_equivalents_total=600_000, mi300x_count=0, a100_count=0, mfu=0.41
    )
    the_mix = fleet.mix(values, project)
    assert the_mix.room_h100e == 250_000
    assert [g.role for g in the_mix.groups] == ["h100", "named", "named", "remainder"]
    assert the_mix.groups[-1].count == pytest.approx(250_000 * 989 / 312)  # 792,467.9 A100s
    result = fleet.compute(values, project)
    assert result.peak_bf16_dense_exaflops == pytest.approx(593.4)
    assert result.effective_bf16_exaflops == pytest.approx(243.294)
    assert result.h100_peak_bf16_flops == pytest.approx(3.4615e20)


def test_the_default_mix_by_hand(project):
    # 173,000 MI300X x 1307/989 = 228,625.9 H100e; 16,000 A100 x 312/989 = 5,047.5 H100e;
    # room 590,000 - 350,000 = 240,000; remainder 6,326.6 H100e = 20,054.5 A100s.
    the_mix = fleet.mix(_values(project), project)
    h100, mi300x, a100, rest = the_mix.groups
    assert (h100.count, mi300x.count, a100.count) == (350_000, 173_000, 16_000)
    assert the_mix.scale == 1.0
    assert the_mix.named_h100e == pytest.approx(173_000 * 1307 / 989 + 16_000 * 312 / 989)
    assert the_mix.remainder_h100e == pytest.approx(6_326.6, abs=0.1)
    assert rest.accelerator.id == "a100_sxm_80gb" and rest.label.endswith("(remainder)")
    assert rest.count == pytest.approx(20_054.5, abs=0.1)
    assert the_mix.gpu_count == pytest.approx(350_000 + 173_000 + 16_000 + 20_054.5, abs=0.1)
    # By BF16, whatever the mix, the peak is the total times an H100's.
    assert fleet.compute(_values(project), project).peak_bf16_dense_exaflops == pytest.approx(
        590_000 * 989e12 / 1e18
    )


def test_named_gpus_that_overflow_the_total_are_scaled_to_fit(project):
    # Room 150,000 H100e; the named GPUs count for 233,673.4: each is scaled by 0.64192.
    the_mix = fleet.mix(_values(project, h100_equivalents_total=500_000), project)
    named = 173_000 * 1307 / 989 + 16_000 * 312 / 989
    assert the_mix.scale == pytest.approx(150_000 / named)
    assert the_mix.groups[1].count == pytest.approx(173_000 * 150_000 / named)
    assert the_mix.remainder_h100e == 0 and the_mix.groups[-1].count == 0


def test_a_total_equal_to_the_h100s_is_h100s_alone(project):
    the_mix = fleet.mix(_values(project, h100_equivalents_total=350_000), project)
    assert the_mix.gpu_count == 350_000
    assert the_mix.other_gpu_count == 0


def test_the_mix_by_memory_capacity(project):
    # MI300X 192 GB = 2.4 H100 (80 GB): 415,200 H100e, A100 80 GB: 16,000; room 240,000.
    the_mix = fleet.mix(_values(project, equivalence_metric="memory_capacity"), project)
    assert the_mix.scale == pytest.approx(240_000 / (173_000 * 2.4 + 16_000))


def test_a_gpu_without_the_metric_counts_for_no_h100_equivalents(project):
    # By FP8 the A100 has none: the MI300Xs (173,000 x 2615/1979) and the remainder fill the room.
    values = _values(project, equivalence_metric="fp8_dense", remainder_gpu="mi300x")
    the_mix = fleet.mix(values, project)
    assert the_mix.named_h100e == pytest.approx(173_000 * 2615 / 1979)
    assert the_mix.groups[2].count == 16_000  # still there, drawing power


def test_cluster_equivalents():
    assert formulas.cluster_equivalents(350_000, 24_576) == pytest.approx(14.2415, abs=1e-4)


def test_mix_scale():
    assert formulas.mix_scale(240_000, 120_000) == 1.0
    assert formulas.mix_scale(100_000, 400_000) == 0.25
    assert formulas.mix_scale(0, 400_000) == 0.0
    assert formulas.mix_scale(100_000, 0) == 1.0
    np.testing.assert_allclose(
        formulas.mix_scale(np.array([100.0, 300.0, 0.0]), np.array([200.0, 200.0, 0.0])),
        [0.5, 1.0, 1.0],
    )


def test_the_model_accepts_arrays(project):
    counts = np.array([300_000.0, 350_000.0, 400_000.0])
    mfu = np.array([0.3, 0.4, 0.5])
    values = _values(project, h100_count=counts, h100_equivalents_total=600_000, mfu=mfu)
    result = fleet.compute(values, project)
    np.testing.assert_allclose(result.peak_bf16_flops, np.full(3, 600_000 * 989e12))
    np.testing.assert_allclose(result.effective_bf16_flops, 600_000 * 989e12 * mfu)
    for i, count in enumerate(counts):
        one = fleet.mix({**values, "h100_count": count, "mfu": mfu[i]}, project)
        assert fleet.mix(values, project).gpu_count[i] == pytest.approx(one.gpu_count)


counts = st.integers(min_value=0, max_value=2_000_000)


@settings(max_examples=80, deadline=None)
@given(
    h100=st.integers(1, 2_000_000),
    extra=counts,
    mi300x=counts,
    a100=counts,
    metric=st.sampled_from(["bf16_dense", "memory_bandwidth", "memory_capacity"]),
    remainder=st.sampled_from(["a100_sxm_80gb", "mi300x", "h200_sxm"]),
)
def test_relationships(project, h100, extra, mi300x, a100, metric, remainder):
    values = _values(
        project,
        h100_count=h100,
        h100_equivalents_total=h100 + extra,
        mi300x_count=mi300x,
        a100_count=a100,
        equivalence_metric=metric,
        remainder_gpu=remainder,
    )
    the_mix = fleet.mix(values, project)
    h100_gpu = project.accelerators["h100_sxm"]
    # Every group counted back in H100 equivalents makes the total exactly.
    h100e = sum(
        g.count * g.accelerator.metric(metric) / h100_gpu.metric(metric) for g in the_mix.groups
    )
    assert h100e == pytest.approx(h100 + extra, rel=1e-9)
    assert all(g.count >= 0 for g in the_mix.groups)
    assert 0 <= the_mix.scale <= 1
    # Named GPUs are kept whole whenever they fit.
    if the_mix.named_h100e <= extra:
        assert the_mix.groups[1].count == pytest.approx(mi300x)
    result = fleet.compute(values, project)
    assert result.peak_bf16_flops == pytest.approx(
        result.h100_peak_bf16_flops + result.other_peak_bf16_flops
    )


def test_bf16_metric_makes_the_remainder_gpu_irrelevant_to_the_peak(project):
    peaks = {
        gpu: fleet.compute(_values(project, remainder_gpu=gpu), project).peak_bf16_flops
        for gpu in project.parameters["remainder_gpu"].choices
    }
    for peak in peaks.values():
        assert peak == pytest.approx(590_000 * 989e12)


def test_equivalence_table_skips_missing_metrics(project):
    table = fleet.equivalence_table(project, 250_000, ["a100_sxm_80gb", "mi300x"])
    assert not ((table["gpu"] == "a100_sxm_80gb") & (table["metric"] == "fp8_dense")).any()
    row = table[(table["gpu"] == "mi300x") & (table["metric"] == "memory_capacity")].iloc[0]
    assert row["count"] == pytest.approx(250_000 * 80 / 192)
