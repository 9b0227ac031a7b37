"""Second derivatives: ``hessian`` (forward over reverse), ``hessian_reverse`` and ``diaghessian``.

Each is a short composition of :func:`~zygote_nb.gradients.gradient` with a
second differentiation: forward mode pushes basis tangents through the
gradient, or reverse mode takes the Jacobian of the gradient.  Each records
``x ↦ gradient(f, x)`` once; the batched engine (:mod:`zygote_nb.engine.batched`)
sweeps all basis vectors through that recording as one batch, and
``engine="loop"`` (:mod:`zygote_nb.engine.loop`) pushes one tangent per column
with :func:`~zygote_nb.forward.jvp`, re-tracing each time (or pulls one
cotangent per row back).  Inside an enclosing differentiation the loop runs,
so each operator is differentiable with respect to what ``f`` closes over:

>>> from zygote_nb import gradient
>>> gradient(lambda a: hessian(lambda x: a * x**3, 2.0), 1.5)
(12.0,)

>>> import zygote_nb.numpy as np
>>> hessian(lambda x: x[0] * x[1], np.array([0.3, 0.7]))
array([[0., 1.],
       [1., 0.]])
>>> hessian(np.sin, np.pi / 2)
-1.0
"""

from __future__ import annotations

from typing import Any, Callable

import numpy
from autograd.tracer import getval, isbox

from . import array_library, structure, validation
from .engine import engine_for, require_engine
from .errors import explained_errors
from .progress import Progress
from .pullback import Recording, pullback, record, unrecorded
from .user_warnings import warnings_at_operations

SCALAR_HINT = "the Hessian needs a scalar function: use jacobian(f, ...) for an array output"


def _require_scalar_function(operator_name: str, f: Callable, args: tuple) -> None:
    value, _ = pullback(f, *args)
    validation.require_real_scalar(operator_name, value, SCALAR_HINT)


def gradient_function(operator_name: str, f: Callable, args: tuple, position: int) -> Callable:
    """``point ↦ ∂f/∂args[position]`` at ``point`` (zeros where f ignores it), checking that ``f`` is a real scalar."""

    def gradient_at(point):
        moved = args[:position] + (point,) + args[position + 1:]
        value, back = pullback(f, *moved)
        validation.require_real_scalar(operator_name, value, SCALAR_HINT)
        gradient = back(1.0)[position]
        if gradient is None:  # f does not depend on this argument: its second derivatives are zero
            raw = getval(point)
            return array_library.array_namespace(raw).zeros(numpy.shape(raw)) if array_library.is_array(raw) else 0.0
        return gradient

    return gradient_at


def _recorded(engine: str, mode: str, gradient_at: Callable, x: Any) -> Recording:
    """The gradient's recording, or only the call where the loop engine runs it again column by column."""
    return unrecorded(gradient_at, x) if engine == "loop" and mode == "forward" else record(gradient_at, x)


def _as_result(x: Any, H: Any) -> Any:
    """A matrix for an array argument, a number for a scalar one (still traced inside an enclosing derivative)."""
    if array_library.is_array(getval(x)):
        return H
    return H[0, 0] if isbox(H) else float(H[0, 0])


def hessian(f: Callable, x: Any, progress: Progress = False, engine: str = "batched",
            memory_budget: int | None = None) -> Any:
    """The Hessian ``H[i, j] = ∂²f/∂x[i]∂x[j]`` over C-order ``x.ravel()``, forward over reverse.

    ``x`` is a number (the result is a number) or an array (a square matrix);
    ``f(x)`` must be a real number.  Equal to :func:`hessian_reverse`.
    ``engine``, ``memory_budget`` and ``progress`` are as for
    :func:`~zygote_nb.jacobians.jacobian`.  For parameters held in a
    :class:`~zygote_nb.params.Params`, pass the array itself instead.

    >>> import zygote_nb.numpy as np
    >>> hessian(lambda x: np.sum(x**3), np.array([[1, 2], [3, 4]]))
    array([[ 6.,  0.,  0.,  0.],
           [ 0., 12.,  0.,  0.],
           [ 0.,  0., 18.,  0.],
           [ 0.,  0.,  0., 24.]])
    """
    return _second_derivative("hessian", f, x, "forward", progress, engine, memory_budget)


def hessian_reverse(f: Callable, x: Any, progress: Progress = False, engine: str = "batched",
                    memory_budget: int | None = None) -> Any:
    """The Hessian computed reverse over reverse: the :func:`jacobian` of the gradient.

    >>> import zygote_nb.numpy as np
    >>> hessian_reverse(lambda x: np.sum(x**3), np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return _second_derivative("hessian_reverse", f, x, "reverse", progress, engine, memory_budget)


def _second_derivative(operator_name: str, f: Callable, x: Any, mode: str, progress: Progress, engine: str,
                       memory_budget: int | None) -> Any:
    """The Jacobian of ``x ↦ ∇f(x)``, swept in ``mode`` by the engine that applies."""
    validation.require_callable(operator_name, f)
    validation.refuse_params(operator_name, (x,))
    require_engine(operator_name, engine)
    (x,) = array_library.on_one_library([x])
    with explained_errors(), warnings_at_operations():
        recording = _recorded(engine, mode, gradient_function(operator_name, f, (x,), 0), x)
        matrices = engine_for(engine, recording).jacobian_matrices(
            recording, 1, mode=mode, memory_budget=memory_budget, progress=progress, operator_name=operator_name)
        return _as_result(x, matrices[0])


def diaghessian(f: Callable, *args: Any, progress: Progress = False, engine: str = "batched",
                memory_budget: int | None = None) -> tuple:
    """The diagonal of the Hessian for each argument, in the argument's shape.

    ``h[i] = ∂²y/∂x[i]²`` for each number or array argument ``x``; other
    arguments give ``None``.  ``y = f(*args)`` must be a real number.  Like
    :func:`hessian`, it takes arrays, not a :class:`~zygote_nb.params.Params`.

    >>> import zygote_nb.numpy as np
    >>> diaghessian(lambda x: np.sum(x**3), np.array([[1, 2], [3, 4]]))[0]
    array([[ 6., 12.],
           [18., 24.]])
    >>> [round(h, 2) for h in diaghessian(np.arctan2, 1, 2)]
    [-0.16, 0.16]
    """
    validation.require_callable("diaghessian", f)
    validation.refuse_params("diaghessian", args)
    require_engine("diaghessian", engine)
    args = tuple(array_library.on_one_library(list(args)))
    with explained_errors(), warnings_at_operations():
        diagonals = []
        for position, x in enumerate(args):
            if not structure.is_differentiable(x):
                diagonals.append(None)
                continue
            recording = _recorded(engine, "forward", gradient_function("diaghessian", f, args, position), x)
            diagonal = engine_for(engine, recording).hessian_diagonal(recording, memory_budget, progress)
            if not array_library.is_array(getval(x)):
                diagonal = diagonal.reshape(()) if isbox(diagonal) else float(diagonal)
            diagonals.append(diagonal)
        if all(diagonal is None for diagonal in diagonals):  # nothing was differentiated: check f all the same
            _require_scalar_function("diaghessian", f, args)
        return tuple(diagonals)
