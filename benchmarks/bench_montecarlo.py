"""Benchmark: Monte Carlo throughput, every headline number for N joint samples in one call.

Target: 1,000,000 joint samples through every headline number in under one second on one core.
NumPy's element-wise arithmetic runs on one core; the first call pays for memory allocation, so
the best of several calls is reported beside it.
"""

from __future__ import annotations

import argparse
import time

from gpufleet.model import data, params, uncertainty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    project = data.load()
    values = params.defaults(project)
    timings = []
    for attempt in range(args.repeat):
        started = time.perf_counter()
        results = uncertainty.simulate(values, project, args.samples, seed=attempt)
        timings.append(time.perf_counter() - started)
    best = min(timings)
    print(
        f"Monte Carlo: {args.samples:,} joint samples of "
        f"{len(uncertainty.varied(values, project))} parameters through {len(results)} "
        "headline numbers"
    )
    print(
        f"  first call {timings[0]:.3f} s, best of {args.repeat} {best:.3f} s, "
        f"{args.samples / best / 1e6:.2f} million samples per second"
    )
    verdict = "meets" if best < 1.0 else "MISSES"
    print(f"  target: under 1 s for 1,000,000 samples: {verdict}")


if __name__ == "__main__":
    main()
