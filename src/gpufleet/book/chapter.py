"""What a chapter notebook calls first: its checked parameters, and its headline numbers.

A chapter's parameters cell (written from ``data/parameters.csv`` by ``gpufleet strip``)
declares the names it takes; papermill may inject new values after it. The next cell calls
``p = chapter.parameters("fleet", globals())``, which checks every value against the registry
and refuses a name the chapter does not take (a typo such as ``-p puee 1.3`` included), then
``chapter.headlines(p)`` glues the headline numbers ``data/headlines.csv`` assigns to the
chapter, from the one computation that ``gpufleet results`` and the Monte Carlo use
(:func:`gpufleet.model.headlines.compute_all`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from gpufleet.book import notebooks, report
from gpufleet.model import data as _data
from gpufleet.model.headlines import compute_all
from gpufleet.model.params import Checked, ParameterError, nearest, validate

#: What a parameter can be: the scalars papermill injects.
_SCALARS = (bool, int, float, str, type(None))
#: A parameter's name, as data/parameters.csv allows it (constants and IPython's own names,
#: such as ``In`` and ``_i1``, never look like one).
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def parameters(name: str, namespace: Mapping[str, object], root: Path | None = None) -> Checked:
    """The parameters chapter ``name`` declares, with the values in ``namespace``, checked.

    Call it right after the parameters cell with ``globals()``, before defining any other
    variable. A number or text in the namespace under a parameter-like name the chapter does
    not declare is refused, naming it and the chapter's parameters: papermill would otherwise
    warn and run on with the defaults.
    """
    project = _data.load(root)
    source = project.root / "notebooks" / f"{name}.ipynb"
    declared = notebooks.declared_parameters(source)
    stray = sorted(
        key
        for key, value in namespace.items()
        if key not in declared and _NAME.fullmatch(key) and isinstance(value, _SCALARS)
    )
    for key in stray:
        if key in project.parameters:
            users = notebooks.parameter_users(project.root).get(key, [])
            raise ParameterError(
                f"{key}: not a parameter of {name}.ipynb (it is taken by "
                f"{', '.join(users) or 'no notebook'}); {name}.ipynb takes: {', '.join(declared)}"
            )
        hint = nearest(key, declared)
        raise ParameterError(
            f"unknown parameter {key!r}"
            + (f"; did you mean {hint!r}?" if hint else "")
            + f" {name}.ipynb takes: {', '.join(declared)} (see gpufleet params)"
        )
    values = {key: namespace[key] for key in declared}
    return Checked(MappingProxyType(validate(values, project)), project, name)


def headlines(p: Checked) -> dict[str, float]:
    """Glue the headlines of ``p``'s chapter; returns every headline number for its values.

    Parameters the chapter does not take are at their defaults, as on every other page. Each
    is glued with its text for sentences (``key__text``, :func:`gpufleet.book.report.number`).
    """
    if p.notebook is None:
        raise ValueError("headlines need the parameters of a chapter: use chapter.parameters")
    numbers = compute_all(p.everything(), p.project)
    for key, headline in p.project.headlines.items():
        if headline.notebook == p.notebook:
            report.number(key, numbers[key], kind=report.kind_of(headline.unit))
    return numbers
