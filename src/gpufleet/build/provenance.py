"""What each chapter's numbers were computed with, and whether a site's chapters agree.

The runner records an :class:`Assumptions` in every notebook it executes, in the notebook's
metadata under ``gpufleet``: the scenario, the parameters it set that the chapter takes, and a
digest of the data and code the chapter ran on. A notebook run by plain papermill carries
papermill's own record of the parameters it injected, which :func:`read` understands too.

From those records the runner refuses a run that would leave chapters on other assumptions
than the run's (:func:`differences`), ``gpufleet results`` says whether the numbers it reports
come from one set of assumptions (:func:`disagreements`), and the site says on its pages what
they assume (:func:`page_note`, :func:`intro_text`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from gpufleet.book.pages import label_in_sentence, value_with_unit
from gpufleet.model.data import ProjectData
from gpufleet.model.params import Value

#: Where an executed notebook's metadata keeps what the runner recorded.
METADATA_KEY = "gpufleet"

#: What the pages and messages call the report's own assumptions.
DEFAULTS = "the report's defaults"


@dataclass(frozen=True)
class Assumptions:
    """What a chapter was computed with.

    ``parameters`` are the values set for the run that the chapter takes (every other
    parameter is at its default); ``scenario`` names the scenario they came from, if any;
    ``inputs`` is a digest of the data and code (``None`` when unknown, as after plain
    papermill).
    """

    parameters: Mapping[str, Value] = field(default_factory=dict)
    scenario: str | None = None
    inputs: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "inputs": self.inputs,
            "parameters": dict(sorted(self.parameters.items())),
            "scenario": self.scenario,
        }

    @classmethod
    def from_json(cls, record: Mapping[str, object]) -> Assumptions:
        parameters = record.get("parameters") or {}
        return cls(
            dict(parameters) if isinstance(parameters, Mapping) else {},
            record.get("scenario") or None,
            record.get("inputs") or None,
        )

    def value(self, name: str, project: ProjectData) -> Value:
        """The value the chapter used for ``name``: the one set, else the default."""
        return self.parameters.get(name, project.parameters[name].default)

    def changed(self, project: ProjectData) -> dict[str, Value]:
        """The parameters set away from their defaults (a name the registry no longer has
        counts as changed)."""
        registry = project.parameters
        return {
            name: value
            for name, value in sorted(self.parameters.items())
            if name not in registry or registry[name].default != value
        }


def read(notebook: Mapping[str, object]) -> Assumptions | None:
    """The assumptions recorded in an executed notebook (its JSON), or ``None`` if none are."""
    metadata = notebook.get("metadata") or {}
    ours = metadata.get(METADATA_KEY)
    if isinstance(ours, Mapping) and isinstance(ours.get("assumptions"), Mapping):
        return Assumptions.from_json(ours["assumptions"])
    papermill = metadata.get("papermill")
    if isinstance(papermill, Mapping) and isinstance(papermill.get("parameters"), Mapping):
        return Assumptions(dict(papermill["parameters"]))
    return None


def record(notebook: dict, assumptions: Assumptions) -> None:
    """Write ``assumptions`` into an executed notebook's metadata."""
    notebook.setdefault("metadata", {})[METADATA_KEY] = {"assumptions": assumptions.to_json()}


def _setting(name: str, value: Value, project: ProjectData) -> str:
    """``PUE of the data centres (pue) = 1.3 (default 1.08)``."""
    param = project.parameters.get(name)
    if param is None:
        return f"{name} = {value} (no longer a parameter)"
    return (
        f"{label_in_sentence(param)} = {value_with_unit(param, value)} "
        f"(default {value_with_unit(param, param.default)})"
    )


def in_words(assumptions: Assumptions, project: ProjectData) -> str:
    """What a chapter assumed, for a reader: the changed values with their defaults."""
    changed = assumptions.changed(project)
    if not changed:
        return DEFAULTS
    settings = "; ".join(_setting(name, value, project) for name, value in changed.items())
    if assumptions.scenario:
        return f"the {assumptions.scenario} scenario: {settings}"
    return settings


def compact(assumptions: Assumptions | None, project: ProjectData) -> str:
    """What a chapter assumed, for a spreadsheet cell: ``pue=1.3; mfu=0.3`` or ``defaults``."""
    if assumptions is None:
        return "not recorded"
    changed = assumptions.changed(project)
    return "; ".join(f"{name}={value}" for name, value in changed.items()) or "defaults"


class Difference(NamedTuple):
    """One way a chapter's numbers differ from what a run would give it: a parameter's value
    (``name``, the chapter's value, the run's), or, with ``name`` :data:`INPUTS`, the data and
    code, or with :data:`UNRECORDED`, no record at all."""

    name: str
    chapter_value: Value | None = None
    run_value: Value | None = None


INPUTS = "(inputs)"
UNRECORDED = "(unrecorded)"


def differences(
    before: Assumptions | None, wanted: Assumptions, taken: Iterable[str], project: ProjectData
) -> list[Difference]:
    """How a chapter computed with ``before`` differs from what ``wanted`` would give it
    (comparing the parameters it takes and the inputs); empty when it would not change."""
    if before is None:
        return [Difference(UNRECORDED)]
    found = [
        Difference(name, before.value(name, project), wanted.value(name, project))
        for name in taken
        if name in project.parameters and before.value(name, project) != wanted.value(name, project)
    ]
    if before.inputs != wanted.inputs:
        found.append(Difference(INPUTS))
    return found


def for_terminal(found: Iterable[Difference]) -> str:
    """``pue = 1.3 (this run: 1.08); other data or code``."""
    return "; ".join(
        "no record of what it was computed with"
        if d.name == UNRECORDED
        else "computed from other data or code"
        if d.name == INPUTS
        else f"{d.name} = {d.chapter_value} (this run: {d.run_value})"
        for d in found
    )


def for_page(found: Iterable[Difference], project: ProjectData) -> str:
    """``power usage effectiveness (pue) is 1.3 here but 1.08 in the chapters computed last``."""
    parts = []
    for d in found:
        if d.name == UNRECORDED:
            parts.append("there is no record of what it was computed with")
        elif d.name == INPUTS:
            parts.append("it was computed from other data or code")
        else:
            param = project.parameters[d.name]
            parts.append(
                f"{label_in_sentence(param)} is {value_with_unit(param, d.chapter_value)} here "
                f"but {value_with_unit(param, d.run_value)} in the chapters computed last"
            )
    return "; ".join(parts)


def disagreements(
    records: Mapping[str, Assumptions | None],
    takes: Mapping[str, Iterable[str]],
    project: ProjectData,
) -> list[str]:
    """Why chapters' numbers do not come from one set of assumptions; empty when they do.

    They do when every parameter has one value across the chapters that take it, and every
    chapter ran on the same data and code.
    """
    problems = []
    unknown = [name for name, found in records.items() if found is None]
    if unknown:
        problems.append(f"no record of what {', '.join(unknown)} were computed with")
    known = {name: found for name, found in records.items() if found is not None}
    versions: dict[str | None, list[str]] = {}
    for name, found in known.items():
        versions.setdefault(found.inputs, []).append(name)
    if len(versions) > 1:
        groups = " and ".join(", ".join(names) for names in versions.values())
        problems.append(f"computed from different versions of the data or code: {groups}")
    for parameter_name, param in project.parameters.items():
        values: dict[Value, list[str]] = {}
        for name, found in known.items():
            if parameter_name in takes.get(name, ()):
                values.setdefault(found.value(parameter_name, project), []).append(name)
        if len(values) > 1:
            problems.append(
                f"{label_in_sentence(param)} is "
                + " but ".join(
                    f"{value_with_unit(param, value)} in {', '.join(names)}"
                    for value, names in values.items()
                )
            )
    return problems


def combined(records: Mapping[str, Assumptions | None]) -> Assumptions:
    """The assumptions behind a set of chapters that agree: every value any of them set."""
    parameters: dict[str, Value] = {}
    scenarios = []
    for found in records.values():
        if found is not None:
            parameters.update(found.parameters)
            if found.scenario and found.scenario not in scenarios:
                scenarios.append(found.scenario)
    return Assumptions(parameters, " and ".join(scenarios) or None)


def page_note(
    assumptions: Assumptions | None,
    project: ProjectData,
    *,
    left_behind: Iterable[Difference] = (),
) -> str | None:
    """The note at the top of a chapter's page: a warning if the run left it on other
    assumptions than the rest of the site, a note if it departs from the defaults, else
    nothing."""
    left_behind = list(left_behind)
    if left_behind:
        return (
            ":::{warning}\n"
            "This page was not computed with the same assumptions as the rest of the site "
            "(the site was published with `gpufleet run --allow-mixed`): "
            + for_page(left_behind, project)
            + ". Run `gpufleet run` with the same settings and without `--only` to bring it "
            "in line.\n:::\n"
        )
    if assumptions is None or not assumptions.changed(project):
        return None
    return (
        ":::{note}\n"
        "The numbers on this page use other assumptions than the report's defaults"
        + _listed(assumptions, project)
        + "\n:::\n"
    )


def _listed(assumptions: Assumptions, project: ProjectData) -> str:
    """``: the values.`` in a sentence, or as a list when there are more than two."""
    changed = assumptions.changed(project)
    if len(changed) <= 2:
        return ": " + in_words(assumptions, project) + "."
    named = f", the {assumptions.scenario} scenario" if assumptions.scenario else ""
    return (
        f"{named}:\n\n"
        + "\n".join(
            f"- {_setting(name, value, project)};" for name, value in changed.items()
        ).removesuffix(";")
        + "."
    )


def intro_text(
    records: Mapping[str, Assumptions | None],
    takes: Mapping[str, Iterable[str]],
    project: ProjectData,
    *,
    mixed: bool = False,
) -> str:
    """The introduction's sentence on what the numbers it pastes were computed with; chapter
    by chapter if they do not agree (or if ``mixed``: a run left some behind)."""
    if mixed or disagreements(records, takes, project):
        grouped: dict[str, list[str]] = {}
        for name, found in records.items():
            words = in_words(found, project) if found else "no record"
            grouped.setdefault(words, []).append(name)
        return (
            "**The chapters of this site were not all computed with the same assumptions**, "
            "so numbers from different chapters may not belong together. "
            + "; ".join(f"{', '.join(names)}: {words}" for words, names in grouped.items())
            + ". Each affected page says so at its top."
        )
    together = combined(records)
    if not together.changed(project):
        return (
            "Every number on this site is computed with the report's default assumptions, "
            "the values its sources support best."
        )
    return (
        "**These numbers are not the report's central estimates**; they use other assumptions "
        "than the report's defaults"
        + _listed(together, project)
        + "\n\nEach chapter affected says so at its top."
    )
