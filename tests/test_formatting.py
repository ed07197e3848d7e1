"""The one set of rules for writing numbers, against hand-written expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gpufleet import formatting


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (350_000, "350,000"),  # thousands separated
        (350_000.0, "350,000"),  # a whole float is a whole number
        (1000, "1,000"),
        (999, "999"),
        (11_700_000.0, "11,700,000"),
        (1234.56, "1,235"),  # from 1,000 up, whole units
        (1.82, "1.82"),  # no spurious decimals
        (0.086, "0.086"),
        (0.41, "0.41"),
        (2.0, "2"),
        (3.14159, "3.142"),  # four significant figures
        (0, "0"),
        (-0.0, "0"),  # never "-0"
        (-1500.0, "-1,500"),
        (3.8e25, "3.8 × 10²⁵"),  # no 26-digit integers
        (0.0002, "2 × 10⁻⁴"),
        (np.float64(989.0), "989"),  # NumPy scalars read as numbers
        (np.int64(16384), "16,384"),
        (None, ""),
    ],
)
def test_number(value, text):
    assert formatting.number(value) == text


def test_number_with_fewer_digits():
    assert formatting.number(3.14159, digits=2) == "3.1"
    assert formatting.number(0.9207, digits=3) == "0.921"
    # Never an exponent for a number of hundreds shown to two figures.
    assert formatting.number(850.0, digits=2) == "850"
    assert formatting.about(845.8, 2) == "850"


def test_a_number_that_is_not_finite_is_refused():
    with pytest.raises(ValueError, match="nan"):
        formatting.number(float("nan"))


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (2.06e25, 2, "2.1 × 10²⁵"),
        (3.8e25, 2, "3.8 × 10²⁵"),
        (1.234e18, 3, "1.23 × 10¹⁸"),
        (9.99e-3, 2, "1.0 × 10⁻²"),  # rounding carries into the exponent
        (1.0, 2, "1.0 × 10⁰"),
    ],
)
def test_scientific(value, digits, text):
    assert formatting.scientific(value, digits) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (47_712_000_000, "47.7 billion dollars"),
        (585_300_000, "585 million dollars"),
        (1_234_000_000_000, "1.23 trillion dollars"),
        (6_650_000, "6.65 million dollars"),
        (12_500, "12,500 dollars"),
        (999_999, "1 million dollars"),  # an amount: three figures, even when whole
        (166_775, "167,000 dollars"),
        (12_345.6, "12,300 dollars"),
        (999_600_000, "1 billion dollars"),  # rounding carries into the next word
        (0.92, "0.92 dollars"),  # not "1 dollars"
    ],
)
def test_in_words(value, text):
    assert formatting.in_words(value, "dollars") == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # A whole number below a million is written as it is: a count is exact.
        (350_000, "350,000"),
        (24_576.0, "24,576"),
        (16_384, "16,384"),
        (999_999, "999,999"),
        (8, "8"),
        # Anything else to three significant figures, without trailing zeros.
        (559_054.48, "559,000"),
        (845.8, "846"),
        (14.2415, "14.2"),
        (1.2950357, "1.3"),
        (0.0924159, "0.0924"),
        (0.4, "0.4"),  # not "0", as ".0f" wrote it
        (999.96, "1,000"),
        # From a million up, a word for the scale: never "1.23457e+06".
        (1_234_567, "1.23 million"),
        (2_663_502.4, "2.66 million"),
        (1_300_000, "1.3 million"),
        (999_999.6, "1 million"),
        (8.75e9, "8.75 billion"),
        (1.234e12, "1.23 trillion"),
        # Scientific notation for the very large and the very small: never "0.00".
        (3.8e25, "3.8 × 10²⁵"),
        (0.0004237, "4.24 × 10⁻⁴"),
        (0.00099996, "0.001"),  # rounded first, then written
        # Zero is zero, whatever its sign; negatives keep theirs.
        (0, "0"),
        (-0.0, "0"),
        (-4.268, "-4.27"),
        (-2_040_000.0, "-2.04 million"),
        (np.float64(0.367), "0.367"),
        (np.int64(16384), "16,384"),
    ],
)
def test_prose_writes_a_figure_by_one_rule(value, text):
    assert formatting.prose(value) == text


@pytest.mark.parametrize(
    ("value", "kind", "sign", "text"),
    [
        (41.0, "pct", False, "41%"),
        (59.322, "pct", False, "59.3%"),
        (0.35, "pct", False, "0.35%"),  # not "0%"
        (100.0, "pct", False, "100%"),
        (1_038_462.5, "pct", False, "1,040,000%"),  # not "1.04 million%"
        (0.371068, "fraction", False, "37.1%"),
        (0.004, "fraction", False, "0.4%"),
        (-4.268, "pct", True, "-4.27%"),
        (4.268, "pct", True, "+4.27%"),
        (0.0, "pct", True, "0%"),  # no sign on nothing
        (166_775.0, "amount", False, "167,000"),  # a computed amount is never exact
        (24_576, "amount", False, "24,600"),
        (12_500, "amount", False, "12,500"),
        (-0.2421, "number", True, "-0.242"),
        (1.5, "number", True, "+1.5"),
        (2024, "year", False, "2024"),  # never "2,024"
        (2024.0, "year", False, "2024"),
        (20_240_118, "seed", False, "20240118"),
    ],
)
def test_prose_kinds_and_signs(value, kind, sign, text):
    assert formatting.prose(value, kind, sign=sign) == text


def test_prose_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="unknown kind of figure 'percent'"):
        formatting.prose(41, "percent")
    with pytest.raises(ValueError, match="a year is a whole number"):
        formatting.prose(2024.5, "year")
    with pytest.raises(ValueError, match="inf cannot be written"):
        formatting.prose(float("inf"))


@pytest.mark.parametrize(
    ("fraction", "decimals", "sign", "text"),
    [
        (0.41, 0, False, "41%"),
        (0.086, 1, False, "8.6%"),
        (1.0, 0, False, "100%"),
        (0.015, 1, True, "+1.5%"),
        (-0.003, 1, True, "-0.3%"),
        (0.0017, 0, False, "0.17%"),  # a share of a share: not "0%"
        (-0.0004, 1, True, "-0.04%"),  # not "-0.0%"
        (0.0, 1, True, "0%"),
    ],
)
def test_percent(fraction, decimals, sign, text):
    assert formatting.percent(fraction, decimals, sign=sign) == text


def test_amount_puts_money_in_words_and_the_rest_in_figures():
    assert formatting.amount(2_900_000_000, "USD") == "2.9 billion dollars"
    assert formatting.amount(7.264, "TWh") == "7.26"
    assert formatting.amount(2_663_502.4, "tCO2e") == "2,660,000"  # not to the tonne
    assert formatting.amount(12_500, "USD") == "12,500"
    assert formatting.amount(0.9207, "USD/GPU-hour") == "0.921"


@pytest.mark.parametrize(
    ("value", "digits", "rounded", "text"),
    [
        (559_054.487, 3, 559_000.0, "559,000"),
        (0.51234, 2, 0.51, "0.51"),
        (8.6957, 2, 8.7, "8.7"),
        (1.3875, 3, 1.39, "1.39"),
        (-2_039_386.0, 3, -2_040_000.0, "-2,040,000"),
        (0.0, 3, 0.0, "0"),
    ],
)
def test_about_rounds_to_significant_figures(value, digits, rounded, text):
    assert formatting.round_sig(value, digits) == rounded
    assert formatting.about(value, digits) == text


@pytest.mark.parametrize(
    ("rank", "text"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (101, "101st"),
        (111, "111th"),
    ],
)
def test_ordinal(rank, text):
    assert formatting.ordinal(rank) == text


@pytest.mark.parametrize(
    ("value", "noun", "plural", "text"),
    [
        (350_000, "H100", None, "350,000 H100s"),
        (2, "H100", None, "2 H100s"),
        (1, "H100", None, "1 H100"),  # one, singular
        (1.0, "GPU", None, "1 GPU"),
        (np.int64(1), "GPU", None, "1 GPU"),
        (0, "MI300X", None, "no MI300Xs"),  # zero, said in words
        (0.0, "GPU", None, "no GPUs"),
        (0.5, "cluster", None, "0.5 clusters"),  # a fraction of one is plural
        (1.25, "cluster", None, "1.25 clusters"),
        (2_660_000, "GPU", None, "2.66 million GPUs"),
        (1, "H100 equivalent", None, "1 H100 equivalent"),
        (3, "such cluster", None, "3 such clusters"),
        (1, "person", "people", "1 person"),
        (2, "person", "people", "2 people"),
        (0, "person", "people", "no people"),
        # Without a noun: the number, or "none".
        (0, None, None, "none"),
        (1, None, None, "1"),
        (24_576, None, None, "24,576"),
    ],
)
def test_counted_says_one_and_none_in_words(value, noun, plural, text):
    assert formatting.counted(value, noun, plural) == text


def test_counted_writes_an_amount_to_three_figures():
    assert formatting.counted(166_775, "GPU", kind="amount") == "167,000 GPUs"
    # Written as "1", it is one.
    assert formatting.counted(1.0004, "GPU", kind="amount") == "1 GPU"
    with pytest.raises(ValueError, match="cannot be written"):
        formatting.counted(float("inf"), "GPU")


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (4.123, "4.12 minutes"),
        (1, "1 minute"),
        (59.9, "59.9 minutes"),
        (60, "1 hour"),
        (150, "2.5 hours"),
        (47.9 * 60, "47.9 hours"),
        (2 * 24 * 60, "2 days"),
        (9000, "6.25 days"),
        (0.5, "30 seconds"),
        (0.0253, "1.52 seconds"),
    ],
)
def test_duration_says_minutes_in_the_unit_a_sentence_would_use(minutes, text):
    assert formatting.duration(minutes) == text


@pytest.mark.parametrize("minutes", [0, -1, math.inf, math.nan])
def test_duration_refuses_what_is_not_a_span_of_time(minutes):
    with pytest.raises(ValueError, match="a duration is a positive, finite number of minutes"):
        formatting.duration(minutes)
