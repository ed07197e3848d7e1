"""The charts' conventions that hold across pages."""

from __future__ import annotations

import pytest

from gpufleet.book import charts


def test_one_colour_per_accelerator_on_every_page():
    assert charts.accelerator_color("H100 SXM5 80GB") == charts.accelerator_color("H100 SXM5 80GB")
    assert charts.accelerator_color("Instinct MI300X") != charts.accelerator_color("H100 SXM5 80GB")
    assert charts.accelerator_color("A100 SXM 80GB (remainder)") == charts.REMAINDER_COLOR
    assert charts.accelerator_color("servers, GPUs included") is None


def test_a_histogram_of_spread_samples_has_its_percentiles_and_no_note():
    import numpy as np

    samples = np.linspace(1.0, 2.0, 1001)
    spec = charts.histogram(samples, title="t", quantity="q", unit="u", central=1.5).to_dict()
    area, rules = spec["layer"][0], spec["layer"][1]
    shares = [row["share"] for row in spec["datasets"][area["data"]["name"]]]
    assert sum(shares) == pytest.approx(1.0) and len(shares) == 40
    values = [row["value"] for row in spec["datasets"][rules["data"]["name"]]]
    assert values == pytest.approx([1.05, 1.5, 1.95, 1.5])
    assert spec["title"] == "t"


def test_a_histogram_of_one_repeated_value_is_one_bar_that_says_why():
    """A run that sets every assumption a number depends on leaves nothing to draw: the
    samples are one value, give or take rounding (numpy would refuse to bin them)."""
    import numpy as np

    samples = 1.37 + np.random.default_rng(0).normal(0, 1e-15, 500)
    spec = charts.histogram(samples, title="t", quantity="q", unit="u", central=1.37).to_dict()
    area = spec["layer"][0]
    shares = [row["share"] for row in spec["datasets"][area["data"]["name"]]]
    assert max(shares) == pytest.approx(1.0)
    assert "Every sample gives the same value" in spec["title"]["subtitle"]
