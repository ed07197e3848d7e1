"""Files: written so that a reader never sees half of one, and copies of the project."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a scratch file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


def same_bytes(first: Path, second: Path) -> bool:
    """Whether both files exist and hold the same bytes (sizes compared first)."""
    try:
        return (
            first.stat().st_size == second.stat().st_size
            and first.read_bytes() == second.read_bytes()
        )
    except FileNotFoundError:
        return False


#: What a copy of the project leaves out: environments, builds, caches.
NOT_SOURCES = (
    ".venv",
    "_build",
    ".git",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
)


def copy_project(root: Path, target: Path) -> Path:
    """A copy of the project's sources (no environment, no build, no executed notebooks).

    The tests and the benchmark run the report in such copies, leaving the checkout alone.
    """
    shutil.copytree(root, target, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    for executed in (target / "book").glob("*.ipynb"):
        executed.unlink()
    return target
