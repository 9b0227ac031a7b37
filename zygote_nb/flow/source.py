"""Where in the user's code an operation was called: the first frame outside the libraries.

A primitive is recorded deep inside autograd and NumPy (and often inside
zygote_nb's own wrappers); the line a reader wants to see is the first frame,
walking outwards, whose file belongs to none of them.

>>> def where_am_i():
...     return caller_location()
>>> location = where_am_i()
>>> location.code
'return caller_location()'
"""

from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass
from functools import lru_cache

import autograd
import numpy

import zygote_nb

_LIBRARY_FOLDERS = tuple(os.path.dirname(module.__file__) + os.sep for module in (zygote_nb, autograd, numpy))


@dataclass(frozen=True)
class SourceLocation:
    """A line of the user's code: its file, its line number and its text."""

    filename: str
    line: int
    code: str

    @property
    def in_cell(self) -> bool:
        """Whether the line is in a notebook or IPython cell rather than in a file."""
        return is_cell_filename(self.filename)

    def place(self) -> str:
        """``cell line 3`` in a notebook, ``model.py:12`` for a file."""
        if self.in_cell:
            return f"cell line {self.line}"
        return f"{os.path.basename(self.filename)}:{self.line}"

    def __str__(self) -> str:
        return f"{self.place()}: {self.code}" if self.code else self.place()


def is_cell_filename(filename: str) -> bool:
    """Cells are ``<ipython-input-…>`` (terminal IPython), ``…/ipykernel_<pid>/<hash>.py`` (Jupyter)
    or ``<%%gradient cell N>`` (a zygote_nb magic, whose line numbers count the magic line)."""
    return filename.startswith(("<ipython-input", "<%%")) or f"{os.sep}ipykernel_" in filename


@lru_cache(maxsize=None)
def _is_library_file(filename: str) -> bool:
    return filename.startswith(_LIBRARY_FOLDERS)


def caller_location() -> SourceLocation | None:
    """The innermost frame of the current call stack that is not in zygote_nb, autograd or NumPy."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_library_file(filename):
            line = frame.f_lineno
            return SourceLocation(filename, line, linecache.getline(filename, line).strip())
        frame = frame.f_back
    return None
