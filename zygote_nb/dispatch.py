"""Plain NumPy calls on traced values run their traced versions.

autograd records a computation by passing ``ArrayBox`` values through the
functions of ``autograd.numpy``. Code written with ``import numpy as np`` calls
NumPy's own functions instead. For ufuncs (``numpy.sin(x)``, ``x * array``,
``array @ x``) autograd already handles this through ``ArrayBox.__array_ufunc__``.
For every other function NumPy asks the ``__array_function__`` method of the
arguments, which ``ArrayBox`` lacks, so ``numpy.dot(W, x)`` used to turn ``x``
into an array of Python objects, one traced scalar each: minutes for a large
``W``, or a failure.

Importing this module installs ``ArrayBox.__array_function__``
(through :func:`zygote_nb.autograd_patches.install_array_dispatch`, so only
inside zygote_nb's own traces: plain autograd keeps NumPy's behaviour): it
calls the function of the same name in :mod:`zygote_nb.numpy` (or its
``linalg`` and ``fft`` submodules), and returns ``NotImplemented`` for a
function with no traced version, so NumPy raises its usual ``TypeError``.
Installing twice is harmless.

``numpy.asarray(x)`` and ``numpy.array(x)`` cannot be redirected: NumPy does
not dispatch them and they must return an ``ndarray``. For a traced ``x`` they
still build an object array of traced scalars (which keeps the gradient but
makes every later NumPy call slow), now with an :class:`ObjectArrayWarning`
naming the fix; asked for a numeric dtype (``numpy.asarray(x, dtype=float)``)
they raise ``TypeError`` instead of silently dropping the gradient.  A plain
array indexed by a traced value (``plain[x]``) makes NumPy read ``x`` the same
way; that read gives no warning, since the indexing then fails with an error
of its own (see :mod:`zygote_nb.errors`).  A traced integer read this way
(``numpy.arange(n)``, which NumPy does not dispatch) raises an error naming
``zygote_nb.numpy.arange`` and ``int(n)``.

>>> import numpy
>>> from zygote_nb import gradient
>>> W = numpy.array([[1.0, 2.0], [3.0, 4.0]])
>>> gradient(lambda x: numpy.sum(numpy.dot(W, x)), numpy.ones(2))
(array([4., 6.]),)
"""

from __future__ import annotations

import dis
import sys
import threading
import warnings
from typing import Any, Callable

import numpy
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.tracer import Box

import zygote_nb.numpy as traced_numpy

from .autograd_patches import IndexBox, call_numpy_implementation, install_array_dispatch
from .errors import DifferentiationError


class ObjectArrayWarning(UserWarning):
    """NumPy copied a traced value into an array of Python objects."""


def _traced_versions() -> dict:
    """Map each NumPy function to the function of the same name in traced numpy."""
    versions = {}
    for numpy_module, traced_module in [
        (numpy, traced_numpy),
        (numpy.linalg, traced_numpy.linalg),
        (numpy.fft, traced_numpy.fft),
    ]:
        for name, numpy_function in vars(numpy_module).items():
            traced_function = getattr(traced_module, name, None)
            if (
                not name.startswith("_")
                and callable(numpy_function)
                and not isinstance(numpy_function, type)
                and traced_function is not None
                and traced_function is not numpy_function
            ):
                versions[numpy_function] = traced_function
    return versions


TRACED_VERSIONS = _traced_versions()

class _CallsInProgress(threading.local):
    """The NumPy functions whose traced versions are running in this thread."""

    def __init__(self) -> None:
        self.functions: set = set()


_calls_in_progress = _CallsInProgress()


def _array_function(self: ArrayBox, func: Callable, types: tuple, args: tuple, kwargs: dict) -> Any:
    traced_function = TRACED_VERSIONS.get(func)
    if traced_function is None or not all(issubclass(t, (Box, numpy.ndarray)) for t in types):
        return NotImplemented
    in_progress = _calls_in_progress.functions
    if func in in_progress:
        # A traced version that calls the same NumPy function on traced values
        # gets NumPy's own implementation, as before this module, not itself.
        return call_numpy_implementation(func, args, kwargs)
    in_progress.add(func)
    try:
        return traced_function(*args, **kwargs)
    finally:
        in_progress.discard(func)


_SUBSCRIPT = dis.opmap.get("BINARY_SUBSCR")


def _read_for_subscript(frame: Any) -> bool:
    """Whether the Python line running in ``frame`` is at a subscript (``plain[x]``) that NumPy is reading."""
    return frame.f_code.co_code[frame.f_lasti] == _SUBSCRIPT


def _array(self: ArrayBox, dtype: Any = None, copy: bool | None = None) -> numpy.ndarray:
    if copy is False:
        raise ValueError("a traced value cannot be viewed as a NumPy array without a copy")
    if dtype is not None and numpy.dtype(dtype) != numpy.dtype(object):
        raise TypeError(
            f"cannot convert a traced value to a {numpy.dtype(dtype)} NumPy array: its gradient would be "
            "lost; use zygote_nb.numpy (e.g. zygote_nb.numpy.asarray) inside differentiated code"
        )
    if isinstance(self, IndexBox):
        raise DifferentiationError(
            "NumPy read a traced integer as an array (numpy.arange(n), numpy.asarray(n)), which it cannot trace: "
            "use zygote_nb.numpy's function (np inside a magic cell), or int(n) where the integer is only a size or "
            "bound (that use carries no gradient)"
        )
    # Frames: this function, autograd_patches' __array__, then the user's line that asked.
    if not _read_for_subscript(sys._getframe(2)):
        warnings.warn(
            "numpy.asarray/numpy.array made an object array of traced scalars, which keeps the gradient "
            "but makes every later NumPy call slow; use zygote_nb.numpy.asarray/array inside differentiated code",
            ObjectArrayWarning,
            stacklevel=3,
        )
    elements = numpy.empty(self.shape, dtype=object)
    for index in numpy.ndindex(self.shape):
        elements[index] = self[index]
    return elements


def install() -> None:
    """Give ``ArrayBox`` the NumPy dispatch methods inside zygote_nb's traces (done on import; repeating it is harmless).

    >>> install()
    >>> hasattr(ArrayBox, "__array_function__")
    True
    """
    install_array_dispatch(_array_function, _array)


install()
