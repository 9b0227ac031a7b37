"""Where NaN and Inf first appear: the operation that turned finite numbers into non-finite ones.

In the forward pass that is the first operation whose inputs are all finite
and whose output is not; in the backward pass, the first operation (in the
order the pass visits them) whose incoming gradient is finite and whose
outgoing gradient is not.  The entries that went wrong are named with the
input values at the same index, so that ``np.log(x)`` reads as "-inf at
index 2 where x == 0".

>>> import numpy
>>> x = numpy.array([1.0, 2.0, 0.0])
>>> offending_entries(numpy.array([0.0, 0.5, -numpy.inf]), [("x", x)])
('-inf at index 2 where x == 0',)
>>> offending_entries(numpy.full(5, numpy.nan), [])[-1]
'and 2 more'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy

from .source import SourceLocation
from .statistics import Summary, as_host_array

_ENTRIES_SHOWN = 3


@dataclass(frozen=True)
class Origin:
    """The first operation of one pass (``"forward"`` or ``"backward"``) to produce NaN or Inf.

    ``explanation`` tells why, when a masked-off branch (``np.where``) or a
    zero gradient times an infinite derivative made it, with the rewrite that
    avoids it (:mod:`zygote_nb.flow.explanation`); ``None`` otherwise.
    """

    direction: str
    node: int
    operation: str
    location: SourceLocation | None
    problem: str
    entries: tuple[str, ...]
    explanation: str | None = None

    def describe(self) -> str:
        """One sentence for the banner: what went wrong, where, and at which entries."""
        produced = "value" if self.direction == "forward" else "gradient"
        where = f" at {self.location.place()}" if self.location else ""
        call = f"{self.operation} in `{self.location.code}`" if self.location and self.location.code else self.operation
        entries = "; ".join(self.entries) if self.entries else f"became {self.problem}"
        return f"first {self.problem} in the {self.direction} pass{where}, {call}: {produced} {entries}"


def origin_lines(origins) -> list[str]:
    """The text forms' account of the origins: each one's sentence, then its explanation (each said once).

    >>> origin = Origin("backward", 1, "log", None, "Inf", ("inf at index 2 where x == 0",))
    >>> origin_lines([None, origin])
    ['first Inf in the backward pass, log: gradient inf at index 2 where x == 0']
    """
    lines: list[str] = []
    for origin in origins:
        if origin is None:
            continue
        lines.append(origin.describe())
        if origin.explanation and f"  {origin.explanation}" not in lines:
            lines.append(f"  {origin.explanation}")
    return lines


def counted(number: int, noun: str) -> str:
    """``1 operation``, ``3 operations``.

    >>> counted(1, "operation"), counted(0, "operation")
    ('1 operation', '0 operations')
    """
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def problem_name(summary: Summary) -> str:
    """``NaN``, ``Inf`` or ``NaN and Inf``: what is wrong with a non-finite array."""
    names = [name for name, count in (("NaN", summary.nan_count), ("Inf", summary.inf_count)) if count]
    return " and ".join(names)


def offending_entries(result, inputs: list[tuple[str, object]]) -> tuple[str, ...]:
    """The first few non-finite entries of ``result``, each with the inputs' values at its index.

    ``inputs`` are ``(label, value)`` pairs; an input whose shape does not
    broadcast to the result's is left out.
    """
    result_array = as_host_array(result)
    if result_array is None:
        return ()
    described = []
    bad = numpy.argwhere(~numpy.isfinite(result_array))
    for index in bad[:_ENTRIES_SHOWN]:
        index = tuple(int(i) for i in index)
        values = [f"{label} == {_format_number(entry)}" for label, entry in _entries_at(inputs, result_array.shape, index)]
        place = f" at index {index[0] if len(index) == 1 else index}" if index else ""
        where = f" where {', '.join(values)}" if values else ""
        described.append(f"{_format_number(result_array[index])}{place}{where}")
    if len(bad) > _ENTRIES_SHOWN:
        described.append(f"and {len(bad) - _ENTRIES_SHOWN} more")  # the list shows a few, not all
    return tuple(described)


def _entries_at(inputs: list[tuple[str, object]], shape: tuple, index: tuple):
    for label, value in inputs:
        array = as_host_array(value)
        if array is None:
            continue
        try:
            yield label, numpy.broadcast_to(array, shape)[index]
        except ValueError:
            continue


def _format_number(number) -> str:
    number = number.item() if isinstance(number, numpy.generic) else number
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    if isinstance(number, float):
        return f"{number:.6g}"
    return str(number)
