"""What the pages' tables and notes write, from the registry."""

from __future__ import annotations

from gpufleet.book import pages


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
