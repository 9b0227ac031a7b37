"""Which frames are the user's code, and how to name a place in them: the one rule everything uses.

A traced operation runs deep inside NumPy, autograd and zygote_nb; a warning
is raised from the standard library's ``warnings``; a ``showgrad`` call may be
reached through a library's helper. Every part of zygote_nb that points a
reader at "your line" (the flow view's labels, the NaN origin, warnings,
tracebacks of a failing cell, ``showgrad`` reports) asks :func:`is_user_file`.

The rule: Python's standard library, installed packages (site-packages,
dist-packages), ``<frozen …>`` modules and zygote_nb itself are not the user's
code; notebook and IPython cells, ``<string>`` and ``<doctest …>`` code, and
every other file are.

>>> import json
>>> is_user_file(json.__file__), is_user_file("<frozen importlib._bootstrap>"), is_user_file("<ipython-input-5-a1b2>")
(False, False, True)

A place reads ``In [5] line 3`` in a cell, ``model.py:12 in loss`` in a file:

>>> describe_place("<ipython-input-5-a1b2c3>", 3, "<module>"), describe_place("/src/model.py", 12, "loss")
('In [5] line 3', 'model.py:12 in loss')
"""

from __future__ import annotations

import os
import re
import site
import sys
import sysconfig
import types
from functools import lru_cache
from typing import Iterator

import autograd
import numpy

import zygote_nb


def _library_folders() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    folders = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    folders.update(site.getsitepackages() + [site.getusersitepackages()])
    # Debian's python3-numpy lives in a dist-packages that sysconfig does not name.
    folders.update(os.path.dirname(module.__file__) for module in (zygote_nb, autograd, numpy))
    return tuple(os.path.realpath(folder) + os.sep for folder in folders)


_LIBRARY_FOLDERS = _library_folders()


@lru_cache(maxsize=None)
def is_user_file(filename: str) -> bool:
    """Whether code compiled from ``filename`` is the user's: see the module docstring for the rule."""
    if filename.startswith("<"):
        return not filename.startswith("<frozen")
    return not os.path.realpath(filename).startswith(_LIBRARY_FOLDERS)


def is_user_frame(frame: types.FrameType) -> bool:
    """Whether ``frame`` runs the user's code (:func:`is_user_file` of its file)."""
    return is_user_file(frame.f_code.co_filename)


def outward(frame: types.FrameType | None) -> Iterator[types.FrameType]:
    """``frame`` and the frames that called it, innermost first."""
    while frame is not None:
        yield frame
        frame = frame.f_back


def user_frame(frame: types.FrameType | None) -> types.FrameType | None:
    """The first frame of the user's code, starting at ``frame`` and walking outwards (``None`` if none).

    >>> import sys
    >>> user_frame(sys._getframe()).f_code.co_name
    '<module>'
    """
    return next((candidate for candidate in outward(frame) if is_user_frame(candidate)), None)


def user_position(frame: types.FrameType | None) -> tuple[types.CodeType, int] | None:
    """``(code, instruction offset)`` of the first frame of the user's code from ``frame`` outwards, or ``None``.

    Every recorded operation asks this, so it is a plain loop that leaves the line number for
    :func:`line_at` to work out when it is wanted (rarely: when a warning is shown).

    >>> import sys
    >>> line_at(*user_position(sys._getframe()))
    1
    """
    while frame is not None:
        code = frame.f_code
        if is_user_file(code.co_filename):
            return code, frame.f_lasti
        frame = frame.f_back
    return None


def line_at(code: types.CodeType, offset: int) -> int:
    """The source line of the instruction at ``offset`` in ``code``."""
    return next((line for start, end, line in code.co_lines() if start <= offset < end and line is not None),
                code.co_firstlineno)


def is_cell_filename(filename: str) -> bool:
    """Cells are ``<ipython-input-…>`` (terminal IPython), ``…/ipykernel_<pid>/<hash>.py`` (Jupyter)
    or ``<%%gradient cell N>`` (a zygote_nb magic, whose line numbers count the magic line)."""
    return filename.startswith(("<ipython-input", "<%%")) or f"{os.sep}ipykernel_" in filename


# Cells compiled by the magics, by filename: ``In [5]`` (see :func:`name_cell`).
_named_cells: dict[str, str] = {}

_TERMINAL_CELL = re.compile(r"<ipython-input-(\d+)-")


def name_cell(filename: str, name: str) -> None:
    """Remember that code compiled under ``filename`` is the cell the reader knows as ``name``."""
    _named_cells[filename] = name


def ipython_cell_numbers() -> dict:
    """IPython's record of the cells it compiled, filename → execution count, oldest first (``{}`` outside IPython).

    IPython's compiler keeps it for its own tracebacks ("Cell In[5], line 3").
    The running shell's module is looked up, never imported: the core does not depend on IPython.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(getattr(shell, "compile", None), "_filename_map", {})


def cell_name(filename: str) -> str | None:
    """``In [5]`` for a cell whose number is known, ``None`` otherwise."""
    if filename in _named_cells:
        return _named_cells[filename]
    number = ipython_cell_numbers().get(filename)
    if number is None:
        numbered = _TERMINAL_CELL.match(filename)
        number = numbered.group(1) if numbered else None
    return f"In [{number}]" if number is not None else None


def describe_place(filename: str, line: int, function: str = "") -> str:
    """``In [5] line 3`` (``cell line 3`` when the cell's number is unknown), ``model.py:12 in loss``.

    The function is named unless the line is at the top level of its cell or
    file (or in a lambda or comprehension), so that a helper defined in another
    cell reads ``In [2] line 4 in loss``.
    """
    named = f" in {function}" if function and not function.startswith("<") else ""
    if is_cell_filename(filename):
        return f"{cell_name(filename) or 'cell'} line {line}{named}"
    return f"{os.path.basename(filename)}:{line}{named}"

