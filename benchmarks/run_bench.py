"""Benchmark: gpufleet's runner against what a user would do instead, in one run.

On scratch copies of the project, each timing the best of ``--repeat`` tries (wall-clock
seconds on this machine), ours and the peer's taken in turn:

- ours: a cold ``gpufleet run`` (every notebook and the build, in a copy with no ``_build``;
  like the compiled modules, the Vega bundle is the environment's and made once for it), a
  re-run with nothing changed, and a re-run with one parameter changed;
- the peer, plain Jupyter Book: ``jupyter-book build --all`` executing the notebooks itself
  (``execute_notebooks: force``); and its one-parameter re-run as a user would do it on a copy
  the peer has built: ``papermill -p`` on each notebook that takes the parameter, one after
  another, then ``jupyter-book build`` with execution off; and, for reference, its cached build
  (``execute_notebooks: cache``), cold then warm.

It prints the ratios the project targets, where our cold run's time goes (from
``gpufleet run --timings``) and the peak memory of a cold run (the runner and its workers
together, sampled).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from gpufleet.book.notebooks import parameter_users
from gpufleet.build import files

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: A parameter that the costs chapter takes, and the chapters that reuse its H100-hour.
ONE_PARAMETER = ("cloud_usd_per_gpu_hour", "2.5")

#: (label, numerator, denominator, target): the ratios the project targets.
TARGETS = (
    ("cold run / peer's forced build", "ours, cold", "peer, forced", 0.4),
    (
        "one-parameter re-run / peer's one-parameter re-run",
        "ours, one parameter",
        "peer, one parameter",
        0.3,
    ),
    ("no-change re-run / our cold run", "ours, no change", "ours, cold", 0.05),
)


class Timed:
    """A command's wall-clock time, output and the peak memory of its process tree."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.peak_bytes = 0
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        watcher = threading.Thread(target=self._watch, args=(process.pid,), daemon=True)
        watcher.start()
        self.stdout, stderr = process.communicate()
        self.seconds = time.perf_counter() - started
        watcher.join()
        if process.returncode != 0:
            sys.exit(f"failed: {' '.join(command)}\n{self.stdout}\n{stderr}")

    def _watch(self, pid: int) -> None:
        try:
            top = psutil.Process(pid)
            while top.is_running() and top.status() != psutil.STATUS_ZOMBIE:
                total = 0
                for process in (top, *top.children(recursive=True)):
                    try:
                        total += _resident(process)
                    except psutil.Error:
                        pass
                self.peak_bytes = max(self.peak_bytes, total)
                time.sleep(0.05)
        except psutil.Error:
            return


def _resident(process: psutil.Process) -> int:
    """The memory a process holds, its pages shared with others counted in shares (PSS):
    forks of one process share most of theirs, and adding up their resident sizes would count
    those pages once per fork."""
    try:
        return process.memory_full_info().pss
    except (AttributeError, psutil.AccessDenied):  # no PSS on this platform
        return process.memory_info().rss


def fresh_copy(parent: Path, name: str) -> Path:
    return files.copy_project(ROOT, parent / name)


def peer_copy(parent: Path, name: str, mode: str) -> Path:
    """The same book for plain Jupyter Book: source notebooks in book/, executed by the build."""
    target = fresh_copy(parent, name)
    for notebook in (target / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, target / "book" / notebook.name)
    set_execution(target, mode)
    return target


def set_execution(root: Path, mode: str) -> None:
    config = root / "_config.yml"
    text = re.sub(r'execute_notebooks: "\w+"', f'execute_notebooks: "{mode}"', config.read_text())
    if "timeout:" not in text:
        text = text.replace("execute:\n", "execute:\n  timeout: 300\n", 1)
    config.write_text(text)


def best(times: dict[str, list[float]]) -> dict[str, float]:
    return {label: min(values) for label, values in times.items()}


def ours(parent: Path, attempt: int, times: dict[str, list[float]]) -> tuple[dict, int]:
    """One try of ours: a cold run, then no change, then one parameter changed; the cold run's
    phases (if it is the fastest so far, else none) and its peak memory."""
    gpufleet = [str(BIN / "gpufleet")]
    name, value = ONE_PARAMETER
    root = fresh_copy(parent, f"ours-{attempt}")
    cold = Timed([*gpufleet, "--root", str(root), "run", "--timings"], root)
    fastest = cold.seconds <= min(times["ours, cold"], default=float("inf"))
    phases = {"total": cold.seconds, **parse_timings(cold.stdout)} if fastest else {}
    times["ours, cold"].append(cold.seconds)
    times["ours, no change"].append(Timed([*gpufleet, "--root", str(root), "run"], root).seconds)
    one = [*gpufleet, "--root", str(root), "run", "--set", f"{name}={value}"]
    times["ours, one parameter"].append(Timed(one, root).seconds)
    return phases, cold.peak_bytes


def parse_timings(output: str) -> dict[str, float]:
    """The phases ``gpufleet run --timings`` reports on its last lines: ``timing NAME S``."""
    return {
        match[1]: float(match[2]) for match in re.finditer(r"^timing (\S+) ([\d.]+)$", output, re.M)
    }


def peer(parent: Path, attempt: int, times: dict[str, list[float]]) -> None:
    """One try of the peer's: a forced build, its one-parameter re-run, a cached build."""
    jb = str(BIN / "jupyter-book")
    papermill = str(BIN / "papermill")
    name, value = ONE_PARAMETER
    takers = parameter_users(ROOT)[name]
    forced = peer_copy(parent, f"peer-force-{attempt}", "force")
    times["peer, forced"].append(Timed([jb, "build", "--all", str(forced)], forced).seconds)
    # The user's one-parameter re-run on the copy the peer built.
    set_execution(forced, "off")
    started = time.perf_counter()
    for notebook in takers:
        page = str(forced / "book" / f"{notebook}.ipynb")
        Timed([papermill, page, page, "-p", name, value, "--cwd", str(forced)], forced)
    Timed([jb, "build", str(forced)], forced)
    times["peer, one parameter"].append(time.perf_counter() - started)

    cached = peer_copy(parent, f"peer-cache-{attempt}", "cache")
    times["peer, cached, cold"].append(Timed([jb, "build", str(cached)], cached).seconds)
    times["peer, cached, warm"].append(Timed([jb, "build", str(cached)], cached).seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="tries per timing (best is kept)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {
        label: []
        for label in (
            "ours, cold",
            "ours, no change",
            "ours, one parameter",
            "peer, forced",
            "peer, one parameter",
            "peer, cached, cold",
            "peer, cached, warm",
        )
    }
    phases: dict[str, float] = {}
    peak = 0
    with tempfile.TemporaryDirectory(prefix="gpufleet-bench-") as scratch:
        parent = Path(scratch)
        # Ours and the peer's in turn: the machine's speed drifts, and each ratio compares
        # timings taken under the same conditions.
        for attempt in range(args.repeat):
            cold_phases, cold_peak = ours(parent, attempt, times)
            phases = cold_phases or phases
            peak = max(peak, cold_peak)
            peer(parent, attempt, times)
    fastest = best(times)
    name, value = ONE_PARAMETER
    print(f"one parameter: {name}={value} ({', '.join(parameter_users(ROOT)[name])})")
    print(f"{'timing (best of ' + str(args.repeat) + ')':<52}{'seconds':>10}")
    for label, seconds in fastest.items():
        print(f"{label:<52}{seconds:>10.2f}")
    print()
    print("where our cold run's time goes (its fastest try)")
    accounted = sum(seconds for phase, seconds in phases.items() if phase != "total")
    shown = {"start-up and exit": phases["total"] - accounted, **phases}
    for phase, seconds in shown.items():
        if phase != "total":
            print(f"  {phase:<50}{seconds:>10.2f}")
    print(f"  {'total':<50}{phases['total']:>10.2f}")
    print(f"peak memory of a cold run (runner and its workers, PSS): {peak / 2**20:,.0f} MiB")
    print()
    print(f"{'ratio':<52}{'value':>10}{'target':>10}  verdict")
    for label, numerator, denominator, target in TARGETS:
        value = fastest[numerator] / fastest[denominator]
        verdict = "meets" if value <= target else "MISSES"
        print(f"{label:<52}{value:>10.3f}{'<= ' + str(target):>10}  {verdict}")


if __name__ == "__main__":
    main()
