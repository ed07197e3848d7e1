"""Numbers as people read them: one set of rules for the pages, their tables, the messages
and the terminal.

- :func:`number`: whole numbers of 1,000 and more with thousands separators (``350,000``);
  others to ``digits`` significant figures (``1.82``, ``0.086``), rounded to whole units from
  1,000 up (``11,700,000``); very large or very small numbers in scientific notation.
- :func:`about`: a figure for a sentence, rounded to a few significant figures (``559,000``);
  :func:`round_sig` gives the rounded number itself.
- :func:`scientific`: ``2.1 × 10²⁵``.
- :func:`in_words`: ``47.7 billion dollars``, ``585 million dollars``, ``12,500 dollars``.
- :func:`percent`: a fraction as a percentage, ``0.41`` → ``41%``.
- :func:`amount`: millions of dollars in words, anything else as a number.
- :func:`ordinal`: ``1st``, ``2nd``, ``3rd``.

Values are plain Python or NumPy numbers. Nothing here imports the rest of the package.
"""

from __future__ import annotations

import math

#: From here up, and below the reciprocal of SMALL, numbers are written in scientific notation.
LARGE = 1e15
SMALL = 1e-3

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def number(value: float | int | None, digits: int = 4) -> str:
    """A figure as a reader expects it; ``None`` is an empty cell."""
    if value is None:
        return ""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{value} cannot be shown as a figure")
    size = abs(value)
    if size >= LARGE or (0 < size < SMALL):
        return scientific(value, digits=min(digits, 3), trim=True)
    if size >= 1000:
        return f"{value:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(size))) if size else 0
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def round_sig(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant figures: ``559,054.5`` → ``559,000.0``."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def about(value: float, digits: int = 3) -> str:
    """A figure for a sentence, to ``digits`` significant figures: ``559,000``, ``0.52``."""
    return number(round_sig(value, digits), digits)


def scientific(value: float, digits: int = 2, *, trim: bool = False) -> str:
    """``2.1 × 10²⁵``: a large number as a reader writes it (``digits`` significant figures;
    with ``trim``, no trailing zeros: ``2 × 10⁻⁴``)."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    if trim and "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def in_words(value: float, unit: str) -> str:
    """``47.7 billion dollars``, ``585 million dollars``, ``12,500 dollars``: three figures."""
    for scale, word in ((1e9, "billion"), (1e6, "million")):
        if abs(value) >= scale:
            scaled = value / scale
            shown = f"{scaled:,.0f}" if abs(scaled) >= 100 else f"{scaled:.3g}"
            return f"{shown} {word} {unit}"
    return f"{value:,.0f} {unit}"


def percent(fraction: float, decimals: int = 0, *, sign: bool = False) -> str:
    """``0.41`` → ``41%``; with ``sign``, ``+1.5%`` and ``-0.3%`` (a difference)."""
    return f"{100 * fraction:{'+' if sign else ''}.{decimals}f}%"


def ordinal(rank: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``21st``: a rank as it is written."""
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def amount(value: float, unit: str, digits: int = 3) -> str:
    """A result in a table a reader can quote: millions of dollars in words
    (``4.1 billion dollars``), anything else to ``digits`` significant figures (:func:`about`;
    the unit is shown beside it). Exact values belong in the downloads."""
    if unit == "USD" and abs(value) >= 1e6:
        return in_words(value, "dollars")
    return about(value, digits)
