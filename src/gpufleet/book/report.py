"""Helpers notebooks use to hand numbers to the page (myst-nb glue) and to the results.

:func:`number` glues a number twice: as it is under its name (what ``gpufleet results``, the
downloads and the tests read back from the executed notebooks, :mod:`gpufleet.build.results`),
and as a reader reads it, written by :func:`gpufleet.formatting.prose`, under the name followed
by :data:`TEXT` (``__text``). The prose pastes the text, never the number with a format of its
own::

    report.number("fleet_it_mw", 783.1486)          # fleet_it_mw: 783.1486
                                                    # fleet_it_mw__text: "783"
    report.number("mfu_pct", 41.0, kind="pct")      # mfu_pct__text: "41%"

    {glue:text}`fleet_it_mw__text` MW, at {glue:text}`mfu_pct__text` utilization
    {glue:text}`fleet.ipynb::fleet_it_mw__text:s`   (from another page: ``:s``)

A count pasted before its noun would read "1 H100s" or "0 MI300Xs" for some values: glue the
count with its noun, :func:`count` (``1 H100``, ``no MI300Xs``).

The author says what a figure is (``kind``: a percentage, a year, a seed; ``sign`` for a
difference); the digits follow from the value, by the one rule. A name ending in ``__text``
is kept for these texts. Headline numbers are glued by :func:`gpufleet.book.chapter.headlines`.
"""

from __future__ import annotations

import math
import numbers

from gpufleet import formatting


def _plain(value: object) -> float | int:
    """A plain Python number (NumPy scalars would be glued as 'np.float64(...)')."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"only numbers can be glued, got {value!r}")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


#: What follows a number's name in the name of its text (:func:`number`).
TEXT = "__text"


def text_name(name: str) -> str:
    """The name a number glued under ``name`` has its text under: ``name__text``."""
    return name + TEXT


def kind_of(unit: str) -> str:
    """The kind of figure (:func:`gpufleet.formatting.prose`) a value in ``unit`` is, for the
    numbers glued by unit (headlines): a count as a number, a fraction as a percentage, anything
    else (dollars, tonnes, megawatts) as a computed amount."""
    return {"count": "number", "fraction": "fraction"}.get(unit, "amount")


def _not_a_text_name(name: str) -> None:
    """Refuse a name ending in ``__text``: it is kept for the text of a number."""
    if name.endswith(TEXT):
        raise ValueError(f"{name}: a name ending in {TEXT} is kept for the text of a number")


def number(name: str, value: object, *, kind: str = "number", sign: bool = False) -> float | int:
    """Glue a number under ``name``, and its text for sentences under ``name__text``, without
    showing either; returns the plain number.

    The text is :func:`gpufleet.formatting.prose` of the number: ``kind`` says what the figure
    is (``"amount"`` for a computed quantity never written whole, ``"pct"`` for a value in
    percent, ``"fraction"`` for a fraction written as a percentage, ``"year"`` or ``"seed"``)
    and ``sign`` marks a difference.

    A number that is not finite (the days of a job that makes no progress) is not glued at
    all: the results and the downloads have no entry for it (JSON has no infinity), and a
    sentence that pastes its text fails the build, naming it. The chapter says in words what
    such a value means.
    """
    from myst_nb import glue

    _not_a_text_name(name)
    if kind not in formatting.KINDS:
        raise ValueError(f"{name}: unknown kind {kind!r}; known: {', '.join(formatting.KINDS)}")
    plain = _plain(value)
    if not math.isfinite(plain):
        return plain
    try:
        written = formatting.prose(plain, kind, sign=sign)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc
    glue(name, plain, display=False)
    glue(text_name(name), written, display=False)
    return plain


def text(name: str, value: str) -> str:
    """Glue a piece of text (a chosen option, a label) for use in sentences.

    It is stored as Python writes a string, in quotes: myst-nb reads a glued text back as a
    Python literal, so the quotes come off and the text is pasted as it is. Unquoted, a text
    that looks like a literal would not survive: ``200,000`` would be pasted as ``(200, 0)``.
    A name ending in ``__text`` is kept for the text of a number (:func:`number`); a number for
    a sentence is glued with :func:`number`, not written here.
    """
    from myst_nb import glue

    _not_a_text_name(name)
    glue(name, str(value), display=False)
    return value


def markdown(name: str, value: str) -> str:
    """Glue a sentence written in Markdown (``**bold**``), pasted in its own notebook with
    ``{glue:md}`name` `` (myst-nb pastes Markdown from the same page only). For a sentence
    whose shape depends on the values, where emphasis must follow the branch taken; its
    numbers are written by :mod:`gpufleet.formatting`, as in any sentence."""
    from IPython.display import Markdown
    from myst_nb import glue

    _not_a_text_name(name)
    glue(name, Markdown(value), display=False)
    return value


def words(name: str, value: float, unit: str) -> str:
    """Glue ``value`` with its unit in words (``47.7 billion dollars``) under ``name``."""
    return text(name, formatting.in_words(value, unit))


def count(
    name: str, value: float, noun: str | None = None, plural: str | None = None, *, kind="number"
) -> str:
    """Glue a count with what it counts under ``name``, as a sentence reads it:
    ``350,000 H100s``, ``1 H100``, ``no MI300Xs``, and without a noun ``none`` for zero
    (:func:`gpufleet.formatting.counted`). The number itself, for the results, is glued with
    :func:`number`."""
    return text(name, formatting.counted(value, noun, plural, kind=kind))


def share_pct(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole``; 0 when the whole is 0 (nothing to share)."""
    return 100.0 * part / whole if whole else 0.0
