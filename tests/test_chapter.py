"""What a chapter notebook calls first: its parameters from the kernel's namespace, and its
headlines from the one computation (no kernel needed here)."""

from __future__ import annotations

import types

import numpy as np
import pytest

from gpufleet.book import chapter, notebooks, report
from gpufleet.build import results
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
    monkeypatch.setattr(
        chapter.report, "number", lambda name, value, **kind: glued.setdefault(name, value)
    )
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


def _stored_glue(monkeypatch):
    """Outputs as myst-nb's glue stores them in the notebook (text/plain under its prefix)."""
    from IPython.core.formatters import PlainTextFormatter

    outputs = []

    def glue(name, value, display):
        outputs.append(
            {
                "data": {results.GLUE_MIME: PlainTextFormatter()(value)},
                "metadata": {"scrapbook": {"name": name}},
            }
        )

    monkeypatch.setattr("myst_nb.glue", glue)
    return outputs


def test_a_number_is_glued_with_its_text_and_read_back_as_a_number(monkeypatch):
    from myst_nb.core.variables import format_plain_text

    outputs = _stored_glue(monkeypatch)
    assert report.number("fleet_it_mw", np.float64(783.1486)) == 783.1486
    report.number("mfu_pct", 41.0, kind="pct")
    report.number("ours_total_diff", -4.268, kind="pct", sign=True)
    report.number("gpus", 1_110_769.2)
    report.number("seed", 20240118, kind="seed")
    stored = {o["metadata"]["scrapbook"]["name"]: o["data"][results.GLUE_MIME] for o in outputs}
    pasted = {name: format_plain_text(text, "") for name, text in stored.items()}
    assert {name: pasted[name] for name in pasted if name.endswith("__text")} == {
        "fleet_it_mw__text": "783",
        "mfu_pct__text": "41%",
        "ours_total_diff__text": "-4.27%",
        "gpus__text": "1.11 million",
        "seed__text": "20240118",
    }
    # From another page the text is pasted with ":s", as written.
    assert format_plain_text(stored["gpus__text"], "s") == "1.11 million"
    # The results, the downloads and the tests read the numbers alone, unrounded.
    numbers = results._glued({"cells": [{"outputs": outputs}]})
    assert numbers == {
        "fleet_it_mw": 783.1486,
        "mfu_pct": 41.0,
        "ours_total_diff": -4.268,
        "gpus": 1_110_769.2,
        "seed": 20240118,
    }


def test_a_count_is_glued_with_what_it_counts_one_and_none_in_words(monkeypatch):
    from myst_nb.core.variables import format_plain_text

    outputs = _stored_glue(monkeypatch)
    assert report.count("h100s_text", 350_000, "H100") == "350,000 H100s"
    report.count("one_text", 1, "H100")
    report.count("mi300x_text", 0, "MI300X")
    report.count("others_text", 0)
    report.count("fleet_gpus_text", 1_110_769.2, "GPU", kind="amount")
    stored = {o["metadata"]["scrapbook"]["name"]: o["data"][results.GLUE_MIME] for o in outputs}
    assert {name: format_plain_text(text, "s") for name, text in stored.items()} == {
        "h100s_text": "350,000 H100s",
        "one_text": "1 H100",
        "mi300x_text": "no MI300Xs",
        "others_text": "none",
        "fleet_gpus_text": "1.11 million GPUs",
    }
    # Text, not numbers: the results read none of them.
    assert results._glued({"cells": [{"outputs": outputs}]}) == {}
    with pytest.raises(ValueError, match="x__text: a name ending in __text is kept"):
        report.count("x__text", 1, "GPU")


def test_a_number_that_is_not_finite_is_not_glued(monkeypatch):
    """Neither the number (the results and the JSON downloads would hold "Infinity" or "NaN",
    which JSON does not allow) nor a text: a sentence that pastes it fails the build, naming it.
    The chapter says in words what the value means (a job that makes no progress)."""
    outputs = _stored_glue(monkeypatch)
    assert report.number("ratio", float("nan")) != report.number("ratio", float("nan"))
    assert report.number("days", float("inf")) == float("inf")
    assert outputs == []


def test_markdown_is_glued_for_a_sentence_with_emphasis(monkeypatch):
    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: glued.update({name: value}))
    assert report.markdown("days_md", "would take **155 days**") == "would take **155 days**"
    assert glued["days_md"]._repr_markdown_() == "would take **155 days**"
    with pytest.raises(ValueError, match="x__text: a name ending in __text is kept"):
        report.markdown("x__text", "**1**")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: report.number("x__text", 1.0), "x__text: a name ending in __text is kept"),
        (lambda: report.text("x__text", "1"), "x__text: a name ending in __text is kept"),
        (lambda: report.number("x", 1.0, kind="percent"), "x: unknown kind 'percent'"),
        (lambda: report.number("x", float("nan"), kind="percent"), "x: unknown kind"),
        (lambda: report.number("year", 2024.5, kind="year"), "year: a year is a whole number"),
    ],
)
def test_what_a_number_cannot_be_glued_as_is_refused_with_its_name(monkeypatch, call, message):
    _stored_glue(monkeypatch)
    with pytest.raises(ValueError, match=message):
        call()
