"""Whole Jacobians, Hessians and Hessian diagonals from one recording and batched sweeps.

These are the batched counterparts of the row-by-row loops in
:mod:`zygote_nb.jacobians` and :mod:`zygote_nb.hessians`; those modules pick
between the two (``engine="batched"`` or ``"loop"``).

>>> import numpy, autograd.numpy as anp
>>> from zygote_nb.pullback import record
>>> jacobian_matrices(record(lambda x: anp.cumsum(x), numpy.ones(3)), 1)
{0: array([[1., 0., 0.],
       [1., 1., 0.],
       [1., 1., 1.]])}
"""

from __future__ import annotations

from typing import Any, Callable

import numpy
from autograd.tracer import getval, trace_stack

from .. import backend, structure
from .batch import ScaledIdentity, identity
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
    if any(backend.is_device_array(getval(leaf)) for leaf in recording.leaves):
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


def _targets(recording: Recording, argument_count: int) -> dict:
    """``{position: leaf index}`` for the arguments that get a Jacobian (numbers and arrays)."""
    targets = {}
    for position in range(argument_count):
        leaf = recording.argument_leaf(position)
        if leaf is not None and structure.is_differentiable(recording.leaves[leaf]):
            targets[position] = leaf
    return targets


def _bytes_per_row(order: list, *extra_sizes: int) -> int:
    """A bound on the memory one row of a batch needs: a batch entry for every node and the ends."""
    return FLOAT_BYTES * (sum(_size_of(node.value) for node in order) + sum(extra_sizes))


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


def _write_rows(matrix: numpy.ndarray, batch: Any, start: int, stop: int) -> None:
    """Rows ``start..stop-1`` of ``matrix`` (one row per batch entry, flattened).

    A forward-mode batch fills columns: pass the transposed matrix.  A scaled
    identity only ever reaches an output of the root's own shape, so its
    entries sit on the diagonal either way.
    """
    if isinstance(batch, ScaledIdentity):
        matrix[numpy.arange(start, stop), numpy.arange(start, stop)] = batch.diagonal()
    elif batch is not None:
        matrix[start:stop] = numpy.reshape(batch, (stop - start, -1))


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
    output_size = int(numpy.prod(output_shape))
    targets = _targets(recording, argument_count)
    input_sizes = {position: int(numpy.size(getval(recording.leaves[leaf]))) for position, leaf in targets.items()}
    total_inputs = sum(input_sizes.values())
    require_fits(operator_name, (output_size, total_inputs), budget)
    jacobians = {position: numpy.zeros((output_size, size)) for position, size in input_sizes.items()}
    ends = [node for _, node in recording.ends]
    if not ends or not targets:
        return jacobians
    (end,) = ends
    order = recording.nodes()
    room = max(budget - FLOAT_BYTES * output_size * total_inputs, 0)
    if mode == "auto":
        mode = "forward" if total_inputs < output_size and _forward_is_safe(order, recording.roots) else "reverse"
    description = f"{operator_name} chunks"
    if mode == "forward":
        for position, leaf in targets.items():
            root = recording.roots[leaf]
            shape = numpy.shape(getval(recording.leaves[leaf]))

            def forward_sweep(start, stop, root=root, shape=shape, matrix=jacobians[position].T):
                tangent = push_forward(order, {root: identity(shape, start, stop)}, [end], stop - start).get(end)
                _write_rows(matrix, tangent, start, stop)
                return isinstance(tangent, ScaledIdentity)

            _in_chunks(input_sizes[position], order, output_size, room, progress, description, forward_sweep)
        return jacobians

    def reverse_sweep(start, stop):
        with recording.trace.backward_pass():
            gradients = pull_back(order, {end: identity(output_shape, start, stop)}, recording.roots, stop - start)
        for position, leaf in targets.items():
            _write_rows(jacobians[position], gradients[leaf], start, stop)
        return all(isinstance(gradients[leaf], ScaledIdentity) for leaf in targets.values())

    _in_chunks(output_size, order, total_inputs, room, progress, description, reverse_sweep)
    return jacobians


CACHE_BYTES = 4 * 2**20
MIN_CACHE_ROWS = 32


def _in_chunks(rows: int, order: list, result_size: int, room: int, progress: Progress, description: str,
               sweep: Callable[[int, int], bool]) -> None:
    """Call ``sweep(start, stop)`` over consecutive chunks of ``rows`` that fit in ``room`` bytes.

    Chunks are also kept small enough that one node's batch (rows × its
    largest value) stays near the processor's cache, which makes long chains
    of elementwise operations several times faster than one huge batch.  A
    sweep that returns ``True`` stayed a scaled identity, whose cost does not
    shrink with the chunk: the rest then goes in as few chunks as memory allows.
    """
    bytes_per_row = _bytes_per_row(order, result_size)
    memory_rows = rows_per_chunk(bytes_per_row, room)
    largest = max((_size_of(node.value) for node in order), default=1)
    chunk = min(memory_rows, max(MIN_CACHE_ROWS, CACHE_BYTES // (FLOAT_BYTES * max(largest, 1))))
    bar = progress_counter(progress, rows, description)
    start = 0
    while start < rows:
        stop = min(rows, start + chunk)
        if sweep(start, stop):
            chunk = memory_rows
        if bar is not None:
            bar.update(stop - start)
        start = stop
    if bar is not None:
        bar.close()


def hessian_diagonal(recording: Recording, memory_budget: int | None = None, progress: Progress = False) -> numpy.ndarray:
    """``h[i] = ∂ g[i] / ∂ x[i]`` for the recorded gradient ``g`` of the one argument ``x``, in ``x``'s shape.

    Forward mode, one tangent per element; when the tangents stay a scaled
    identity through every primitive (an elementwise function), one sweep of
    vectors gives the whole diagonal.
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
        tangent = push_forward(order, {recording.roots[0]: identity(shape, start, stop)}, [end], stop - start).get(end)
        if isinstance(tangent, ScaledIdentity):
            diagonal[start:stop] = tangent.diagonal()
        elif tangent is not None:
            rows = numpy.reshape(tangent, (stop - start, -1))
            diagonal[start:stop] = rows[numpy.arange(stop - start), numpy.arange(start, stop)]
        return isinstance(tangent, ScaledIdentity)

    _in_chunks(diagonal.size, order, diagonal.size, budget_or_default(memory_budget), progress,
               "diaghessian chunks", sweep)
    return diagonal.reshape(shape)
