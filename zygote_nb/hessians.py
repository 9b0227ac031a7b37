"""Second derivatives: ``hessian`` (forward over reverse), ``hessian_reverse`` and ``diaghessian``.

Each is a short composition of :func:`~zygote_nb.gradients.gradient` with a
second differentiation: forward mode pushes basis tangents through the
gradient, or reverse mode takes the Jacobian of the gradient.  By default the
engine (:mod:`zygote_nb.engine`) records ``x ↦ gradient(f, x)`` once and sweeps
all basis vectors through that recording as one batch; ``engine="loop"``
pushes one tangent per column with :func:`~zygote_nb.forward.jvp` (or takes
the row-by-row :func:`~zygote_nb.jacobians.jacobian`), re-tracing each time.

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
from autograd.tracer import getval

from . import backend, checks, structure
from .engine import can_batch, hessian_diagonal, jacobian_matrices
from .errors import explained_errors
from .forward import jvp
from .jacobians import jacobian, require_engine
from .progress import Progress, progress_bar
from .pullback import pullback, record

SCALAR_HINT = "the Hessian needs a scalar function: use jacobian(f, ...) for an array output"


def _require_scalar_function(operator_name: str, f: Callable, args: tuple) -> None:
    value, _ = pullback(f, *args)
    checks.require_real_scalar(operator_name, value, SCALAR_HINT)


def _gradient_function(operator_name: str, f: Callable, args: tuple, position: int) -> Callable:
    """``point ↦ ∂f/∂args[position]`` at ``point`` (zeros where f ignores it), checking that ``f`` is a real scalar."""

    def gradient_at(point):
        moved = args[:position] + (point,) + args[position + 1:]
        value, back = pullback(f, *moved)
        checks.require_real_scalar(operator_name, value, SCALAR_HINT)
        gradient = back(1.0)[position]
        if gradient is None:  # f does not depend on this argument: its second derivatives are zero
            raw = getval(point)
            return backend.array_namespace(raw).zeros(numpy.shape(raw)) if backend.is_array(raw) else 0.0
        return gradient

    return gradient_at


def _batched_hessian(operator_name: str, f: Callable, x: Any, mode: str, memory_budget, progress: Progress):
    """The Hessian from the engine, or ``None`` where the engine does not apply (see ``can_batch``)."""
    recording = record(_gradient_function(operator_name, f, (x,), 0), x)
    if not can_batch(recording):
        return None
    size = numpy.size(getval(x))
    if not recording.ends:
        return numpy.zeros((size, size))
    return jacobian_matrices(recording, 1, mode=mode, memory_budget=memory_budget, progress=progress,
                             operator_name=operator_name)[0]


def _basis(x: Any, index: int) -> Any:
    raw = getval(x)
    tangent = backend.array_namespace(raw).zeros(numpy.size(raw))
    tangent[index] = 1.0
    return tangent.reshape(numpy.shape(raw)) if backend.is_array(raw) else float(tangent[0])


def _as_result(x: Any, H: Any) -> Any:
    """A matrix for an array argument, a float for a scalar one."""
    return H if backend.is_array(getval(x)) else float(H[0, 0])


def hessian(f: Callable, x: Any, progress: Progress = False, engine: str = "batched",
            memory_budget: int | None = None) -> Any:
    """The Hessian ``H[i, j] = ∂²f/∂x[i]∂x[j]`` over C-order ``x.ravel()``, forward over reverse.

    ``x`` is a number (the result is a number) or an array (a square matrix);
    ``f(x)`` must be a real number.  Equal to :func:`hessian_reverse`.
    ``engine``, ``memory_budget`` and ``progress`` are as for
    :func:`~zygote_nb.jacobians.jacobian`.

    >>> import zygote_nb.numpy as np
    >>> hessian(lambda x: np.sum(x**3), np.array([[1, 2], [3, 4]]))
    array([[ 6.,  0.,  0.,  0.],
           [ 0., 12.,  0.,  0.],
           [ 0.,  0., 18.,  0.],
           [ 0.,  0.,  0., 24.]])
    """
    def columns_by_forward_mode(x):
        gradient_at = _gradient_function("hessian", f, (x,), 0)
        size = numpy.size(getval(x))
        H = backend.array_namespace(x).zeros((size, size))
        for j in progress_bar(range(size), progress, description="hessian columns"):
            _, column = jvp(gradient_at, x, _basis(x, j))
            H[:, j] = numpy.ravel(column)
        return H

    return _second_derivative("hessian", f, x, "forward", columns_by_forward_mode, progress, engine, memory_budget)


def hessian_reverse(f: Callable, x: Any, progress: Progress = False, engine: str = "batched",
                    memory_budget: int | None = None) -> Any:
    """The Hessian computed reverse over reverse: the :func:`jacobian` of the gradient.

    >>> import zygote_nb.numpy as np
    >>> hessian_reverse(lambda x: np.sum(x**3), np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    def rows_by_reverse_mode(x):
        gradient_at = _gradient_function("hessian_reverse", f, (x,), 0)
        return numpy.atleast_2d(jacobian(gradient_at, x, progress=progress, engine="loop")[0])

    return _second_derivative("hessian_reverse", f, x, "reverse", rows_by_reverse_mode, progress, engine,
                              memory_budget)


def _second_derivative(operator_name: str, f: Callable, x: Any, mode: str, by_loop: Callable,
                       progress: Progress, engine: str, memory_budget: int | None) -> Any:
    """The Hessian from the engine sweeping ``mode`` where it applies, else from ``by_loop(x)``."""
    checks.require_callable(operator_name, f)
    require_engine(operator_name, engine)
    (x,) = backend.on_one_library([x])
    with explained_errors():
        H = _batched_hessian(operator_name, f, x, mode, memory_budget, progress) if engine == "batched" else None
        return _as_result(x, by_loop(x) if H is None else H)


def diaghessian(f: Callable, *args: Any, progress: Progress = False, engine: str = "batched",
                memory_budget: int | None = None) -> tuple:
    """The diagonal of the Hessian for each argument, in the argument's shape.

    ``h[i] = ∂²y/∂x[i]²`` for each number or array argument ``x``; other
    arguments give ``None``.  ``y = f(*args)`` must be a real number.

    >>> import zygote_nb.numpy as np
    >>> diaghessian(lambda x: np.sum(x**3), np.array([[1, 2], [3, 4]]))[0]
    array([[ 6., 12.],
           [18., 24.]])
    >>> [round(h, 2) for h in diaghessian(np.arctan2, 1, 2)]
    [-0.16, 0.16]
    """
    checks.require_callable("diaghessian", f)
    require_engine("diaghessian", engine)
    args = tuple(backend.on_one_library(list(args)))
    with explained_errors():
        diagonals = []
        for position, x in enumerate(args):
            if not structure.is_differentiable(x):
                diagonals.append(None)
                continue
            gradient_at = _gradient_function("diaghessian", f, args, position)
            if engine == "batched":
                recording = record(gradient_at, x)
                if can_batch(recording):
                    diagonal = hessian_diagonal(recording, memory_budget, progress)
                    diagonals.append(diagonal if backend.is_array(getval(x)) else float(diagonal))
                    continue
            diagonal = backend.array_namespace(x).zeros(numpy.size(x))
            for i in progress_bar(range(numpy.size(x)), progress, description="diaghessian"):
                _, column = jvp(gradient_at, x, _basis(x, i))
                diagonal[i] = numpy.ravel(column)[i]
            diagonals.append(diagonal.reshape(numpy.shape(x)) if backend.is_array(x) else float(diagonal[0]))
        if all(diagonal is None for diagonal in diagonals):  # nothing was differentiated: check f all the same
            _require_scalar_function("diaghessian", f, args)
        return tuple(diagonals)
