"""Reading the source notebooks: which exist, and the parameters each declares.

A notebook's parameters are the annotated assignments of its cell tagged ``parameters``:
``mfu: float = 0.41  # comment``. Only literals are allowed there, so papermill can document
them and an override is never silently undone by a computed default.
"""

from __future__ import annotations

import ast
import io
import json
import tokenize
from dataclasses import dataclass
from pathlib import Path


class NotebookError(ValueError):
    """A source notebook that breaks the project's conventions."""


@dataclass(frozen=True)
class DeclaredParameter:
    name: str
    annotation: str
    default: object
    comment: str


@dataclass(frozen=True)
class SourceNotebook:
    name: str
    path: Path
    parameters: dict[str, DeclaredParameter]


def _cells(path: Path) -> list[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError) as error:
        raise NotebookError(f"{path.name}: cannot read the notebook ({error})") from None


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def parameters_cell(path: Path) -> str | None:
    """The source of the cell tagged ``parameters`` (None if there is none)."""
    tagged = [
        c
        for c in _cells(path)
        if c.get("cell_type") == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) > 1:
        raise NotebookError(f"{path.name}: {len(tagged)} cells are tagged 'parameters'; keep one")
    return _source(tagged[0]) if tagged else None


def declared_parameters(path: Path) -> dict[str, DeclaredParameter]:
    """Parse the parameters cell: every statement must be ``name: type = literal  # comment``."""
    source = parameters_cell(path)
    if source is None:
        return {}
    comments = {
        token.start[0]: token.string.lstrip("#").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    declared: dict[str, DeclaredParameter] = {}
    for node in ast.parse(source).body:
        where = f"{path.name}, parameters cell, line {node.lineno}"
        if not (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
        ):
            raise NotebookError(
                f"{where}: only 'name: type = literal  # comment' lines belong here"
            )
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise NotebookError(
                f"{where}: {node.target.id} must be a literal; derive values in the next cell"
            ) from None
        comment = comments.get(node.lineno, "")
        if not comment:
            raise NotebookError(f"{where}: {node.target.id} needs a trailing '# comment'")
        declared[node.target.id] = DeclaredParameter(
            node.target.id, ast.unparse(node.annotation), default, comment
        )
    return declared


def discover(root: Path) -> list[SourceNotebook]:
    """The source notebooks in ``notebooks/``, in file-name order."""
    paths = sorted((root / "notebooks").glob("*.ipynb"))
    return [SourceNotebook(path.stem, path, declared_parameters(path)) for path in paths]


def parameter_users(root: Path) -> dict[str, list[str]]:
    """For each parameter name, the notebooks that take it."""
    users: dict[str, list[str]] = {}
    for notebook in discover(root):
        for name in notebook.parameters:
            users.setdefault(name, []).append(notebook.name)
    return users


def strip_outputs(path: Path) -> bool:
    """Remove outputs and execution counts from a source notebook; True if it changed."""
    original = path.read_text(encoding="utf-8")
    notebook = json.loads(original)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    notebook.get("metadata", {}).pop("widgets", None)
    stripped = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    if stripped == original:
        return False
    path.write_text(stripped, encoding="utf-8")
    return True
