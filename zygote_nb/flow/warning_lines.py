"""Warnings shown once each at the user's line that caused them, the backward pass included.

NumPy warns from inside autograd's wrappers, so a plain warning points at
``autograd/tracer.py``. In the forward pass the user's line is on the call
stack when the warning is raised; in the backward pass it is not (derivative
rules run from the pullback, long after the line returned). So every operation
recorded while the block runs remembers its user line, and its derivative rule
runs "at" that line: a warning raised there is shown at the line of the
operation whose derivative raised it, marked ``(in the backward pass)``.
:func:`~zygote_nb.flow.trace_gradient` and the magics' cells run inside such a block.

>>> import numpy
>>> import zygote_nb.numpy as np
>>> from zygote_nb.gradients import gradient
>>> def root(x):
...     return np.sum(np.sqrt(x))
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     with warnings_at_user_lines():
...         _ = gradient(root, numpy.array([0.0, 1.0]))
>>> [(str(warning.message), warning.lineno) for warning in caught]
[('divide by zero encountered in power (in the backward pass)', 2)]
"""

from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator

from ..frames import is_user_file, outward
from ..pullback import node_observers


class OperationPlaces:
    """A node observer: each recorded operation's derivative rule runs at the operation's user line.

    ``current`` is the place ``(filename, line)`` of the derivative rule
    running now (``None`` outside the backward pass). Frames in ``outside``
    (the caller of the block, a test, IPython) are never taken for the place.
    """

    def __init__(self, outside: set[int]):
        self.outside = outside
        self.running: list[tuple[str, int]] = []

    @property
    def current(self) -> tuple[str, int] | None:
        return self.running[-1] if self.running else None

    def user_place(self, frame) -> tuple[str, int] | None:
        """The first user frame from ``frame`` outwards that the block called, as ``(filename, line)``."""
        while frame is not None:  # a plain loop: this runs for every recorded operation
            filename = frame.f_code.co_filename
            if id(frame) not in self.outside and is_user_file(filename):
                return filename, frame.f_lineno
            frame = frame.f_back
        return None

    def __call__(self, recorded) -> None:
        place = self.user_place(sys._getframe(1))
        if place is not None:
            recorded.vjp = self._at_place(place, recorded.vjp)

    def _at_place(self, place: tuple[str, int], vjp: Callable) -> Callable:
        def vjp_at_place(cotangent):
            self.running.append(place)
            try:
                return vjp(cotangent)
            finally:
                self.running.pop()
        return vjp_at_place


@contextmanager
def warnings_at_user_lines(fallback: tuple[str, int] | None = None) -> Iterator[None]:
    """Show each warning raised inside the block once, at the line of user code that caused it.

    A warning that already points at the user's code (``warnings.warn`` in
    it, or one re-issued by an inner block) stays where it is. Otherwise a
    forward-pass warning goes to the innermost user frame called from the
    block (a cell's line, or a function from an earlier cell); a warning from
    a derivative rule goes to the line of its operation (see the module
    docstring), else to ``fallback`` (a magic's line), else where it was
    raised. The warning filters apply as usual.
    """
    outside = list(outward(sys._getframe()))  # kept alive, so that no new frame can take one's id
    places = OperationPlaces({id(frame) for frame in outside})
    caught: dict = {}

    def remember(message, category, filename, lineno, file=None, line=None) -> None:
        place = (filename, lineno) if is_user_file(filename) else places.user_place(sys._getframe(1))
        if place is None:
            place, message = places.current or fallback or (filename, lineno), f"{message} (in the backward pass)"
        caught.setdefault((str(message), category, place), None)

    node_observers.append(places)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = remember
            yield
    finally:
        node_observers.remove(places)
        for message, category, (filename, line) in caught:
            warnings.warn_explicit(message, category, filename, line)
