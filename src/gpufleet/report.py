"""Helpers notebooks use to hand numbers to the page (myst-nb glue) and to the results.

A number glued here can be pasted into any page with ``{glue:text}`notebook.ipynb::key:,.1f```;
a headline number is also what ``gpufleet results`` reports, read back from the executed
notebook by :mod:`gpufleet.results`.
"""

from __future__ import annotations

import numbers

from gpufleet import data as _data


def _plain(value: object) -> float | int:
    """A plain Python number (NumPy scalars would be glued as 'np.float64(...)')."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"only numbers can be glued, got {value!r}")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def number(name: str, value: object) -> float | int:
    """Glue a number under ``name`` without showing it; returns the plain number."""
    from myst_nb import glue

    plain = _plain(value)
    glue(name, plain, display=False)
    return plain


def text(name: str, value: str) -> str:
    """Glue a piece of text (a chosen option, a label) for use in sentences."""
    from myst_nb import glue

    glue(name, TextValue(value), display=False)
    return value


class TextValue(str):
    """A string whose plain-text display is itself, without quotes."""

    def __repr__(self) -> str:
        return str(self)


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def scientific(value: float, digits: int = 2) -> str:
    """``2.1 × 10²⁵``: a large number as a reader writes it (``digits`` significant figures)."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def in_words(value: float, unit: str) -> str:
    """``47.7 billion dollars``, ``585 million dollars``, ``12,500 dollars``: three figures."""
    for scale, word in ((1e9, "billion"), (1e6, "million")):
        if abs(value) >= scale:
            scaled = value / scale
            shown = f"{scaled:,.0f}" if abs(scaled) >= 100 else f"{scaled:.3g}"
            return f"{shown} {word} {unit}"
    return f"{value:,.0f} {unit}"


def share_pct(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole``; 0 when the whole is 0 (nothing to share)."""
    return 100.0 * part / whole if whole else 0.0


def headline(key: str, value: object) -> float | int:
    """Glue a headline number; ``key`` must be declared in data/headlines.csv."""
    headlines = _data.load().headlines
    if key not in headlines:
        raise KeyError(f"{key!r} is not a headline key; declare it in data/headlines.csv")
    return number(key, value)
