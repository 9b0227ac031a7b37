"""Validation at the public edge: one check, one clear message that names the fix.

>>> require_callable("gradient", 3)
Traceback (most recent call last):
...
TypeError: gradient(f, ...) needs a function as its first argument, got int: pass the function first, e.g. gradient(lambda x: x**2, 3.0)
"""

from __future__ import annotations

from typing import Any

import numpy
from autograd.tracer import getval

from .array_library import is_device_array


def require_callable(operator_name: str, f: Any) -> None:
    """``f`` must be a function."""
    if not callable(f):
        raise TypeError(
            f"{operator_name}(f, ...) needs a function as its first argument, got "
            f"{type(f).__name__}: pass the function first, e.g. {operator_name}(lambda x: x**2, 3.0)")


def refuse_params(operator_name: str, args: tuple) -> None:
    """``operator_name`` differentiates explicit arguments only: a :class:`~zygote_nb.params.Params` is refused."""
    from .params import Params

    if any(isinstance(arg, Params) for arg in args):
        raise TypeError(
            f"{operator_name} does not take Params (only gradient, withgradient, jacobian, withjacobian and pullback "
            f"do): pass the array itself, e.g. {operator_name}(lambda w: loss(w), w)")


def _is_number_or_array(raw: Any) -> bool:
    if isinstance(raw, (bool, numpy.bool_)):
        return False
    return isinstance(raw, (int, float, complex, numpy.ndarray, numpy.generic)) or is_device_array(raw)


def output_problem(value: Any, scalar: bool, array_hint: str) -> str | None:
    """What is wrong with ``value`` as a differentiated function's output, and the fix; ``None`` if nothing is.

    ``scalar``: the operator needs a real number (``array_hint`` is the fix
    for an array); otherwise a real number or array.  The one output check:
    the operators raise ``TypeError`` with it, the magics ``UsageError``.

    >>> output_problem(numpy.ones(3), True, "use jacobian(f, ...)")
    'is an array of shape (3,): use jacobian(f, ...)'
    >>> output_problem(numpy.ones(3), False, "") is None
    True
    """
    raw = getval(value)
    if type(raw) is float or type(raw) is numpy.float64:
        return None  # the common case, cheaply
    if not _is_number_or_array(raw):
        if scalar:
            return f"is a {type(raw).__name__}, not a number: return the scalar loss (e.g. np.sum(...))"
        return f"is a {type(raw).__name__}, not a number or an array: np.stack the outputs into one array"
    kind = numpy.result_type(raw).kind
    if kind == "c":
        return "is complex: differentiate np.real(y), np.imag(y) or np.abs(y) instead"
    if kind not in "iuf":
        return f"holds {numpy.result_type(raw)} values, not real numbers: return floats"
    if scalar and numpy.ndim(raw) != 0:
        return f"is an array of shape {numpy.shape(raw)}: {array_hint}"
    return None


def require_real_scalar(operator_name: str, value: Any, array_hint: str) -> None:
    """``value`` (the function's output) must be a real number for ``operator_name``."""
    problem = output_problem(value, True, array_hint)
    if problem:
        raise TypeError(f"{operator_name} needs a real scalar output, but f's output {problem}")


def require_real_array(operator_name: str, value: Any) -> None:
    """``value`` must be a real number or a real numeric array (a Jacobian's output)."""
    problem = output_problem(value, False, "")
    if problem:
        raise TypeError(f"{operator_name} needs a real number or array output, but f's output {problem}")
