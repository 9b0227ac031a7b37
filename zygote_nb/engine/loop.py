"""The row-by-row engine: one backward pass per Jacobian row, one forward pass per column.

The textbook definitions, which the batched engine (:mod:`~zygote_nb.engine.batched`)
is tested against, with the same signatures, so that an operator picks one or
the other (:func:`zygote_nb.engine.engine_for`) and composes the rest.  It is
also the engine inside an enclosing differentiation (a derivative of a
Jacobian or Hessian): rows are then traced by the outer differentiation, and
they are stacked with traceable NumPy, never written into a preallocated NumPy
array, so the outer derivative flows through them.

>>> import numpy
>>> from zygote_nb.pullback import record, unrecorded
>>> square = lambda x, y: x ** 2 * y
>>> jacobian_matrices(record(square, numpy.array([1.0, 2.0]), 3.0), 2)
{0: array([[ 6.,  0.],
       [ 0., 12.]]), 1: array([[1.],
       [4.]])}
>>> jacobian_matrices(unrecorded(square, numpy.array([1.0, 2.0]), 3.0), 1, mode="forward")[0]
array([[ 6.,  0.],
       [ 0., 12.]])
"""

from __future__ import annotations

from typing import Any

import autograd.numpy as traced_numpy
import numpy
from autograd.tracer import getval, isbox

from .. import array_library, structure
from ..forward import jvp
from ..progress import Progress, progress_bar
from ..pullback import Recording


def basis(x: Any, index: int) -> Any:
    """The ``index``-th standard basis vector in ``x``'s shape (a NumPy scalar for a scalar ``x``)."""
    raw = getval(x)
    tangent = array_library.array_namespace(raw).zeros(numpy.size(raw))
    tangent[index] = 1.0
    # A NumPy scalar, not a Python float: rules index and reshape their tangents (x[None]).
    return tangent.reshape(numpy.shape(raw)) if array_library.is_array(raw) else numpy.float64(tangent[0])


def stacked(rows: list, size: int, like: Any) -> Any:
    """``rows`` (each ``size`` numbers, ``None`` for zeros) as a matrix, made like ``like``.

    With traceable NumPy when a row is traced by an enclosing differentiation,
    so that its derivative is kept; otherwise filled in place.
    """
    if any(isbox(row) for row in rows):
        return traced_numpy.stack([traced_numpy.zeros(size) if row is None else traced_numpy.ravel(row)
                                   for row in rows])
    present = [row for row in rows if row is not None]
    dtype = numpy.result_type(float, *[getattr(row, "dtype", type(row)) for row in present])
    matrix = array_library.array_namespace(getval(like)).zeros((len(rows), size), dtype=dtype)
    for k, row in enumerate(rows):
        if row is not None:
            matrix[k] = numpy.ravel(row) if array_library.is_array(row) else row
    return matrix


def jacobian_matrices(recording: Recording, argument_count: int, mode: str = "auto",
                      memory_budget: int | None = None, progress: Progress = False,
                      operator_name: str = "jacobian") -> dict:
    """``{position: J}`` as the batched engine gives it, one pass per row (or per column in ``"forward"`` mode).

    ``"reverse"`` and ``"auto"`` pull one basis cotangent per output element
    back through the recording; ``"forward"`` re-runs the recorded function
    once per input element with a basis tangent (so it accepts an
    :func:`~zygote_nb.pullback.unrecorded` call).  ``memory_budget`` is
    accepted for the common signature: one row at a time is what this engine
    keeps.
    """
    targets = recording.differentiated_arguments(argument_count)
    if mode == "forward":
        arguments = structure.per_argument(recording.trees, recording.leaves, structure.Tree.rebuild)
        matrices = {}
        for position in targets:
            def moved(point, position=position):
                return recording.function(*arguments[:position], point, *arguments[position + 1:])

            x = arguments[position]
            columns = [jvp(moved, x, basis(x, j))[1] for j in
                       progress_bar(range(numpy.size(getval(x))), progress, description=f"{operator_name} columns")]
            matrices[position] = stacked(columns, int(numpy.size(getval(columns[0]))) if columns else 0, x).T
        return matrices
    output = recording.value
    output_shape = numpy.shape(getval(output))
    output_size = int(numpy.prod(output_shape))
    description = f"{operator_name} rows"
    namespace = array_library.array_namespace(getval(output))
    rows = []
    for k in progress_bar(range(output_size), progress, description=description):
        seed = namespace.zeros(output_size)
        seed[k] = 1.0
        rows.append(recording.back(seed.reshape(output_shape) if output_shape else seed[0]))
    return {position: stacked([row[position] for row in rows], int(numpy.size(getval(recording.leaves[leaf]))),
                              output)
            for position, leaf in targets.items()}


def hessian_diagonal(recording: Recording, memory_budget: int | None = None, progress: Progress = False) -> Any:
    """``h[i] = ∂ g[i] / ∂ x[i]`` for the recorded gradient ``g`` of its one argument ``x``, in ``x``'s shape:
    one forward pass per element (an :func:`~zygote_nb.pullback.unrecorded` call will do)."""
    x = recording.leaves[0]
    size = int(numpy.size(getval(x)))
    entries = []
    for i in progress_bar(range(size), progress, description="diaghessian rows"):
        _, column = jvp(recording.function, x, basis(x, i))
        entries.append(traced_numpy.ravel(column)[i] if isbox(column) else numpy.ravel(column)[i])
    diagonal = stacked(entries, 1, x)
    return diagonal.reshape(numpy.shape(getval(x)))
