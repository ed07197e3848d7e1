"""Compiled bytecode for what a run imports, where Python would not write it itself.

With ``PYTHONDONTWRITEBYTECODE`` set (as in many containers and CI machines), no process
writes the compiled form of the modules it imports, so every run compiles pandas, Altair,
IPython and Sphinx again in each of its processes: a one-parameter re-run took 5.3 to 6.2 s
here instead of 3.5 s. ``make book`` runs ``python -m gpufleet.build.bytecode`` once after
installing: it imports what the notebooks' worker and the build import, and compiles those
modules' files (about 1,700, ten seconds here), not the whole environment. Where Python writes
bytecode itself, it does nothing.
"""

from __future__ import annotations

import importlib
import os
import py_compile
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def imported_sources() -> list[Path]:
    """The source files of every module imported so far that has one."""
    files = {getattr(module, "__file__", None) for module in list(sys.modules.values())}
    return sorted(Path(name) for name in files if name and name.endswith(".py"))


def _compile(files: list[Path]) -> int:
    # quiet=2: a file that cannot be compiled (not valid Python, a read-only folder) gives None.
    return sum(py_compile.compile(str(path), quiet=2) is not None for path in files)


def compile_files(files: Iterable[Path], workers: int | None = None) -> int:
    """Write the bytecode of ``files`` beside them (``__pycache__``), in ``workers`` processes;
    how many were compiled (a file that cannot be is skipped: this is only a speed-up)."""
    files = list(files)
    workers = max(1, min(workers or os.cpu_count() or 1, len(files) or 1))
    with ProcessPoolExecutor(workers) as pool:
        return sum(pool.map(_compile, [files[i::workers] for i in range(workers)]))


def main() -> None:
    if not sys.flags.dont_write_bytecode:
        print("bytecode: Python writes it as it imports; nothing to do")
        return
    from gpufleet.build import booksite, execution

    for name in execution.CHAPTER_MODULES:
        importlib.import_module(name)
    booksite.warm()
    importlib.import_module("gpufleet.build.runner")
    files = imported_sources()
    print(f"bytecode: compiled {compile_files(files)} of the {len(files)} modules a run imports")


if __name__ == "__main__":
    main()
