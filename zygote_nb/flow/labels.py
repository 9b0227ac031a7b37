"""What a box of the flow picture says: the code that made it, the operation, and the line.

A reader of ``h1 = np.tanh(np.dot(W1, x) + b1)`` wants to see ``h1 = np.tanh(…)``
on the box of that ``tanh``, not a bare ``tanh`` that could be any of three
layers.  The operation whose result the statement assigns (the last of its
line, which no other operation of the same line consumes) carries the
assigned name; the others carry the call as written (``np.dot(…)``) or their
operator (``+``).

>>> from zygote_nb.flow.source import SourceLocation
>>> snippet("tanh", SourceLocation("<cell>", 3, "h1 = np.tanh(np.dot(W1, x) + b1)"), assigned=True)
'h1 = np.tanh(…)'
>>> snippet("add", SourceLocation("<cell>", 3, "h1 = np.tanh(np.dot(W1, x) + b1)"), assigned=False)
'… + …'
"""

from __future__ import annotations

import re

from .source import SourceLocation

SNIPPET_WIDTH = 26  # characters: a label wider than this pushes the next layer off a projected slide

OPERATORS = {"add": "+", "subtract": "-", "multiply": "*", "true_divide": "/", "divide": "/", "matmul": "@",
             "power": "**", "negative": "-", "floor_divide": "//", "mod": "%"}

_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][\w.\[\]'\", ]*?)\s*(?:[-+*/@]?=)(?!=)\s*(.+)$")


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with ``…`` where it was cut."""
    return text if len(text) <= width else text[:width - 1] + "…"


def snippet(operation: str, location: SourceLocation | None, assigned: bool) -> str:
    """A short piece of the source line naming this operation (its own name when the line does not)."""
    if location is None or not location.code:
        return operation
    code = location.code.split("#")[0].strip()
    assignment = _ASSIGNMENT.match(code)
    target, expression = (assignment.group(1), assignment.group(2)) if assignment else (None, code)
    call = re.search(rf"((?:[A-Za-z_]\w*\.)*{re.escape(operation)})\(", expression)
    if call is not None:
        written = f"{call.group(1)}(…)"
    elif operation in OPERATORS:
        written = f"… {OPERATORS[operation]} …" if operation != "negative" else "-…"
    else:
        written = operation
    if assigned and target is not None:
        written = f"{target} = {written}"
    return shorten(written, SNIPPET_WIDTH)


def place(location: SourceLocation | None) -> str:
    """``line 3`` in a cell, ``model.py:12`` in a file, ``?`` where unknown."""
    if location is None:
        return "line ?"
    return f"line {location.line}" if location.in_cell else location.place()
