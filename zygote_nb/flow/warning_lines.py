"""Warnings shown once each at the user's line that caused them, the backward pass included.

NumPy warns from inside autograd's wrappers, so a plain warning points at
``autograd/tracer.py``. In the forward pass the user's line is on the call
stack when the warning is raised; in the backward pass it is not (derivative
rules run from the pullback, long after the line returned), so a warning
raised there is shown at the line of the operation whose derivative raised
it (each recorded node keeps it), marked ``(in the backward pass)``: see
:func:`zygote_nb.user_warnings.place_of_warning`.
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
from typing import Iterator

from ..frames import is_user_file, outward
from ..user_warnings import BACKWARD, place_of_warning


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
    outside_ids = {id(frame) for frame in outside}
    caught: dict = {}

    def remember(message, category, filename, lineno, file=None, line=None) -> None:
        if is_user_file(filename):
            place, in_backward = (filename, lineno), False
        else:
            place, in_backward = place_of_warning(sys._getframe(1), outside_ids)
        if place is None:
            place, in_backward = fallback or (filename, lineno), True
        caught.setdefault((f"{message}{BACKWARD}" if in_backward else str(message), category, place), None)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = remember
            yield
    finally:
        for message, category, (filename, line) in caught:
            warnings.warn_explicit(message, category, filename, line)
