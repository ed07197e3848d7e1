"""The source notebooks: which exist, the parameters each declares, and their tidying.

A notebook's parameters are the annotated assignments of its cell tagged ``parameters``:
``mfu: float = 0.41  # Model FLOPs utilization (fraction)``. Only literals are allowed there, so
papermill can document them and an override is never silently undone by a computed default.
The cell is written from ``data/parameters.csv`` (:func:`parameters_cell_text`): a notebook
chooses which parameters it takes, the registry says everything else about them, and
``gpufleet strip`` rewrites the cell whenever the registry changes.
"""

from __future__ import annotations

import ast
import io
import json
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gpufleet.errors import InputError
from gpufleet.model.data import Parameter, ProjectData


class NotebookError(InputError):
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


#: The first line of every parameters cell.
CELL_HEADER = (
    "# Written from data/parameters.csv by `gpufleet strip`; edit the registry, not this cell."
)
#: The longest line a parameters cell may have (the project's line length).
LINE_LENGTH = 100
_ANNOTATIONS = {"int": "int", "float": "float", "choice": "str"}


def parameter_line(param: Parameter) -> str:
    """``name: type = default  # label (unit)``, the line that declares ``param`` in a cell.

    The trailing comment is what ``papermill --help-notebook`` shows. A choice lists its
    options when the line has room for them.
    """
    if param.type == "choice":
        default = json.dumps(param.default)
    elif param.type == "float":
        default = repr(float(param.default))
    else:
        default = str(int(param.default))
    start = f"{param.name}: {_ANNOTATIONS[param.type]} = {default}  # {param.label}"
    if param.type != "choice":
        return start if param.unit == "id" else f"{start} ({param.unit})"
    listed = f"{start}: {', '.join(param.choices)}"
    return listed if len(listed) <= LINE_LENGTH else f"{start} ({len(param.choices)} choices)"


def parameters_cell_text(names: Iterable[str], project: ProjectData) -> str:
    """The parameters cell declaring ``names``, in the registry's order, from the registry."""
    wanted = set(names)
    unknown = sorted(wanted - set(project.parameters))
    if unknown:
        raise NotebookError(
            f"parameters cell: {', '.join(unknown)} not in data/parameters.csv; add the row there"
        )
    lines = [CELL_HEADER]
    for name, param in project.parameters.items():
        if name not in wanted:
            continue
        line = parameter_line(param)
        if len(line) > LINE_LENGTH:
            raise NotebookError(
                f"data/parameters.csv, {name}: its line in a parameters cell has {len(line)} "
                f"characters, more than {LINE_LENGTH}; shorten its label"
            )
        lines.append(line)
    return "\n".join(lines)


def _assigned_names(source: str, where: str) -> list[str]:
    """The names a parameters cell assigns, whatever else is wrong with it."""
    try:
        body = ast.parse(source).body
    except SyntaxError as error:
        raise NotebookError(f"{where}: not valid Python ({error.msg})") from None
    names = []
    for node in body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names += [target.id for target in targets if isinstance(target, ast.Name)]
    return names


def _parameters_cells(notebook: dict) -> list[dict]:
    return [
        cell
        for cell in notebook.get("cells", [])
        if cell.get("cell_type") == "code"
        and "parameters" in cell.get("metadata", {}).get("tags", [])
    ]


def expected_parameters_cell(path: Path, project: ProjectData) -> str | None:
    """What the registry says ``path``'s parameters cell should be (None: it has none)."""
    source = parameters_cell(path)
    if source is None:
        return None
    names = _assigned_names(source, f"{path.name}, parameters cell")
    return parameters_cell_text(names, project)


def strip_outputs(path: Path, project: ProjectData | None = None) -> bool:
    """Tidy a source notebook for committing; True if it changed.

    Removes outputs and execution counts and, given the ``project``, rewrites the parameters
    cell from the registry (values, types and comments), keeping the names it declares.
    """
    original = path.read_text(encoding="utf-8")
    notebook = json.loads(original)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    notebook.get("metadata", {}).pop("widgets", None)
    expected = expected_parameters_cell(path, project) if project is not None else None
    if expected is not None:
        lines = expected.split("\n")
        _parameters_cells(notebook)[0]["source"] = [line + "\n" for line in lines[:-1]] + [
            lines[-1]
        ]
    stripped = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    if stripped == original:
        return False
    path.write_text(stripped, encoding="utf-8")
    return True
