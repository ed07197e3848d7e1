"""Helpers notebooks use to hand numbers to the page (myst-nb glue) and to the results.

A number glued here can be pasted into any page with ``{glue:text}`notebook.ipynb::key:,.1f```.
Headline numbers are glued by :func:`gpufleet.book.chapter.headlines`; ``gpufleet results``
reads them back from the executed notebooks (:mod:`gpufleet.build.results`).
"""

from __future__ import annotations

import numbers

from gpufleet import formatting


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
    """Glue a piece of text (a chosen option, a label) for use in sentences.

    It is stored as Python writes a string, in quotes: myst-nb reads a glued text back as a
    Python literal, so the quotes come off and the text is pasted as it is. Unquoted, a text
    that looks like a literal would not survive: ``200,000`` would be pasted as ``(200, 0)``.
    """
    from myst_nb import glue

    glue(name, str(value), display=False)
    return value


def words(name: str, value: float, unit: str) -> str:
    """Glue ``value`` written in words (``47.7 billion dollars``) under ``name``."""
    return text(name, formatting.in_words(value, unit))


def share_pct(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole``; 0 when the whole is 0 (nothing to share)."""
    return 100.0 * part / whole if whole else 0.0
