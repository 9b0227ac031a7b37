"""Whole Jacobians, Hessians and Hessian diagonals from one recording and batched sweeps.

These are the batched counterparts of the row-by-row engine in
:mod:`zygote_nb.engine.loop`, with the same signatures; the operators pick
one with :func:`zygote_nb.engine.engine_for` (``engine="batched"`` or ``"loop"``).

>>> import numpy, autograd.numpy as anp
>>> from zygote_nb.pullback import record
>>> jacobian_matrices(record(lambda x: anp.cumsum(x), numpy.ones(3)), 1)
{0: array([[1., 0., 0.],
       [1., 1., 0.],
       [1., 1., 1.]])}
"""

from __future__ import annotations

from typing import Any, Callable

import math

import numpy
from autograd.tracer import getval, trace_stack

from .. import array_library
from .batch import Banded, identity
from .memory import FLOAT_BYTES, budget_or_default, require_fits, rows_per_chunk
from .passes import pull_back, push_forward
from ..progress import Progress, progress_counter
from ..pullback import Recording
from .rules import TANGENT_RULES


def can_batch(recording: Recording) -> bool:
    """Whether the batched engine applies: real values only, and no differentiation running around it.

    Inside an enclosing trace (a derivative of a derivative) the batch rules,
    plain NumPy, would drop the outer derivative, so the loop path runs
    there; complex values keep autograd's own conventions by taking the loop
    path too.
    """
    if trace_stack.top >= 0:
        return False
    if any(array_library.is_device_array(getval(leaf)) for leaf in recording.leaves):
        return False  # the batch rules build NumPy arrays; device arrays take the loop path
    values = [getval(leaf) for leaf in recording.leaves] + [node.value for node in recording.nodes()]
    return not any(_is_complex(value) for value in values)


def _is_complex(value: Any) -> bool:
    if isinstance(value, (tuple, list)):
        return any(_is_complex(part) for part in value)
    vector_space = getattr(value, "vs", None)
    if vector_space is not None:
        return bool(getattr(vector_space, "iscomplex", False))
    return numpy.iscomplexobj(value)


def _size_of(value: Any) -> int:
    """How many numbers a recorded value holds (tuples summed; a sparse value counts its whole space)."""
    if isinstance(value, numpy.ndarray):
        return value.size
    vector_space = getattr(value, "vs", None)
    if vector_space is not None:
        return int(vector_space.size)
    if isinstance(value, (tuple, list)):
        return sum(_size_of(part) for part in value)
    return int(numpy.size(value))


def _write_rows(matrix: numpy.ndarray | None, shape: tuple, batch: Any, start: int, stop: int,
                may_adopt: bool = True) -> numpy.ndarray | None:
    """The matrix of ``shape`` with rows ``start..stop-1`` set from the batch (one row per entry, flattened).

    ``matrix`` is ``None`` until a first write needs it (zeros then); a
    forward-mode batch fills columns, so pass the transposed matrix and shape.
    A banded batch writes only its few entries per row.  A batch that holds every row
    and that the sweep itself allocated (it owns its data, so it is no view of
    a user's array) becomes the matrix instead: for a large Jacobian, zeroing
    and copying an n×m result would cost as much as the sweep.
    """
    if batch is None:
        return matrix
    if (may_adopt and start == 0 and stop == shape[0] and isinstance(batch, numpy.ndarray)
            and batch.flags.owndata and batch.dtype == numpy.float64 and batch.size == math.prod(shape)):
        return batch.reshape(shape)
    if matrix is None:
        matrix = numpy.zeros(shape)
    if isinstance(batch, Banded):
        for rows, positions, values in batch.entries():
            matrix[start + rows, positions] = values
    else:
        matrix[start:stop] = numpy.reshape(batch, (stop - start, -1))
    return matrix


def _forward_is_safe(order: list, roots: list) -> bool:
    """Forward mode gives what reverse mode would only when every primitive is a plain differentiable one.

    A ``hook`` or ``showgrad`` acts in the backward pass; a graph holding one
    is swept in reverse mode, where its own VJP runs.
    """
    root_set = set(roots)
    return all(node.fun in TANGENT_RULES for node in order if node not in root_set)


def jacobian_matrices(recording: Recording, argument_count: int, mode: str = "auto",
                      memory_budget: int | None = None, progress: Progress = False,
                      operator_name: str = "jacobian") -> dict:
    """``{position: J}`` with ``J[k, i] = ∂ vec(y)[k] / ∂ vec(args[position])[i]``, for each number/array argument.

    ``mode`` is ``"forward"`` (one tangent per input element), ``"reverse"``
    (one cotangent per output element) or ``"auto"``: forward mode when the
    inputs are fewer than the outputs and every primitive has a batch rule.
    """
    budget = budget_or_default(memory_budget)
    output_shape = numpy.shape(recording.value)
    output_size = math.prod(output_shape)
    targets = recording.differentiated_arguments(argument_count)
    input_sizes = {position: int(numpy.size(getval(recording.leaves[leaf]))) for position, leaf in targets.items()}
    total_inputs = sum(input_sizes.values())
    require_fits(operator_name, (output_size, total_inputs), budget)
    ends = [node for _, node in recording.ends]
    if not ends or not targets:
        return {position: numpy.zeros((output_size, size)) for position, size in input_sizes.items()}
    filled: dict = dict.fromkeys(targets)
    (end,) = ends
    order = recording.nodes()
    room = max(budget - FLOAT_BYTES * output_size * total_inputs, 0)
    if mode == "auto":
        mode = "forward" if total_inputs < output_size and _forward_is_safe(order, recording.roots) else "reverse"
    description = f"{operator_name} rows"
    if mode == "forward":
        for position, leaf in targets.items():
            root = recording.roots[leaf]
            shape = numpy.shape(getval(recording.leaves[leaf]))

            def forward_sweep(start, stop, root=root, shape=shape, position=position):
                dense_nodes: list = []
                tangent = push_forward(order, {root: identity(shape, start, stop)}, [end], stop - start,
                                       dense_nodes).get(end)
                filled[position] = _write_rows(filled[position], (input_sizes[position], output_size), tangent,
                                               start, stop)
                return len(dense_nodes) <= 1

            _in_chunks(input_sizes[position], order, output_size, room, progress, description, forward_sweep)
        return {position: numpy.zeros((output_size, input_sizes[position])) if columns is None else columns.T
                for position, columns in filled.items()}

    def reverse_sweep(start, stop):
        dense_nodes: list = []
        with recording.trace.backward_pass(rows=stop - start):
            gradients = pull_back(order, {end: identity(output_shape, start, stop)}, recording.roots, stop - start,
                                  dense_nodes)
        for position, leaf in targets.items():
            # Two arguments' cotangents may be one array (``x + y``): adopt only a lone target's.
            filled[position] = _write_rows(filled[position], (output_size, input_sizes[position]), gradients[leaf],
                                           start, stop, len(targets) == 1)
        return len(dense_nodes) <= 1

    _in_chunks(output_size, order, total_inputs, room, progress, description, reverse_sweep)
    return {position: numpy.zeros((output_size, input_sizes[position])) if rows is None else rows
            for position, rows in filled.items()}


CACHE_BYTES = 4 * 2**20
MIN_CACHE_ROWS = 32


def _in_chunks(rows: int, order: list, result_size: int, room: int, progress: Progress, description: str,
               sweep: Callable[[int, int], bool]) -> None:
    """Call ``sweep(start, stop)`` over consecutive chunks of ``rows`` that fit in ``room`` bytes.

    Chunks are also kept small enough that one node's batch (rows × its
    largest value) stays near the processor's cache, which makes long chains
    of elementwise operations several times faster than one huge batch.  A
    sweep returns ``True`` when at most one of its batches was a dense array
    (the rest stayed banded): there is no chain to keep in cache,
    so the rest goes in as few chunks as memory allows.  Before splitting,
    one row is swept to find out; if it says so, all rows go in one chunk,
    which lets the Jacobian be that chunk's batch itself rather than a copy.
    """
    sizes = [_size_of(node.value) for node in order]
    memory_rows = rows_per_chunk(FLOAT_BYTES * (sum(sizes) + result_size), room)
    chunk = min(memory_rows, max(MIN_CACHE_ROWS, CACHE_BYTES // (FLOAT_BYTES * max(sizes, default=1))))
    if chunk < min(rows, memory_rows) and sweep(0, 1):
        chunk = memory_rows
    bar = progress_counter(progress, rows, description)
    try:
        start = 0
        while start < rows:
            stop = min(rows, start + chunk)
            if sweep(start, stop):
                chunk = memory_rows
            if bar is not None:
                bar.update(stop - start)
            start = stop
    finally:  # an error or a KeyboardInterrupt ends the bar too, where it stopped
        if bar is not None:
            bar.close()


def hessian_diagonal(recording: Recording, memory_budget: int | None = None,
                     progress: Progress = False) -> numpy.ndarray:
    """``h[i] = ∂ g[i] / ∂ x[i]`` for the recorded gradient ``g`` of the one argument ``x``, in ``x``'s shape.

    Forward mode, one tangent per element; when the tangents stay banded
    through every primitive (an elementwise function, a chain or a stencil),
    the sweep is a few vector operations per primitive and only each row's
    diagonal entry is kept.
    """
    x = getval(recording.leaves[0])
    shape = numpy.shape(x)
    diagonal = numpy.zeros(int(numpy.prod(shape)))
    ends = [node for _, node in recording.ends]
    if not ends:
        return diagonal.reshape(shape)
    (end,) = ends
    order = recording.nodes()

    def sweep(start, stop):
        dense_nodes: list = []
        tangent = push_forward(order, {recording.roots[0]: identity(shape, start, stop)}, [end], stop - start,
                               dense_nodes).get(end)
        if isinstance(tangent, Banded):
            diagonal[start:stop] = tangent.diagonal()
        elif tangent is not None:
            rows = numpy.reshape(tangent, (stop - start, -1))
            diagonal[start:stop] = rows[numpy.arange(stop - start), numpy.arange(start, stop)]
        return len(dense_nodes) <= 1

    _in_chunks(diagonal.size, order, diagonal.size, budget_or_default(memory_budget), progress,
               "diaghessian rows", sweep)
    return diagonal.reshape(shape)
