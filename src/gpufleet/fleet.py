"""Chapter-level assembly: binds checked parameters and data to the model's functions.

Nothing here is a formula of its own; it picks the right figures out of ``data/`` and passes
them to :mod:`gpufleet.model`, returning plain results and tables for the notebooks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from gpufleet import model
from gpufleet.data import METRIC_LABELS, METRIC_UNITS, ProjectData

REFERENCE_GPU = "h100_sxm"


def compute(values: Mapping[str, object], project: ProjectData) -> model.FleetCompute:
    """The fleet's compute for checked parameter values (see :func:`model.fleet_compute`)."""
    h100 = project.accelerators[REFERENCE_GPU]
    other = project.accelerators[str(values["other_gpu"])]
    metric = str(values["equivalence_metric"])
    return model.fleet_compute(
        h100_count=float(values["h100_count"]),
        h100_equivalents_total=float(values["h100_equivalents_total"]),
        mfu=float(values["mfu"]),
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
                    "per_h100": model.gpus_per_h100_equivalent(h100.metric(metric), value),
                    "count": model.other_gpu_count(other_h100e, h100.metric(metric), value),
                }
            )
    return pd.DataFrame(rows)
