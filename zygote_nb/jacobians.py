"""``jacobian`` and ``withjacobian``: one pullback, one backward pass per output element.

Rows follow the output in C order, columns the argument in C order:
``J[k, i] = ∂ y.ravel()[k] / ∂ a.ravel()[i]``.

>>> import zygote_nb.numpy as np
>>> jacobian(lambda a: 100 * a[:3] ** 2, np.arange(1, 8))[0]
array([[200.,   0.,   0.,   0.,   0.,   0.,   0.],
       [  0., 400.,   0.,   0.,   0.,   0.,   0.],
       [  0.,   0., 600.,   0.,   0.,   0.,   0.]])
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy
from autograd.tracer import getval

from . import checks, structure
from .errors import explained_errors
from .progress import progress_bar
from .pullback import pullback


class WithJacobian(NamedTuple):
    """``(val, grad)``: the function's output and the tuple of Jacobians."""

    val: Any
    grad: tuple


def jacobian_shape(output_size: int, arg: Any) -> tuple:
    """``(m, n)`` for an array argument, ``(m,)`` for a scalar one (Zygote's convention)."""
    raw = getval(arg)
    return (output_size, raw.size) if hasattr(raw, "shape") and not isinstance(raw, numpy.generic) else (output_size,)


def assemble(rows: list, args: tuple, output_size: int) -> tuple:
    """Stack per-row gradients into one Jacobian per argument; ``None`` for non-array arguments."""
    jacobians = []
    for position, arg in enumerate(args):
        if not structure.is_differentiable(arg):
            jacobians.append(None)
            continue
        shape = jacobian_shape(output_size, arg)
        J = numpy.zeros(shape, dtype=numpy.result_type(float, getval(arg)))
        by_row = J.reshape(output_size, -1)
        for k, row in enumerate(rows):
            if row[position] is not None:
                by_row[k] = numpy.ravel(row[position])
        jacobians.append(J)
    return tuple(jacobians)


def withjacobian(f: Callable, *args: Any, progress: bool = False) -> WithJacobian:
    """Return ``(val, grad)``: ``f(*args)`` and its :func:`jacobian` tuple.

    >>> import zygote_nb.numpy as np
    >>> withjacobian(np.cumsum, np.array([1.0, 2.0, 3.0]))
    WithJacobian(val=array([1., 3., 6.]), grad=(array([[1., 0., 0.],
           [1., 1., 0.],
           [1., 1., 1.]]),))
    """
    checks.require_callable("withjacobian", f)
    with explained_errors():
        value, back = pullback(f, *args)
        checks.require_real_array("jacobian", value)
        output_shape = numpy.shape(value)
        output_size = int(numpy.prod(output_shape))
        rows = []
        for k in progress_bar(range(output_size), enabled=progress, description="jacobian rows"):
            seed = numpy.zeros(output_size)
            seed[k] = 1.0
            rows.append(back(seed.reshape(output_shape) if output_shape else seed[0]))
        return WithJacobian(value, assemble(rows, args, output_size))


def jacobian(f: Callable, *args: Any, progress: bool = False) -> tuple:
    """The Jacobian of ``f(*args)`` with respect to each number or array argument.

    For an array ``a`` the matrix ``J[k, i] = ∂y[k]/∂a[i]`` over C-order
    ``ravel`` of ``y`` and ``a``; for a scalar argument the vector ``J[k]``; a
    scalar output gives one row.  Any other argument (a string, a tuple, ...)
    gives ``None``, even where :func:`gradient` would work.  ``progress=True``
    shows a progress bar over the backward passes.

    >>> import zygote_nb.numpy as np
    >>> jacobian(lambda a, x: a**2 * x, np.array([1.0, 2.0, 3.0]), 1.0)
    (array([[2., 0., 0.],
           [0., 4., 0.],
           [0., 0., 6.]]), array([1., 4., 9.]))
    >>> jacobian(lambda a, s: a ** len(s), np.array([1.0, 2.0, 3.0]), "str")[1] is None
    True
    """
    checks.require_callable("jacobian", f)
    return withjacobian(f, *args, progress=progress).grad
