"""``jacobian`` and ``withjacobian``: one recording, then all rows at once.

Rows follow the output in C order, columns the argument in C order:
``J[k, i] = ∂ y.ravel()[k] / ∂ a.ravel()[i]``.

By default the vectorised engine (:mod:`zygote_nb.engine.batched`) sweeps
every basis vector through the recorded graph as one batch, in forward or
reverse mode; ``engine="loop"`` (:mod:`zygote_nb.engine.loop`) runs one
backward pass per output element instead, the textbook definition that the
batched engine is tested against.  Inside an enclosing differentiation the
loop runs, and the Jacobian is differentiable with respect to what ``f``
closes over.

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

from . import validation
from .engine import engine_for, require_engine
from .errors import explained_errors
from .params import Params
from .progress import Progress
from .pullback import record
from .user_warnings import warnings_at_operations


class WithJacobian(NamedTuple):
    """``(val, grad)``: the function's output and the tuple of Jacobians."""

    val: Any
    grad: tuple


def jacobian_shape(output_size: int, arg: Any) -> tuple:
    """``(m, n)`` for an array argument, ``(m,)`` for a scalar one (Zygote's convention)."""
    raw = getval(arg)
    return (output_size, raw.size) if hasattr(raw, "shape") and not isinstance(raw, numpy.generic) else (output_size,)


def withjacobian(f: Callable, *args: Any, progress: Progress = False, engine: str = "batched",
                 memory_budget: int | None = None) -> WithJacobian:
    """Return ``(val, grad)``: ``f(*args)`` and its :func:`jacobian` tuple.

    >>> import zygote_nb.numpy as np
    >>> withjacobian(np.cumsum, np.array([1.0, 2.0, 3.0]))
    WithJacobian(val=array([1., 3., 6.]), grad=(array([[1., 0., 0.],
           [1., 1., 0.],
           [1., 1., 1.]]),))

    ``withjacobian(loss, ps)`` with a :class:`~zygote_nb.params.Params` gives
    ``grad`` as :class:`~zygote_nb.grads.Grads` of Jacobians.
    """
    if len(args) == 1 and isinstance(args[0], Params):
        from .implicit import implicit_withjacobian

        return implicit_withjacobian(f, args[0], progress=progress, engine=engine, memory_budget=memory_budget)
    validation.require_callable("withjacobian", f)
    require_engine("withjacobian", engine)
    with explained_errors(), warnings_at_operations():
        recording = record(f, *args)
        validation.require_real_array("jacobian", recording.value)
        matrices = engine_for(engine, recording).jacobian_matrices(recording, len(args), memory_budget=memory_budget,
                                                                   progress=progress)
        return WithJacobian(recording.value, shaped(matrices, args, int(numpy.size(getval(recording.value)))))


def shaped(matrices: dict, args: tuple, size: int) -> tuple:
    """The engine's ``{position: matrix}`` as the Jacobian tuple: ``None`` for non-array arguments."""
    jacobians = []
    for position, arg in enumerate(args):
        if position not in matrices:
            jacobians.append(None)
            continue
        dtype = numpy.result_type(float, getval(arg))
        jacobians.append(matrices[position].astype(dtype, copy=False).reshape(jacobian_shape(size, arg)))
    return tuple(jacobians)


def jacobian(f: Callable, *args: Any, progress: Progress = False, engine: str = "batched",
             memory_budget: int | None = None) -> tuple:
    """The Jacobian of ``f(*args)`` with respect to each number or array argument.

    For an array ``a`` the matrix ``J[k, i] = ∂y[k]/∂a[i]`` over C-order
    ``ravel`` of ``y`` and ``a``; for a scalar argument the vector ``J[k]``; a
    scalar output gives one row.  Any other argument (a string, a tuple, ...)
    gives ``None``, even where :func:`gradient` would work.

    ``engine="batched"`` (the default) computes all rows in one sweep of the
    recorded graph (forward mode when the inputs are fewer than the outputs),
    in chunks that fit ``memory_budget`` bytes (default: half the available
    memory); a result that alone exceeds the budget raises
    :class:`~zygote_nb.engine.MemoryBudgetError` before anything is
    allocated.  ``engine="loop"`` runs one backward pass per output element.
    ``progress=True`` shows a progress bar (over chunks, or over rows);
    ``progress="auto"`` shows one when there are more than 64 rows.

    >>> import zygote_nb.numpy as np
    >>> jacobian(lambda a, x: a**2 * x, np.array([1.0, 2.0, 3.0]), 1.0)
    (array([[2., 0., 0.],
           [0., 4., 0.],
           [0., 0., 6.]]), array([1., 4., 9.]))
    >>> jacobian(lambda a, s: a ** len(s), np.array([1.0, 2.0, 3.0]), "str")[1] is None
    True
    """
    validation.require_callable("jacobian", f)
    return withjacobian(f, *args, progress=progress, engine=engine, memory_budget=memory_budget).grad
