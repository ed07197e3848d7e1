"""The charts' conventions that hold across pages."""

from __future__ import annotations

from gpufleet.book import charts


def test_one_colour_per_accelerator_on_every_page():
    assert charts.accelerator_color("H100 SXM5 80GB") == charts.accelerator_color("H100 SXM5 80GB")
    assert charts.accelerator_color("Instinct MI300X") != charts.accelerator_color("H100 SXM5 80GB")
    assert charts.accelerator_color("A100 SXM 80GB (remainder)") == charts.REMAINDER_COLOR
    assert charts.accelerator_color("servers, GPUs included") is None
