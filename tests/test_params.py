"""Checking parameter values: types, ranges, choices, names and cross-parameter rules."""

from __future__ import annotations

import pytest

from gpufleet.model.params import ParameterError, check, defaults, validate


def test_defaults_pass(project):
    assert validate(defaults(project), project) == defaults(project)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"mfu": "0.3"}, {"mfu": 0.3}),
        ({"mfu": 1}, {"mfu": 1.0}),
        ({"h100_count": "350_000"}, {"h100_count": 350_000}),
        ({"h100_count": 350000.0}, {"h100_count": 350_000}),
        ({"remainder_gpu": " mi300x "}, {"remainder_gpu": "mi300x"}),
    ],
)
def test_coercion(project, values, expected):
    typed = validate(values, project)
    assert typed == expected
    assert type(typed[next(iter(typed))]) is type(expected[next(iter(expected))])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mfu": "fast"}, "mfu: 'fast' is not a number; allowed: a number from 0.01 to 1"),
        ({"mfu": 1.5}, "mfu: 1.5 is out of range; allowed: a number from 0.01 to 1"),
        # At a utilization of 0 a run does no work: every training time would be infinite.
        ({"mfu": 0}, "mfu: 0 is out of range; allowed: a number from 0.01 to 1"),
        ({"mfu": "nan"}, "mfu: 'nan' is not a finite number"),
        ({"mfu": True}, "mfu: True is not a number"),
        ({"h100_count": "3.5"}, "h100_count: '3.5' is not a whole number"),
        (
            {"h100_count": -5},
            "h100_count: -5 is out of range; allowed: a whole number of at least 1",
        ),
        (
            {"remainder_gpu": "mi300"},
            "remainder_gpu: 'mi300' is not an allowed choice; allowed: a100_sxm_80gb, "
            "mi300x, h200_sxm (did you mean 'mi300x'?)",
        ),
        ({"equivalence_metric": "flops"}, "equivalence_metric: 'flops' is not an allowed choice"),
        ({"mfuu": 0.3}, "unknown parameter 'mfuu'; did you mean 'mfu'?"),
        (
            {"h100_count": 400_000, "h100_equivalents_total": 300_000},
            "h100_equivalents_total: 300,000 is below h100_count (400,000)",
        ),
        (
            {"equivalence_metric": "fp8_dense", "remainder_gpu": "a100_sxm_80gb"},
            "remainder_gpu: a100_sxm_80gb has no dense FP8 throughput figure",
        ),
        (
            {"h100_unit_price_usd": 40_000, "h100_server_price_usd": 297_000},
            "h100_unit_price_usd: 40,000 is more than an eighth of h100_server_price_usd "
            "(37,125); the server's price includes its eight GPUs",
        ),
    ],
)
def test_refused_with_a_clear_message(project, values, message):
    with pytest.raises(ParameterError) as caught:
        validate(values, project)
    assert message in str(caught.value)


def test_check_gives_attributes_and_changes(project):
    checked = check(project.root, mfu=0.3, h100_count=350_000)
    assert checked.mfu == 0.3
    assert checked.h100_count == 350_000
    assert checked.changed() == {"mfu": 0.3}
    with pytest.raises(AttributeError):
        _ = checked.pue


def _ends(project):
    """Every numeric parameter of the model at each end of what it accepts, the others at their
    defaults (the Monte Carlo's own settings aside); a combination the checks refuse is left
    out, since it never runs."""
    for name, param in project.parameters.items():
        if param.type == "choice" or name in ("samples", "seed"):
            continue
        for end in (param.min, param.max):
            if end is None:
                continue
            values = {**defaults(project), name: end}
            try:
                validate(values, project)
            except ParameterError:
                continue
            yield name, end, values


def test_every_headline_is_a_number_a_reader_can_use_at_the_ends_of_every_range(project):
    """Finite, and never negative or NaN; the one exception is the days of a job that makes no
    progress, which are infinite and which the training chapter says in words."""
    import math

    from gpufleet.model import headlines

    tried = 0
    for name, end, values in _ends(project):
        for key, value in headlines.compute_all(values, project).items():
            assert isinstance(value, int | float), (name, end, key, value)
            assert not math.isnan(value) and value >= 0, (name, end, key, value)
            assert math.isfinite(value) or key == "llama3_405b_days_on_fleet", (name, end, key)
        tried += 1
    assert tried > 40
