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

from .backend import is_device_array


def require_callable(operator_name: str, f: Any) -> None:
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


def require_real_scalar(operator_name: str, value: Any, array_hint: str) -> None:
    """``value`` (the function's output) must be a real number for ``operator_name``."""
    raw = getval(value)
    if type(raw) is float or type(raw) is numpy.float64:
        return  # the common case, cheaply
    if not _is_number_or_array(raw):
        raise TypeError(
            f"{operator_name} needs f to return a real number, but it returned "
            f"{type(raw).__name__}: return the scalar loss (e.g. np.sum(...))")
    if numpy.result_type(raw).kind == "c":
        raise TypeError(
            f"{operator_name} needs a real output, but f returned a complex value: differentiate "
            f"np.real(y), np.imag(y) or np.abs(y) instead")
    if numpy.ndim(raw) != 0:
        raise TypeError(
            f"{operator_name} needs a scalar output, but f returned an array of shape "
            f"{numpy.shape(raw)}: {array_hint}")


def require_real_array(operator_name: str, value: Any) -> None:
    """``value`` must be a real number or a real numeric array (a Jacobian's output)."""
    raw = getval(value)
    if not _is_number_or_array(raw):
        raise TypeError(
            f"{operator_name} needs f to return a number or an array, but it returned "
            f"{type(raw).__name__}: np.stack the outputs into one array")
    if numpy.result_type(raw).kind not in "iuf":
        raise TypeError(
            f"{operator_name} needs a real output, but f returned {numpy.result_type(raw)} values: "
            f"take np.real(y), np.imag(y) or np.abs(y) of a complex output")
