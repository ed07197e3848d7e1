"""Numbers as people read them: one set of rules for the pages, their tables, the messages
and the terminal.

- :func:`prose`: a figure in a sentence, by one rule whatever its value (:data:`PROSE_DIGITS`
  significant figures, a whole number below a million whole, ``2.66 million`` and
  ``8.75 billion`` from a million up, scientific notation for the very large or small); with
  ``kind``, a computed amount (never whole by chance), a percentage (``41%``), a year or a seed
  (``2024``, never ``2,024``), and with ``sign``, a difference (``+4.3%``). The pages glue it
  beside every number (:func:`gpufleet.book.report.number`).
- :func:`number`: whole numbers of 1,000 and more with thousands separators (``350,000``);
  others to ``digits`` significant figures (``1.82``, ``0.086``), rounded to whole units from
  1,000 up (``11,700,000``); very large or very small numbers in scientific notation.
- :func:`about`: a figure for a sentence, rounded to a few significant figures (``559,000``);
  :func:`round_sig` gives the rounded number itself.
- :func:`scientific`: ``2.1 × 10²⁵``.
- :func:`in_words`: an amount as :func:`prose` writes it, with its unit: ``47.7 billion
  dollars``, ``585 million dollars``, ``12,500 dollars``.
- :func:`percent`: a fraction as a percentage, ``0.41`` → ``41%``.
- :func:`amount`: millions of dollars in words, anything else as a number.
- :func:`ordinal`: ``1st``, ``2nd``, ``3rd``.
- :func:`counted`: a count with what it counts, ``350,000 H100s``, ``1 H100``, ``no H100s``.
- :func:`duration`: minutes in the unit a sentence would use, ``4.1 minutes``, ``38 seconds``,
  ``2.5 hours``, ``6.3 days``.

Values are plain Python or NumPy numbers. Nothing here imports the rest of the package.
"""

from __future__ import annotations

import math

#: From LARGE up, and below SMALL (zero aside), numbers are written in scientific notation.
LARGE = 1e15
SMALL = 1e-3

#: Significant figures of a figure in a sentence (:func:`prose`).
PROSE_DIGITS = 3
#: From a million up, a figure in a sentence is written with a word for its scale.
_SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))
#: What a figure in a sentence can be (:func:`prose`).
KINDS = ("number", "amount", "pct", "fraction", "year", "seed")

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def number(value: float | int | None, digits: int = 4) -> str:
    """A figure as a reader expects it; ``None`` is an empty cell."""
    if value is None:
        return ""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{value} cannot be shown as a figure")
    if value == 0:
        return "0"  # never "-0"
    size = abs(value)
    if size >= LARGE or size < SMALL:
        return scientific(value, digits=min(digits, 3), trim=True)
    if size >= 1000:
        return f"{value:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(size)))
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


def prose(value: float | int, kind: str = "number", *, sign: bool = False) -> str:
    """A figure as a sentence writes it, by one rule whatever its value.

    ``kind`` says what the figure is:

    - ``"number"`` (a count, a figure from a source, a ratio): a whole number below a million as
      it is (``24,576``, ``350,000``); anything else to :data:`PROSE_DIGITS` significant figures
      (``846``, ``14.2``, ``0.0924``, ``559,000``), from a million up with a word for its scale
      (``2.66 million``, ``8.75 billion``, ``1.23 trillion``), and in scientific notation from
      :data:`LARGE` up and below :data:`SMALL` (``3.8 × 10²⁵``, ``4.2 × 10⁻⁴``); no trailing
      zeros (``2``, not ``2.00``), and ``0``, never ``-0``;
    - ``"amount"`` (a computed quantity: dollars, tonnes, megawatts): the same, but to
      :data:`PROSE_DIGITS` significant figures even when it happens to be whole (``166,775`` →
      ``167,000``);
    - ``"pct"``: a value already in percent, by the same rule (but no word for its scale), with
      its sign: ``41`` → ``41%``, ``1,040,000%``;
    - ``"fraction"``: a fraction of one as a percentage: ``0.371`` → ``37.1%``;
    - ``"year"`` or ``"seed"``: a whole number as its digits, never with a separator: ``2024``.

    With ``sign``, a positive figure carries a plus (a difference: ``+4.3%``, ``-0.24``).
    A value that is not finite cannot be written and is refused (``ValueError``).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind of figure {kind!r}; known: {', '.join(KINDS)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{value} cannot be written in a sentence")
    if kind in ("year", "seed"):
        if not value.is_integer():
            raise ValueError(f"a {kind} is a whole number, not {value}")
        text = str(int(value))
    else:
        if kind == "fraction":
            value *= 100
        share = kind in ("pct", "fraction")
        text = _figure(value, exact=kind != "amount", words=not share) + ("%" if share else "")
    return f"+{text}" if sign and value > 0 else text


def _figure(value: float, *, exact: bool, words: bool) -> str:
    """The rule of :func:`prose` for a number."""
    if value == 0:
        return "0"
    if exact and value.is_integer() and abs(value) < 1e6:
        return f"{value:,.0f}"  # a count, or a figure given whole: as it is
    rounded = round_sig(value, PROSE_DIGITS)
    size = abs(rounded)
    if size >= LARGE or size < SMALL:
        return scientific(value, PROSE_DIGITS, trim=True)
    for scale, word in _SCALES if words else ():
        if size >= scale:
            return f"{number(rounded / scale, PROSE_DIGITS)} {word}"
    return number(rounded, PROSE_DIGITS)


def in_words(value: float, unit: str) -> str:
    """``47.7 billion dollars``, ``585 million dollars``, ``12,500 dollars``: an amount as
    :func:`prose` writes it (three significant figures), then its unit."""
    return f"{prose(value, 'amount')} {unit}"


def percent(fraction: float, decimals: int = 0, *, sign: bool = False) -> str:
    """``0.41`` → ``41%``; with ``sign``, ``+1.5%`` and ``-0.3%`` (a difference). A share too
    small for ``decimals`` is written to :data:`PROSE_DIGITS` significant figures (``0.17%``),
    never ``0%`` or ``-0%``; nothing is ``0%``."""
    if fraction == 0:
        return "0%"
    text = f"{100 * fraction:{'+' if sign else ''}.{decimals}f}%"
    if float(text.rstrip("%")) == 0:
        return prose(fraction, "fraction", sign=sign)
    return text


def ordinal(rank: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``21st``: a rank as it is written."""
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def counted(
    value: float | int, noun: str | None = None, plural: str | None = None, *, kind: str = "number"
) -> str:
    """A count and what it counts, as a sentence writes it: ``350,000 H100s``, ``1 H100`` (one
    is singular), ``no H100s`` (zero in words), ``0.5 clusters``; without a noun, the number
    alone, or ``none`` for zero (``none of them``).

    The number is written by :func:`prose` (``kind`` as there); the noun is singular when the
    number is written ``1``. ``plural`` defaults to the noun with an ``s``.
    """
    text = prose(value, kind)
    plural = plural or (f"{noun}s" if noun else None)
    if text == "0":
        return f"no {plural}" if noun else "none"
    if noun is None:
        return text
    return f"{text} {noun if text == '1' else plural}"


def amount(value: float, unit: str, digits: int = 3) -> str:
    """A result in a table a reader can quote: millions of dollars in words
    (``4.1 billion dollars``), anything else to ``digits`` significant figures (:func:`about`;
    the unit is shown beside it). Exact values belong in the downloads."""
    if unit == "USD" and abs(value) >= 1e6:
        return in_words(value, "dollars")
    return about(value, digits)


#: Units of :func:`duration`: each is used up to the next one's lower bound, in minutes.
_DURATIONS = ((2 * 24 * 60, 24 * 60, "day"), (60, 60, "hour"), (1, 1, "minute"))


def duration(minutes: float) -> str:
    """A span of time given in minutes, in the unit a sentence would use: seconds below a
    minute, minutes below an hour, hours below two days, then days; counted as
    :func:`counted` counts (``1 minute``, ``2.5 hours``)."""
    if not math.isfinite(minutes) or minutes <= 0:
        raise ValueError(f"a duration is a positive, finite number of minutes, not {minutes!r}")
    for lowest, size, unit in _DURATIONS:
        if minutes >= lowest:
            return counted(round_sig(minutes / size), unit, kind="amount")
    return counted(round_sig(minutes * 60), "second", kind="amount")
