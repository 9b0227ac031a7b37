"""What ``ArrayBox`` gains inside zygote_nb's traces: NumPy's dispatch protocols and ndarray's methods.

autograd's ``ArrayBox`` has neither ``__array_function__`` nor ``__array__``,
and lacks many ndarray methods.  zygote_nb gives it both, seen only inside its
own traces (:func:`~zygote_nb.autograd_patches.traces.inside_own_trace`);
elsewhere an ``ArrayBox`` behaves as autograd made it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.tracer import Box

from .guarded import report_conversion
from .traces import inside_own_trace


# ----- NumPy's dispatch protocols -----


def _numpy_without_dispatch(func: Callable, types: tuple, args: tuple, kwargs: dict) -> Any:
    """What NumPy does when ``ArrayBox`` has no ``__array_function__``: ask the others, else run its own code."""
    if any(not issubclass(kind, (Box, numpy.ndarray)) for kind in types):
        return NotImplemented
    return call_numpy_implementation(func, args, kwargs)


def install_array_dispatch(array_function: Callable, array: Callable) -> None:
    """Give ``ArrayBox`` ``__array_function__`` and ``__array__`` that run ``array_function`` / ``array``
    inside zygote_nb's traces and do what NumPy would without them elsewhere (installing twice is harmless).
    """

    def __array_function__(self, func, types, args, kwargs):
        if inside_own_trace():
            return array_function(self, func, types, args, kwargs)
        return _numpy_without_dispatch(func, types, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        if inside_own_trace():
            report_conversion(self, "__array__")
            return array(self, dtype, copy)
        # NumPy reads an object without __array__ as the sequence of its elements.
        elements = numpy.empty(self.shape, dtype=object)
        for index in numpy.ndindex(self.shape):
            elements[index] = self[index]
        return elements if dtype is None else elements.astype(dtype)

    ArrayBox.__array_function__ = __array_function__
    ArrayBox.__array__ = __array__


def call_numpy_implementation(func: Callable, args: tuple, kwargs: dict) -> Any:
    """NumPy's own code for ``func``, skipping ``__array_function__`` dispatch (NumPy's ``_implementation``).

    >>> call_numpy_implementation(numpy.concatenate, ([[1], [2]],), {})
    array([1, 2])
    """
    return func._implementation(*args, **kwargs)


# ----- ndarray's methods -----

# Conversions Python looks up on the type; outside zygote_nb's traces they fail as they did without them.
_CONVERSIONS = {"__float__": float, "__int__": int, "__complex__": complex}


class OwnTraceAttribute:
    """An ``ArrayBox`` attribute: zygote_nb's version inside its traces; elsewhere ``ArrayBox``'s own, or none."""

    def __init__(self, name: str, own: Any, original: Any):
        self.name, self.own, self.original = name, own, original

    def __get__(self, box: Any, owner: type | None = None) -> Any:
        if box is None:
            return self
        if inside_own_trace():
            return self.own.__get__(box, owner)
        if self.original is not None:
            return self.original.__get__(box, owner)
        # What Python does for an object without the attribute, in its own words (an instance of a bare
        # class of the same name raises the same errors).
        bare = type(type(box).__name__, (), {})()
        if self.name in _CONVERSIONS:
            return lambda: _CONVERSIONS[self.name](bare)
        if self.name.startswith("__"):
            return lambda other: NotImplemented  # an operator: Python asks the other operand, then raises
        return getattr(bare, self.name)


def install_array_methods(methods: dict[str, Any]) -> None:
    """Give ``ArrayBox`` the attributes ``methods`` (name: function or property) inside zygote_nb's traces.

    Outside them an ``ArrayBox`` keeps autograd's attribute of that name, or
    lacks it, so plain autograd (``autograd.grad``, ``make_jvp``) is unchanged.
    Installing again replaces zygote_nb's versions and keeps autograd's.

    >>> import zygote_nb  # installs zygote_nb.array_methods
    >>> from autograd import grad
    >>> float(grad(lambda x: x * hasattr(x, "copy"))(1.0))  # autograd's ArrayBox has no copy()
    0.0
    >>> zygote_nb.gradient(lambda x: x.copy() * 2.0, 1.0)
    (2.0,)
    """
    for name, method in methods.items():
        current = vars(ArrayBox).get(name)
        original = current.original if isinstance(current, OwnTraceAttribute) else current
        setattr(ArrayBox, name, OwnTraceAttribute(name, method, original))
