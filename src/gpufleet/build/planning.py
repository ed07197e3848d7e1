"""Planning a run: every input checked before anything executes.

All parameters (from ``--set`` and from a scenario) are typed and range-checked against the
registry, the notebooks named by ``--only`` must exist, and a parameter set on the command line
must be taken by a selected notebook. Any problem raises ParameterError, which the command line
turns into exit status 2 with nothing run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gpufleet.book.notebooks import SourceNotebook, discover
from gpufleet.build.provenance import Assumptions
from gpufleet.model import data as _data
from gpufleet.model import params as _params
from gpufleet.model import scenarios
from gpufleet.model.params import ParameterError, Value


@dataclass(frozen=True)
class Plan:
    """What a run will do, decided and checked before anything executes."""

    root: Path
    notebooks: tuple[SourceNotebook, ...]
    overrides: Mapping[str, Value]
    scenario: str | None = None
    never_run: tuple[str, ...] = ()
    #: The chapters left out by ``--only``: they keep what they were last computed with.
    others: tuple[SourceNotebook, ...] = ()
    #: The parameters the scenario set (``--set`` may set others beside them).
    from_scenario: frozenset[str] = frozenset()

    def parameters_for(self, notebook: SourceNotebook) -> dict[str, Value]:
        """The overridden values a notebook takes (papermill injects only these)."""
        return {k: v for k, v in self.overrides.items() if k in notebook.parameters}

    def assumptions_for(self, notebook: SourceNotebook, inputs: str) -> Assumptions:
        """What ``notebook`` is computed with in this run, on the data and code ``inputs``."""
        taken = self.parameters_for(notebook)
        scenario = self.scenario if self.from_scenario & taken.keys() else None
        return Assumptions(taken, scenario, inputs)


def parse_assignment(text: str) -> tuple[str, str]:
    """Split ``NAME=VALUE`` from ``--set``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ParameterError(f"--set {text!r}: expected NAME=VALUE, for example --set pue=1.3")
    return name.strip(), value.strip()


def plan(
    root: Path,
    *,
    sets: Sequence[str] = (),
    only: Sequence[str] = (),
    scenario: str | None = None,
) -> Plan:
    """Check everything a run needs; raises ParameterError (exit 2) before anything runs."""
    project = _data.load(root)
    available = discover(root)
    by_name = {nb.name: nb for nb in available}
    for name in only:
        if name not in by_name:
            hint = _params.nearest(name, by_name)
            raise ParameterError(
                f"--only {name!r}: no such notebook"
                + (f"; did you mean {hint!r}?" if hint else "")
                + f" (notebooks: {', '.join(by_name)})"
            )
    selected = tuple(by_name[n] for n in dict.fromkeys(only)) if only else tuple(available)

    requested: dict[str, object] = {}
    label = None
    if scenario:
        loaded = scenarios.load(scenarios.resolve(root, scenario), project)
        label = loaded.name
        requested.update(loaded.parameters)
    from_scenario = frozenset(requested)
    given: dict[str, str] = {}
    for text in sets:
        name, value = parse_assignment(text)
        if name in given:
            raise ParameterError(
                f"--set {name} is given twice ({given[name]!r} and {value!r}); give each "
                "parameter once"
            )
        given[name] = value
        requested[name] = value

    overrides = _params.validate(requested, project)
    # Cross-parameter checks see the whole set of values the run will use.
    _params.validate({**_params.defaults(project), **overrides}, project)
    taken = {name for nb in selected for name in nb.parameters}
    for name in (parse_assignment(text)[0] for text in sets):  # a scenario may set more
        if name not in taken:
            users = [nb.name for nb in available if name in nb.parameters]
            raise ParameterError(
                f"{name}: not taken by the selected notebook(s) "
                f"{', '.join(nb.name for nb in selected)}"
                + (f"; it is used by {', '.join(users)}" if users else "; no notebook uses it yet")
            )
    # The book needs every chapter: one never executed before runs too, whatever --only says.
    missing = tuple(
        nb
        for nb in available
        if nb not in selected and not (root / "book" / f"{nb.name}.ipynb").is_file()
    )
    others = tuple(nb for nb in available if nb not in selected and nb not in missing)
    return Plan(
        root,
        selected + missing,
        overrides,
        label,
        tuple(nb.name for nb in missing),
        others,
        from_scenario - set(given),
    )
