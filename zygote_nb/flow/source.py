"""Where in the user's code an operation was called: the first frame outside the libraries.

A primitive is recorded deep inside autograd and NumPy (and often inside
zygote_nb's own wrappers); the line a reader wants to see is the first frame,
walking outwards, that is the user's code by the one rule of
:mod:`zygote_nb.frames`.

>>> def where_am_i():
...     return caller_location()
>>> location = where_am_i()
>>> location.code
'return caller_location()'
"""

from __future__ import annotations

import linecache
import sys
from dataclasses import dataclass

from ..frames import describe_place, is_cell_filename, user_frame


@dataclass(frozen=True)
class SourceLocation:
    """A line of the user's code: its file, its line number, its text and the function it is in."""

    filename: str
    line: int
    code: str
    function: str = ""

    @property
    def in_cell(self) -> bool:
        """Whether the line is in a notebook or IPython cell rather than in a file."""
        return is_cell_filename(self.filename)

    def place(self) -> str:
        """``In [5] line 3`` in a notebook (``… in helper`` inside a function), ``model.py:12 in loss`` for a file."""
        return describe_place(self.filename, self.line, self.function)

    def __str__(self) -> str:
        return f"{self.place()}: {self.code}" if self.code else self.place()


def caller_location() -> SourceLocation | None:
    """The innermost frame of the current call stack that is the user's code (:mod:`zygote_nb.frames`)."""
    frame = user_frame(sys._getframe(1))
    if frame is None:
        return None
    filename, line = frame.f_code.co_filename, frame.f_lineno
    return SourceLocation(filename, line, linecache.getline(filename, line).strip(), frame.f_code.co_name)
