"""The one set of rules for writing numbers, against hand-written expectations."""

from __future__ import annotations

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
        (1_234_000_000_000, "1,234 billion dollars"),
        (6_650_000, "6.65 million dollars"),
        (12_500, "12,500 dollars"),
        (999_999, "999,999 dollars"),
    ],
)
def test_in_words(value, text):
    assert formatting.in_words(value, "dollars") == text


@pytest.mark.parametrize(
    ("fraction", "decimals", "sign", "text"),
    [
        (0.41, 0, False, "41%"),
        (0.086, 1, False, "8.6%"),
        (1.0, 0, False, "100%"),
        (0.015, 1, True, "+1.5%"),
        (-0.003, 1, True, "-0.3%"),
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
