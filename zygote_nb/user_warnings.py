"""Warnings raised while differentiating, shown at the user's line instead of inside autograd.

NumPy warns from the Python frame that called it, which for a traced
operation is autograd's wrapper (``autograd/tracer.py``), and for a derivative
rule is autograd's rule table. Every recorded operation keeps the user's line
that made it (``RecordedNode.place``, well under a microsecond each); nothing
else is done until a warning is actually shown. Then :func:`place_of_warning`
looks along the stack: in a backward pass (or an engine's sweep) the node
being pulled back names the line, and the warning says ``(in the backward
pass)``; in the forward pass the user's innermost frame does.

The differential operators run inside :class:`warnings_at_operations`:

>>> import warnings, numpy
>>> import zygote_nb as zn
>>> def log_sum(x):
...     return numpy.sum(numpy.log(x))
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     _ = zn.gradient(log_sum, numpy.array([0.0, 1.0]))
>>> [(str(warning.message), warning.lineno) for warning in caught]
[('divide by zero encountered in log', 2), ('divide by zero encountered in divide (in the backward pass)', 2)]
"""

from __future__ import annotations

import sys
import types
import warnings

from .frames import is_user_file, line_at
from .pullback import RecordedNode

BACKWARD = " (in the backward pass)"


def place_of_warning(frame: types.FrameType | None, outside: frozenset | set = frozenset()
                     ) -> tuple[tuple[str, int] | None, bool]:
    """``((filename, line), in_backward)`` for a warning raised at ``frame``: the user's line it belongs to.

    Walking outwards, the first frame of the user's code (not in ``outside``) is the place of a forward-pass
    warning; a frame that is pulling a recorded node back (a local ``node`` holding a
    :class:`~zygote_nb.pullback.RecordedNode`) gives that node's place, for a warning from its derivative rule.

    >>> (filename, line), in_backward = place_of_warning(sys._getframe())
    >>> line, in_backward
    (1, False)
    """
    while frame is not None:
        if is_user_file(frame.f_code.co_filename) and id(frame) not in outside:
            return (frame.f_code.co_filename, frame.f_lineno), False
        if "node" in frame.f_code.co_varnames:
            node = frame.f_locals.get("node")
            if isinstance(node, RecordedNode) and node.place is not None:
                code, offset = node.place
                return (code.co_filename, line_at(code, offset)), True
        frame = frame.f_back
    return None, False


class warnings_at_operations:
    """A block (a differential operator's call) whose warnings are re-issued at the user's lines.

    Only ``warnings.showwarning`` is swapped, never the filters, so that
    NumPy's once-per-place warnings stay once per place across many calls;
    a warning is re-issued through the filters at its new place. Blocks nest:
    an outer one receives what an inner one re-issued, already at a user line.

    >>> with warnings.catch_warnings(record=True) as caught, warnings_at_operations():
    ...     warnings.simplefilter("always")
    ...     warnings.warn("shown where it was raised")
    >>> caught[0].lineno
    3
    """

    _registries: dict = {}  # per file: which warnings were shown there (the filters' "default" and "once")

    def __enter__(self) -> None:
        self.shown_before = warnings.showwarning
        warnings.showwarning = self.show

    def __exit__(self, *exc_info) -> None:
        warnings.showwarning = self.shown_before

    def show(self, message, category, filename, lineno, file=None, line=None) -> None:
        if file is not None or is_user_file(filename):
            self.shown_before(message, category, filename, lineno, file, line)
            return
        place, in_backward = place_of_warning(sys._getframe(1))
        if place is None:
            self.shown_before(message, category, filename, lineno, file, line)
            return
        text = f"{message}{BACKWARD}" if in_backward else str(message)
        warnings.warn_explicit(text, category, *place, registry=self._registries.setdefault(place[0], {}))
