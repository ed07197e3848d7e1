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


def _unique_keys_loader():
    """A safe YAML loader that refuses a key given twice in one mapping (plain YAML keeps the
    last silently)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return loader.construct_mapping(node, deep=deep)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return Loader


def load(path: Path, project: ProjectData) -> Scenario:
    """Read and check a scenario file; every problem names the file."""
    import yaml

    if not path.is_file():
        raise ParameterError(f"scenario {path}: file not found")
    try:
        with path.open(encoding="utf-8") as handle:  # a file, so that errors name it
            content = yaml.load(handle, Loader=_unique_keys_loader())
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
