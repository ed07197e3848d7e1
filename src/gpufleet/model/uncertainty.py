"""Monte Carlo over the sourced ranges: every headline number as a distribution.

Each numeric parameter with a distribution in data/parameters.csv is sampled over its sourced
range (triangular: low, default, high; uniform: low, high), all at once as NumPy arrays, and the
arrays go through :func:`gpufleet.model.headlines.compute_all` in one call. A parameter set away
from its default by the user is taken as known and held fixed, as are choices and parameters with no
sourced range. Seeded: the same seed gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from gpufleet.model.data import ProjectData
from gpufleet.model.headlines import compute_all

PERCENTILES = (5, 50, 95)


def varied(values: Mapping[str, object], project: ProjectData) -> list[str]:
    """The parameters the Monte Carlo samples: those with a distribution, left at default."""
    return [
        name
        for name, param in project.parameters.items()
        if name in values and param.distribution and values[name] == param.default
    ]


def sample(
    project: ProjectData, names: Iterable[str], samples: int, seed: int
) -> dict[str, np.ndarray]:
    """``samples`` joint draws of the named parameters (independent), reproducible by seed."""
    rng = np.random.default_rng(seed)
    drawn = {}
    for name in names:
        param = project.parameters[name]
        if param.low == param.high:  # a collapsed range is a point
            drawn[name] = np.full(samples, float(param.default))
        elif param.distribution == "triangular":
            drawn[name] = rng.triangular(param.low, param.default, param.high, size=samples)
        elif param.distribution == "uniform":
            drawn[name] = rng.uniform(param.low, param.high, size=samples)
        else:
            raise ValueError(f"{name} has no distribution in data/parameters.csv")
    return drawn


def simulate(
    values: Mapping[str, object], project: ProjectData, samples: int, seed: int
) -> dict[str, np.ndarray]:
    """Every headline number for ``samples`` joint draws; fixed parameters as in ``values``."""
    draws = sample(project, varied(values, project), samples, seed)
    return {
        key: np.broadcast_to(np.asarray(result, dtype=float), (samples,))
        for key, result in compute_all({**values, **draws}, project).items()
    }


def summary(
    values: Mapping[str, object], project: ProjectData, samples: int, seed: int
) -> pd.DataFrame:
    """Per headline: the central value (this run), the 5th, 50th and 95th percentiles."""
    simulated = simulate(values, project, samples, seed)
    return summarize(simulated, compute_all(values, project), project)


def summarize(
    simulated: Mapping[str, np.ndarray], central: Mapping[str, object], project: ProjectData
) -> pd.DataFrame:
    """:func:`summary` of samples already drawn by :func:`simulate`, and the central values."""
    rows = []
    for key, headline in project.headlines.items():
        p5, p50, p95 = percentiles(simulated[key])
        rows.append(
            {
                "key": key,
                "description": headline.description,
                "unit": headline.unit,
                "notebook": headline.notebook,
                "value": float(central[key]),
                "p5": float(p5),
                "p50": float(p50),
                "p95": float(p95),
            }
        )
    return pd.DataFrame(rows)


def percentiles(samples: np.ndarray) -> np.ndarray:
    """The 5th, 50th and 95th percentiles of ``samples``, interpolated between samples; where
    some samples are infinite (a job that makes no progress never finishes), each percentile is
    a sample itself, since interpolating towards an infinity gives NaN."""
    samples = np.asarray(samples, dtype=float)
    finite = np.isfinite(samples).all()
    return np.percentile(samples, PERCENTILES, method="linear" if finite else "inverted_cdf")
