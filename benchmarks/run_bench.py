"""Benchmark: gpufleet's runner against plain Jupyter Book executing the same notebooks.

Prints, in one run, on a scratch copy of the project:
- our cold run (every notebook and the build), a no-change re-run, a one-parameter re-run;
- the peer: ``jupyter-book build`` executing the notebooks itself, forced and with its cache
  (cold, then warm);
and the ratios the project targets: cold <= 0.6 x the peer's forced build, no-change <= 0.15 x
our cold run, one-parameter <= 0.5 x our cold run. Timings are wall-clock seconds on this
machine; each is the best of ``--repeat`` tries.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gpufleet.build import files

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: A parameter that one chapter takes (and the uncertainty chapter, which takes them all).
ONE_PARAMETER = "cloud_usd_per_gpu_hour=2.5"


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{completed.stdout}\n{completed.stderr}")
    return elapsed


def fresh_copy(parent: Path, name: str) -> Path:
    return files.copy_project(ROOT, parent / name)


def peer_copy(parent: Path, name: str, mode: str) -> Path:
    """The same book for plain Jupyter Book: source notebooks in book/, executed by the build."""
    target = fresh_copy(parent, name)
    for notebook in (target / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, target / "book" / notebook.name)
    config = target / "_config.yml"
    text = config.read_text().replace('execute_notebooks: "off"', f'execute_notebooks: "{mode}"')
    config.write_text(text.replace("execute:\n", "execute:\n  timeout: 300\n", 1))
    return target


def ours(parent: Path, repeat: int) -> dict[str, float]:
    gpufleet = [str(BIN / "gpufleet")]
    best = {"cold": float("inf"), "no change": float("inf"), "one parameter": float("inf")}
    for attempt in range(repeat):
        root = fresh_copy(parent, f"ours-{attempt}")
        best["cold"] = min(best["cold"], timed([*gpufleet, "--root", str(root), "run"], root))
        best["no change"] = min(
            best["no change"], timed([*gpufleet, "--root", str(root), "run"], root)
        )
        best["one parameter"] = min(
            best["one parameter"],
            timed([*gpufleet, "--root", str(root), "run", "--set", ONE_PARAMETER], root),
        )
    return best


def peer(parent: Path, repeat: int) -> dict[str, float]:
    jb = str(BIN / "jupyter-book")
    best = {"forced": float("inf"), "cache, cold": float("inf"), "cache, warm": float("inf")}
    for attempt in range(repeat):
        forced = peer_copy(parent, f"peer-force-{attempt}", "force")
        best["forced"] = min(best["forced"], timed([jb, "build", "--all", str(forced)], forced))
        cached = peer_copy(parent, f"peer-cache-{attempt}", "cache")
        best["cache, cold"] = min(best["cache, cold"], timed([jb, "build", str(cached)], cached))
        best["cache, warm"] = min(best["cache, warm"], timed([jb, "build", str(cached)], cached))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="tries per timing (best is kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gpufleet-bench-") as scratch:
        parent = Path(scratch)
        mine = ours(parent, args.repeat)
        theirs = peer(parent, args.repeat)
    print(f"{'timing (best of ' + str(args.repeat) + ')':<44}{'seconds':>10}")
    for label, seconds in mine.items():
        print(f"{'gpufleet run, ' + label:<44}{seconds:>10.2f}")
    for label, seconds in theirs.items():
        print(f"{'jupyter-book build executing, ' + label:<44}{seconds:>10.2f}")
    checks = [
        ("cold run / peer's forced build", mine["cold"] / theirs["forced"], 0.6),
        ("no-change re-run / our cold run", mine["no change"] / mine["cold"], 0.15),
        ("one-parameter re-run / our cold run", mine["one parameter"] / mine["cold"], 0.5),
    ]
    print()
    print(f"{'ratio':<44}{'value':>10}{'target':>10}  verdict")
    for label, value, target in checks:
        verdict = "meets" if value <= target else "MISSES"
        print(f"{label:<44}{value:>10.3f}{'<= ' + str(target):>10}  {verdict}")


if __name__ == "__main__":
    main()
