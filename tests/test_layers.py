"""The package's layers: imports only go down (model <- book <- build <- cli <- __main__)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "gpufleet"

#: What each part of the package may import from gpufleet, besides itself.
ALLOWED = {
    "errors": set(),
    "formatting": set(),
    "model": {"errors", "formatting"},
    "book": {"errors", "formatting", "model"},
    "build": {"errors", "formatting", "model", "book"},
    "cli": {"errors", "formatting", "model", "book", "build"},
    # The command's entry point: starts the notebooks' worker, then hands over to cli.
    "__main__": {"build", "cli"},
}


def _part(path: Path) -> str:
    first = path.relative_to(PACKAGE).parts[0]
    return first.removesuffix(".py")


def _imported_parts(path: Path) -> set[str]:
    """The parts of gpufleet a module imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "gpufleet":
                names = [f"gpufleet.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "gpufleet" and len(parts) > 1 and parts[1] != "__version__":
                found.add(parts[1])
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_down(path):
    part = _part(path)
    assert part in ALLOWED, f"{path.relative_to(PACKAGE)}: not in a known layer"
    upward = _imported_parts(path) - ALLOWED[part] - {part}
    assert not upward, f"{path.relative_to(PACKAGE)} ({part}) imports {sorted(upward)}"


def test_the_package_has_three_layers_and_a_command():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == {"model", "book", "build"}
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules == {"__init__", "__main__", "cli", "errors", "formatting"}


def test_an_upward_import_is_caught(tmp_path):
    """The check itself: a model module importing the build layer is found."""
    module = PACKAGE / "model" / "fleet.py"
    assert "build" not in _imported_parts(module)
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f():\n    from gpufleet.build import runner\n    from gpufleet import book\n"
    )
    assert _imported_parts(bad) == {"build", "book"}
