"""What a chapter notebook calls first: its parameters from the kernel's namespace, and its
headlines from the one computation (no kernel needed here)."""

from __future__ import annotations

import types

import pytest

from gpufleet.book import chapter, notebooks
from gpufleet.model import headlines
from gpufleet.model.params import ParameterError, defaults
from tests.conftest import ROOT


def _namespace(notebook: str, **overrides: object) -> dict[str, object]:
    """A kernel's namespace after the parameters cell (and papermill's injected one)."""
    declared = notebooks.declared_parameters(ROOT / "notebooks" / f"{notebook}.ipynb")
    namespace = {name: param.default for name, param in declared.items()}
    namespace.update(
        In=["", "%reset -f"],  # what IPython itself keeps there
        Out={},
        _i1="%reset -f",
        alt=types.ModuleType("altair"),
        chapter=chapter,
    )
    namespace.update(overrides)
    return namespace


def test_a_chapter_takes_its_declared_parameters_checked_and_typed(project):
    p = chapter.parameters("power", _namespace("power", pue=1, avg_power_fraction="0.5"))
    assert set(p.values) == set(notebooks.declared_parameters(ROOT / "notebooks/power.ipynb"))
    assert p.pue == 1.0 and isinstance(p.pue, float)
    assert p.avg_power_fraction == 0.5
    assert p.changed() == {"pue": 1.0, "avg_power_fraction": 0.5}
    assert p.notebook == "power"
    assert p.everything()["mfu"] == project.parameters["mfu"].default


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"puee": 1.3}, "unknown parameter 'puee'; did you mean 'pue'? power.ipynb takes: "),
        ({"mfu": 0.3}, "mfu: not a parameter of power.ipynb (it is taken by fleet, training"),
        ({"pue": 0.5}, "pue: 0.5 is out of range; allowed: a number from 1 to 3"),
        ({"remainder_gpu": "b200"}, "remainder_gpu: 'b200' is not an allowed choice"),
    ],
)
def test_a_stray_or_bad_value_is_refused_with_its_name(overrides, message):
    with pytest.raises(ParameterError) as caught:
        chapter.parameters("power", _namespace("power", **overrides))
    assert message in str(caught.value)


def test_headlines_glue_the_chapters_own_from_compute_all(project, monkeypatch):
    glued = {}
    monkeypatch.setattr(chapter.report, "number", lambda name, value: glued.setdefault(name, value))
    p = chapter.parameters("costs", _namespace("costs", h100_unit_price_usd=30_000))
    numbers = chapter.headlines(p)
    own = {k for k, h in project.headlines.items() if h.notebook == "costs"}
    assert set(glued) == own
    expected = headlines.compute_all({**defaults(project), "h100_unit_price_usd": 30_000}, project)
    assert numbers == expected
    # 350,000 H100s at 30,000 dollars each, by hand.
    assert glued["gpu_capex_usd"] == pytest.approx(350_000 * 30_000)


def test_glued_text_is_pasted_as_written(monkeypatch):
    """myst-nb reads a glued text back as a Python literal: the text must reach the page as
    written, not as what the literal means ("200,000" is not the tuple (200, 0))."""
    from IPython.core.formatters import PlainTextFormatter
    from myst_nb.core.variables import format_plain_text

    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: glued.update({name: value}))
    for text in ("200,000", "Meta's fleet", "1.0", "None", "[a, b]"):
        chapter.report.text("t", text)
        stored = PlainTextFormatter()(glued["t"])  # what the notebook stores as text/plain
        assert format_plain_text(stored, "") == text
        assert format_plain_text(stored, "s") == text
