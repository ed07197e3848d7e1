"""Named scenarios: coherent sets of assumptions in data/scenarios/*.yaml, read safely.

A scenario is data, never code: YAML is read with ``safe_load``, and a file may hold only a
``description``, its ``sources`` (keys of book/references.bib) and ``parameters``. Values are
checked against the registry like any other input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gpufleet.model import params as _params
from gpufleet.model.data import ProjectData
from gpufleet.model.params import ParameterError, Value

ALLOWED_KEYS = ("description", "sources", "parameters")


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    description: str
    sources: tuple[str, ...]
    parameters: dict[str, Value]


def folder(root: Path) -> Path:
    return root / "data" / "scenarios"


def named(root: Path) -> list[str]:
    return sorted(path.stem for path in folder(root).glob("*.yaml"))


def resolve(root: Path, spec: str) -> Path:
    """A scenario by name (``data/scenarios/NAME.yaml``) or by the path of a YAML file."""
    candidate = Path(spec)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return candidate if candidate.is_absolute() else Path.cwd() / candidate
    path = folder(root) / f"{spec}.yaml"
    if path.is_file():
        return path
    raise ParameterError(
        f"--scenario {spec!r}: no such scenario; known scenarios: "
        f"{', '.join(named(root)) or 'none'} (or give the path of a .yaml file)"
    )


def load(path: Path, project: ProjectData) -> Scenario:
    """Read and check a scenario file; every problem names the file."""
    import yaml

    if not path.is_file():
        raise ParameterError(f"scenario {path}: file not found")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ParameterError(f"scenario {path}: not valid YAML ({error})") from None
    if not isinstance(content, dict):
        raise ParameterError(
            f"scenario {path}: expected a mapping with 'description' and 'parameters'"
        )
    unknown = sorted(set(content) - set(ALLOWED_KEYS))
    if unknown:
        raise ParameterError(
            f"scenario {path}: unknown key(s) {', '.join(map(str, unknown))}; allowed: "
            + ", ".join(ALLOWED_KEYS)
        )
    values = content.get("parameters") or {}
    if not isinstance(values, dict):
        raise ParameterError(f"scenario {path}: 'parameters' must be a mapping of NAME: VALUE")
    sources = content.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ParameterError(f"scenario {path}: 'sources' must be a list of reference keys")
    missing = [key for key in sources if key not in project.references]
    if missing:
        raise ParameterError(
            f"scenario {path}: source(s) {', '.join(missing)} not in book/references.bib"
        )
    try:
        typed = _params.validate({str(k): v for k, v in values.items()}, project)
        _params.validate({**_params.defaults(project), **typed}, project)
    except ParameterError as error:
        raise ParameterError(f"scenario {path}: {error}") from None
    return Scenario(
        path.stem, path, str(content.get("description") or "").strip(), tuple(sources), typed
    )


def load_all(project: ProjectData) -> list[Scenario]:
    """Every named scenario, the "announced" one first."""
    paths = sorted(
        folder(project.root).glob("*.yaml"), key=lambda p: (p.stem != "announced", p.stem)
    )
    return [load(path, project) for path in paths]
