"""How the pages write a parameter: its label inside a sentence, its value with its unit,
the names in its notes."""

from __future__ import annotations

import dataclasses

import pytest

from gpufleet.book import pages
from gpufleet.build import provenance
from gpufleet.build.provenance import Assumptions


def _labelled(project, label, name="pue"):
    return dataclasses.replace(project.parameters[name], label=label)


@pytest.mark.parametrize(
    ("label", "in_sentence"),
    [
        # An ordinary first word is lower-cased.
        ("Power usage effectiveness", "power usage effectiveness"),
        ("Model FLOPs utilization in training", "model FLOPs utilization in training"),
        ("Network's share of IT hardware cost", "network's share of IT hardware cost"),
        # An acronym or a name written with capitals keeps them.
        ("NVIDIA H100 GPUs at the end of 2024", "NVIDIA H100 GPUs at the end of 2024"),
        ("GPU-hours of the training run", "GPU-hours of the training run"),
        ("GPUs one training job spans", "GPUs one training job spans"),
        ("H100 count", "H100 count"),
        # A proper noun of two capitalised words keeps its capital.
        ("Monte Carlo samples", "Monte Carlo samples"),
        ("Monte Carlo random seed", "Monte Carlo random seed"),
        ("Research SuperCluster size", "Research SuperCluster size"),
        # A one-word label.
        ("Seed", "seed"),
        ("PUE", "PUE"),
    ],
)
def test_a_label_in_a_sentence_lowers_only_an_ordinary_first_word(project, label, in_sentence):
    param = _labelled(project, label)
    assert pages.label_in_sentence(param, with_name=False) == in_sentence
    assert pages.label_in_sentence(param) == f"{in_sentence} (pue)"


def test_no_label_of_the_registry_reads_as_a_broken_proper_noun(project):
    """Lower-casing a first word must never leave "monte Carlo": a lower-case word followed by
    a capitalised one."""
    for param in project.parameters.values():
        words = pages.label_in_sentence(param, with_name=False).split()
        if len(words) > 1 and words[0].islower():
            second = words[1]
            assert not (second[:1].isupper() and second[1:2].islower()), param.label


def test_the_introductions_assumptions_keep_monte_carlo_whole(project):
    takes = {"uncertainty": ["samples", "seed"]}
    changed = {"uncertainty": Assumptions({"samples": 1000, "seed": 7})}
    text = provenance.intro_text(changed, takes, project)
    assert "Monte Carlo samples (samples) = 1,000" in text
    assert "Monte Carlo random seed (seed) = 7" in text
    assert "monte Carlo" not in text


def test_a_note_shows_the_parameters_it_names_as_code(project):
    note = project.parameters["h100_equivalents_total"].note
    assert "h100_count" in note
    written = pages._names_as_code("must be at least h100_count; see remainder_gpu.", project)
    assert written == "must be at least `h100_count`; see `remainder_gpu`."
    # A name already written as code, or inside a longer word, is left alone.
    assert pages._names_as_code("`h100_count` and h100_counts", project) == (
        "`h100_count` and h100_counts"
    )


def test_the_parameters_page_writes_the_names_in_notes_as_code(project):
    text = pages.parameters_markdown(project, {})
    assert "made up by `remainder_gpu`" in text
    assert "made up by remainder_gpu" not in text


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("checkpoint_write_minutes", 1, "1 minute"),
        ("checkpoint_write_minutes", 1.0, "1 minute"),
        ("checkpoint_write_minutes", 2, "2 minutes"),
        ("checkpoint_write_minutes", 0.5, "0.5 minutes"),
        ("checkpoint_write_minutes", 0, "0 minutes"),
        ("useful_life_years", 1, "1 year"),
        ("useful_life_years", 5.5, "5.5 years"),
        ("training_gpu_hours", 1, "1 hour"),
        ("h100_server_price_usd", 1, "1 USD"),
        ("training_gpu_power_w", 1, "1 W"),
        ("h100_count", 1, "1"),
        ("seed", 2024, "2024"),
        ("remainder_gpu", "mi300x", "`mi300x`"),
    ],
)
def test_a_value_with_its_unit_is_singular_for_one(project, name, value, shown):
    assert pages.value_with_unit(project.parameters[name], value) == shown
