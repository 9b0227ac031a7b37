"""Derivative rules that act on a whole batch of tangents or cotangents at once.

Each rule reads one :class:`~zygote_nb.pullback.RecordedNode` (the primitive
``fun``, its ``args`` and ``kwargs``, its output ``value``) and maps a batch
(see :mod:`zygote_nb.engine.batch`) through the primitive's derivative:

- ``COTANGENT_RULES[fun](node, argnum, cotangent)`` gives the cotangent batch
  for argument ``argnum`` from the batch for the output (reverse mode);
- ``TANGENT_RULES[fun](node, tangents)`` gives the tangent batch of the output
  from ``{argnum: tangent batch}`` of the traced arguments (forward mode).

A rule returns ``NotImplemented`` for a call it does not cover (an unusual
keyword, an axis layout it cannot batch); the passes then fall back to the
node's own rule, one row at a time.  A primitive with no entry here always
falls back that way.

Most rules need one small idea each: an elementwise operation multiplies each
row by the same local derivative (its *factor*); a linear operation (a
reshape, a sum, a slice, a matrix product) is the same operation with every
axis shifted by one past the batch axis.

Three cotangent rows pulled back through ``sin`` at ``x = (0, π)`` at once:

>>> import numpy, autograd.numpy as anp
>>> from zygote_nb.pullback import record
>>> (_, node), = record(anp.sin, numpy.array([0.0, numpy.pi])).ends
>>> COTANGENT_RULES[node.fun](node, 0, numpy.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]))
array([[ 1.,  0.],
       [ 0., -1.],
       [ 2., -2.]])
"""

from __future__ import annotations

import string
from typing import Any, Callable

import autograd.numpy as anp
import autograd.numpy.linalg as alinalg
import numpy
from autograd.core import VSpace, sparse_add
from autograd.numpy.numpy_vjps import (dot_adjoint_0, dot_adjoint_1, tensordot_adjoint_0, tensordot_adjoint_1,
                                        untake)
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..autograd_patches import _original_where, func, getitem_primitive, numpy_wrapper, parse_einsum_input

from .batch import Banded, add, align, broadcast_to, dense, unbroadcast

COTANGENT_RULES: dict[Any, Callable] = {}
TANGENT_RULES: dict[Any, Callable] = {}


def _register(funs, cotangent_rule: Callable, tangent_rule: Callable) -> None:
    for fun in funs:
        COTANGENT_RULES[fun] = cotangent_rule
        TANGENT_RULES[fun] = tangent_rule


def value_shape(value: Any) -> tuple:
    """The shape of a recorded value; a sparse cotangent (autograd's ``untake``) has its space's shape."""
    vector_space = getattr(value, "vs", None)
    return vector_space.shape if vector_space is not None else numpy.shape(value)


# ----- elementwise: every row times the same local derivative -----

def _elementwise(partials: dict[int, Callable]) -> tuple[Callable, Callable]:
    """Rules from ``partials[argnum](ans, *args)``: ∂ output / ∂ argument, broadcastable to the output.

    A partial derivative of ``None`` is one: the batch passes through unscaled.
    """

    def cotangent(node, argnum, batch):
        factor = partials[argnum](node.value, *node.args)
        shape = numpy.shape(node.args[argnum])
        if isinstance(batch, Banded) and batch.shape == shape:
            return batch if factor is None else batch.scaled(factor)
        return unbroadcast(_times(dense(batch), factor), shape)

    def tangent(node, tangents):
        output_shape = numpy.shape(node.value)
        total = None
        for argnum, batch in tangents.items():
            factor = partials[argnum](node.value, *node.args)
            if isinstance(batch, Banded) and batch.shape == output_shape:
                term = batch if factor is None else batch.scaled(factor)
            else:
                term = broadcast_to(_times(align(dense(batch), len(output_shape)), factor), output_shape)
            total = add(total, term)
        return total

    return cotangent, tangent


def _times(batch, factor):
    return batch if factor is None else batch * factor


def _replace_zero(x, replacement):
    return numpy.where(x, x, replacement)


def _balanced_eq(x, z, y):
    # autograd's convention: a tie between x and y shares the derivative equally.
    return (x == z) / (1.0 + (x == y))


_UNARY = {
    anp.negative: lambda ans, x: -1.0,
    anp.abs: lambda ans, x: _replace_zero(x, 0.0) / _replace_zero(ans, 1.0),
    anp.absolute: lambda ans, x: _replace_zero(x, 0.0) / _replace_zero(ans, 1.0),
    anp.fabs: lambda ans, x: numpy.sign(x),
    anp.reciprocal: lambda ans, x: -1.0 / x**2,
    anp.exp: lambda ans, x: ans,
    anp.exp2: lambda ans, x: ans * numpy.log(2),
    anp.expm1: lambda ans, x: ans + 1,
    anp.log: lambda ans, x: 1.0 / x,
    anp.log2: lambda ans, x: 1.0 / x / numpy.log(2),
    anp.log10: lambda ans, x: 1.0 / x / numpy.log(10),
    anp.log1p: lambda ans, x: 1.0 / (x + 1),
    anp.sin: lambda ans, x: numpy.cos(x),
    anp.cos: lambda ans, x: -numpy.sin(x),
    anp.tan: lambda ans, x: 1.0 / numpy.cos(x) ** 2,
    anp.arcsin: lambda ans, x: 1.0 / numpy.sqrt(1 - x**2),
    anp.arccos: lambda ans, x: -1.0 / numpy.sqrt(1 - x**2),
    anp.arctan: lambda ans, x: 1.0 / (1 + x**2),
    anp.sinh: lambda ans, x: numpy.cosh(x),
    anp.cosh: lambda ans, x: numpy.sinh(x),
    anp.tanh: lambda ans, x: 1.0 / numpy.cosh(x) ** 2,
    anp.arcsinh: lambda ans, x: 1.0 / numpy.sqrt(x**2 + 1),
    anp.arccosh: lambda ans, x: 1.0 / numpy.sqrt(x**2 - 1),
    anp.arctanh: lambda ans, x: 1.0 / (1 - x**2),
    anp.rad2deg: lambda ans, x: 180.0 / numpy.pi,
    anp.degrees: lambda ans, x: 180.0 / numpy.pi,
    anp.deg2rad: lambda ans, x: numpy.pi / 180.0,
    anp.radians: lambda ans, x: numpy.pi / 180.0,
    anp.square: lambda ans, x: 2 * x,
    anp.sqrt: lambda ans, x: 0.5 * x**-0.5,
}

_BINARY = {
    anp.add: (lambda ans, x, y: None, lambda ans, x, y: None),
    anp.subtract: (lambda ans, x, y: None, lambda ans, x, y: -1.0),
    anp.multiply: (lambda ans, x, y: y, lambda ans, x, y: x),
    anp.divide: (lambda ans, x, y: 1.0 / y, lambda ans, x, y: -x / y**2),
    anp.true_divide: (lambda ans, x, y: 1.0 / y, lambda ans, x, y: -x / y**2),
    anp.power: (lambda ans, x, y: y * x ** numpy.where(y, y - 1, 1.0),
                lambda ans, x, y: numpy.log(_replace_zero(x, 1.0)) * ans),
    anp.maximum: (lambda ans, x, y: _balanced_eq(x, ans, y), lambda ans, x, y: _balanced_eq(y, ans, x)),
    anp.minimum: (lambda ans, x, y: _balanced_eq(x, ans, y), lambda ans, x, y: _balanced_eq(y, ans, x)),
    anp.fmax: (lambda ans, x, y: _balanced_eq(x, ans, y), lambda ans, x, y: _balanced_eq(y, ans, x)),
    anp.fmin: (lambda ans, x, y: _balanced_eq(x, ans, y), lambda ans, x, y: _balanced_eq(y, ans, x)),
    anp.logaddexp: (lambda ans, x, y: numpy.exp(x - ans), lambda ans, x, y: numpy.exp(y - ans)),
    anp.logaddexp2: (lambda ans, x, y: 2 ** (x - ans), lambda ans, x, y: 2 ** (y - ans)),
    anp.arctan2: (lambda ans, x, y: y / (x**2 + y**2), lambda ans, x, y: -x / (x**2 + y**2)),
    anp.hypot: (lambda ans, x, y: x / ans, lambda ans, x, y: y / ans),
    anp.mod: (lambda ans, x, y: None, lambda ans, x, y: -numpy.floor(x / y)),
    anp.remainder: (lambda ans, x, y: None, lambda ans, x, y: -numpy.floor(x / y)),
}

for _fun, _partial in _UNARY.items():
    _register([_fun], *_elementwise({0: _partial}))
for _fun, (_partial_x, _partial_y) in _BINARY.items():
    _register([_fun], *_elementwise({0: _partial_x, 1: _partial_y}))
_register([anp.clip], *_elementwise({0: lambda ans, x, a_min, a_max: (ans != a_min) & (ans != a_max)}))


def _where_cotangent(node, argnum, batch):
    condition = node.args[0]
    if argnum == 0:
        return None  # the condition only selects
    picked = (numpy.where(condition, dense(batch), 0.0) if argnum == 1
              else numpy.where(condition, 0.0, dense(batch)))
    return unbroadcast(picked, numpy.shape(node.args[argnum]))


def _where_tangent(node, tangents):
    condition, output_shape = node.args[0], numpy.shape(node.value)
    total = None
    for argnum, batch in tangents.items():
        if argnum == 0:
            continue
        aligned = align(dense(batch), len(output_shape))
        picked = numpy.where(condition, aligned, 0.0) if argnum == 1 else numpy.where(condition, 0.0, aligned)
        total = add(total, broadcast_to(picked, output_shape))
    return total


# autograd.numpy.where is a wrapper that keeps Python scalars; the recorded primitive is the original.
_register([_original_where], _where_cotangent, _where_tangent)


# ----- reductions: sum, mean, prod, max, min along axes -----

def _reduction_axes(node) -> tuple | None:
    """``(axes, keepdims)`` of a reduction call, or ``None`` for a call form not batched here."""
    args, kwargs = node.args, node.kwargs
    if len(args) > 2 or set(kwargs) - {"axis", "keepdims", "dtype"}:
        return None
    axis = args[1] if len(args) > 1 else kwargs.get("axis")
    ndim = numpy.ndim(args[0])
    axes = tuple(range(ndim)) if axis is None else normalize_axis_tuple(axis, ndim)
    return axes, bool(kwargs.get("keepdims", False))


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if axis in axes else size for axis, size in enumerate(shape))


def _reduction(factor: Callable | None) -> tuple[Callable, Callable]:
    """Rules for ``y = Σ_axes factor · x``: ``factor(node, axes)`` is ∂y/∂x (``None`` for a plain sum)."""

    def cotangent(node, argnum, batch):
        layout = _reduction_axes(node)
        if layout is None:
            return NotImplemented
        axes, _ = layout
        shape = numpy.shape(node.args[0])
        batch = dense(batch)
        spread = batch.reshape(batch.shape[:1] + _kept_shape(shape, axes))
        if factor is None:
            return numpy.broadcast_to(spread, batch.shape[:1] + shape)
        return broadcast_to(spread * factor(node, axes), shape)

    def tangent(node, tangents):
        layout = _reduction_axes(node)
        if layout is None:
            return NotImplemented
        axes, keepdims = layout
        batch = tangents[0]
        weight = 1.0 if factor is None else factor(node, axes)
        if isinstance(batch, Banded) and len(axes) == len(batch.shape):
            # Summing a banded row adds its few entries (each times the weight at its position).
            sums = (batch if factor is None else batch.scaled(weight)).row_sums()
            return sums.reshape(sums.shape + (1,) * len(batch.shape) if keepdims else sums.shape)
        batch = dense(batch)
        if factor is not None:
            batch = batch * weight
        return batch.sum(axis=tuple(axis + 1 for axis in axes), keepdims=keepdims)

    return cotangent, tangent


def _mean_factor(node, axes):
    shape = numpy.shape(node.args[0])
    return 1.0 / numpy.prod([shape[axis] for axis in axes])


def _prod_factor(node, axes):
    x = node.args[0]
    return numpy.reshape(node.value, _kept_shape(numpy.shape(x), axes)) / x


def _chooser_factor(node, axes):
    # max and min: the derivative is shared equally among the places that attain the extreme.
    x = node.args[0]
    locations = x == numpy.reshape(node.value, _kept_shape(numpy.shape(x), axes))
    return locations / numpy.sum(locations, axis=axes, keepdims=True)


_register([anp.sum], *_reduction(None))
_register([numpy_wrapper._primitive_mean], *_reduction(_mean_factor))
_register([anp.prod], *_reduction(_prod_factor))
_register([anp.max, anp.min, anp.amax, anp.amin], *_reduction(_chooser_factor))


# ----- shape operations: the same operation on the axes after the batch axis -----

def _reshaping(accepts: Callable) -> tuple[Callable, Callable]:
    """Rules for operations that only change the shape (the C-order elements stay in place)."""

    def to_shape(batch, shape):
        if isinstance(batch, Banded):
            return batch.reshaped(shape)
        return batch.reshape(batch.shape[:1] + tuple(shape))

    def cotangent(node, argnum, batch):
        return to_shape(batch, numpy.shape(node.args[argnum])) if accepts(node) else NotImplemented

    def tangent(node, tangents):
        (batch,) = tangents.values()
        return to_shape(batch, numpy.shape(node.value)) if accepts(node) else NotImplemented

    return cotangent, tangent


def _c_order(node) -> bool:
    order_position = 2 if node.fun is anp.reshape else 1
    order = node.args[order_position] if len(node.args) > order_position else node.kwargs.get("order")
    return order in (None, "C") and set(node.kwargs) <= {"order", "newshape", "shape"}


_register([anp.reshape, anp.ravel], *_reshaping(_c_order))
_register([anp.expand_dims, anp.squeeze, anp.atleast_1d, anp.atleast_2d, anp.atleast_3d],
          *_reshaping(lambda node: len(node.argnums) == 1))
_register([numpy_wrapper._array_from_scalar_or_array], *_reshaping(lambda node: True))


def _permutation(node) -> tuple:
    """The axis permutation of a ``transpose``, ``swapaxes`` or ``moveaxis`` call."""
    ndim = numpy.ndim(node.args[0])
    if node.fun is anp.transpose:
        axes = node.args[1] if len(node.args) > 1 else node.kwargs.get("axes")
        return tuple(reversed(range(ndim))) if axes is None else normalize_axis_tuple(axes, ndim)
    if node.fun is anp.swapaxes:
        first, second = (normalize_axis_index(axis, ndim) for axis in node.args[1:3])
        order = list(range(ndim))
        order[first], order[second] = second, first
        return tuple(order)
    source, destination = (normalize_axis_tuple(axes, ndim) for axes in node.args[1:3])
    order = [axis for axis in range(ndim) if axis not in source]
    for place, axis in sorted(zip(destination, source)):
        order.insert(place, axis)
    return tuple(order)


def _permute_cotangent(node, argnum, batch):
    inverse = numpy.argsort(_permutation(node))
    return dense(batch).transpose((0,) + tuple(int(axis) + 1 for axis in inverse))


def _permute_tangent(node, tangents):
    return dense(tangents[0]).transpose((0,) + tuple(axis + 1 for axis in _permutation(node)))


_register([anp.transpose, anp.swapaxes, anp.moveaxis], _permute_cotangent, _permute_tangent)


def _broadcast_to_cotangent(node, argnum, batch):
    return unbroadcast(dense(batch), numpy.shape(node.args[0]))


def _broadcast_to_tangent(node, tangents):
    return broadcast_to(dense(tangents[0]), numpy.shape(node.value))


_register([anp.broadcast_to], _broadcast_to_cotangent, _broadcast_to_tangent)


def _along_axis(node, operation: Callable, batch) -> Any:
    """``operation(batch, axis)`` for an operation along ``node``'s ``axis`` (``None``: the flattened array)."""
    axis = node.args[2] if node.fun is anp.roll and len(node.args) > 2 else (
        node.args[1] if node.fun is anp.cumsum and len(node.args) > 1 else node.kwargs.get("axis"))
    batch = dense(batch)
    if axis is None:
        shape = batch.shape
        return operation(batch.reshape(shape[0], -1), 1).reshape(shape[:1] + value_shape(node.value))
    if not isinstance(axis, (int, numpy.integer)):
        return NotImplemented
    return operation(batch, normalize_axis_index(axis, batch.ndim - 1) + 1)


def _roll_shift(node):
    return node.args[1] if len(node.args) > 1 else node.kwargs["shift"]


def _reverse_cumsum(batch, axis):
    return numpy.flip(numpy.cumsum(numpy.flip(batch, axis), axis), axis)


_register([anp.roll],
          lambda node, argnum, batch: _along_axis(
              node, lambda rows, axis: numpy.roll(rows, -numpy.asarray(_roll_shift(node)), axis), batch),
          lambda node, tangents: _along_axis(
              node, lambda rows, axis: numpy.roll(rows, _roll_shift(node), axis), tangents[0]))


def _cumsum_cotangent(node, argnum, batch):
    if set(node.kwargs) - {"axis"}:
        return NotImplemented
    summed = _along_axis(node, _reverse_cumsum, batch)
    return summed if summed is NotImplemented else summed.reshape((-1,) + numpy.shape(node.args[0]))


def _cumsum_tangent(node, tangents):
    if set(node.kwargs) - {"axis"}:
        return NotImplemented
    return _along_axis(node, lambda rows, axis: numpy.cumsum(rows, axis), tangents[0])


_register([anp.cumsum], _cumsum_cotangent, _cumsum_tangent)


def _triangle(node, batch):
    if numpy.ndim(node.args[0]) < 2:
        return NotImplemented
    offset = node.args[1] if len(node.args) > 1 else node.kwargs.get("k", 0)
    keep = numpy.tril if node.fun is anp.tril else numpy.triu
    return keep(dense(batch), offset)


_register([anp.tril, anp.triu], lambda node, argnum, batch: _triangle(node, batch),
          lambda node, tangents: _triangle(node, tangents[0]))


# ----- indexing: x[idx], and autograd's untake (its adjoint, met in second derivatives) -----

def _batched_index(index: Any, shape: tuple, result_shape: tuple) -> tuple | None:
    """``index`` with a full slice in front for the batch axis, or ``None`` if the batch axis would move.

    NumPy moves the axes of separated advanced indices to the front; a probe
    with a batch of two shows whether that happens.
    """
    if isinstance(index, list) and (not index or not isinstance(index[0], slice)):
        index = numpy.array(index, dtype="int64")
    batched = (slice(None),) + (index if isinstance(index, tuple) else (index,))
    probe = numpy.broadcast_to(numpy.zeros(()), (2,) + tuple(shape))[batched]
    return batched if probe.shape == (2,) + tuple(result_shape) else None


def _is_basic(index: tuple) -> bool:
    return all(isinstance(part, (slice, int, numpy.integer)) or part is None or part is Ellipsis
               for part in index)


def _scatter(batch: numpy.ndarray, index: tuple, shape: tuple) -> numpy.ndarray:
    """The adjoint of ``batch_of_x[index]``: rows of zeros of ``shape`` with ``batch`` added at ``index``."""
    result = numpy.zeros(batch.shape[:1] + tuple(shape), dtype=batch.dtype)
    if _is_basic(index):
        result[index] = batch
    else:
        numpy.add.at(result, index, batch)
    return result


def _contiguous_slice(index: Any, shape: tuple) -> tuple[int, int] | None:
    """``(begin, end)`` of a step-one slice of a 1-D array, the index a banded batch can follow."""
    if len(shape) != 1 or not isinstance(index, slice):
        return None
    begin, end, step = index.indices(shape[0])
    return (begin, max(begin, end)) if step == 1 else None


def _getitem_cotangent(node, argnum, batch):
    shape = numpy.shape(node.args[0])
    bounds = _contiguous_slice(node.args[1], shape)
    if isinstance(batch, Banded) and bounds is not None:
        return batch.embedded(bounds[0], shape[0])
    index = _batched_index(node.args[1], shape, numpy.shape(node.value))
    return NotImplemented if index is None else _scatter(dense(batch), index, shape)


def _getitem_tangent(node, tangents):
    bounds = _contiguous_slice(node.args[1], numpy.shape(node.args[0]))
    if isinstance(tangents[0], Banded) and bounds is not None:
        return tangents[0].sliced(*bounds)
    index = _batched_index(node.args[1], numpy.shape(node.args[0]), numpy.shape(node.value))
    return NotImplemented if index is None else dense(tangents[0])[index]


_register([getitem_primitive], _getitem_cotangent, _getitem_tangent)


def _untake_cotangent(node, argnum, batch):
    x, index, space = node.args
    bounds = _contiguous_slice(index, space.shape)
    if isinstance(batch, Banded) and bounds is not None:
        return batch.sliced(*bounds)
    batched = _batched_index(index, space.shape, numpy.shape(x))
    return NotImplemented if batched is None else dense(batch)[batched]


def _untake_tangent(node, tangents):
    x, index, space = node.args
    bounds = _contiguous_slice(index, space.shape)
    if isinstance(tangents[0], Banded) and bounds is not None:
        return tangents[0].embedded(bounds[0], space.shape[0])
    batched = _batched_index(index, space.shape, numpy.shape(x))
    return NotImplemented if batched is None else _scatter(dense(tangents[0]), batched, space.shape)


_register([untake], _untake_cotangent, _untake_tangent)


def _sum_cotangent(node, argnum, batch):
    return batch


def _sum_tangent(node, tangents):
    total = None
    for batch in tangents.values():
        total = add(total, batch)
    return total


# autograd's own accumulation of gradients, recorded when a backward pass is itself traced.
_register([sparse_add, func(VSpace.add), func(VSpace.mut_add)], _sum_cotangent, _sum_tangent)


# ----- joining arrays: concatenate (and so stack), np.array([...]) -----

def _concatenate_cotangent(node, argnum, batch):
    axis = normalize_axis_index(node.args[0], numpy.ndim(node.value))
    start = sum(numpy.shape(part)[axis] for part in node.args[1:argnum])
    index = [slice(None)] * (numpy.ndim(node.value) + 1)
    index[axis + 1] = slice(start, start + numpy.shape(node.args[argnum])[axis])
    return dense(batch)[tuple(index)]


def _concatenate_tangent(node, tangents):
    axis = normalize_axis_index(node.args[0], numpy.ndim(node.value))
    batch_size = len(dense(next(iter(tangents.values()))))
    parts = [dense(tangents[argnum]) if argnum in tangents
             else numpy.zeros((batch_size,) + numpy.shape(part))
             for argnum, part in enumerate(node.args) if argnum > 0]
    return numpy.concatenate(parts, axis=axis + 1)


_register([numpy_wrapper.concatenate_args], _concatenate_cotangent, _concatenate_tangent)


def _array_from_args_cotangent(node, argnum, batch):
    return dense(batch)[:, argnum - 2]


def _array_from_args_tangent(node, tangents):
    batch_size = len(dense(next(iter(tangents.values()))))
    result = numpy.zeros((batch_size,) + numpy.shape(node.value))
    for argnum, batch in tangents.items():
        result[:, argnum - 2] = dense(batch)
    return result


_register([numpy_wrapper.array_from_args], _array_from_args_cotangent, _array_from_args_tangent)


# ----- products: matmul and dot as stacked matrix products, tensordot and einsum as einsum -----

def _matmul_operands(node):
    """Both operands as (stacks of) matrices, and the output axes that promoting 1-D operands added."""
    a, b = node.args[0], node.args[1]
    a_vector, b_vector = numpy.ndim(a) == 1, numpy.ndim(b) == 1
    a2 = numpy.asarray(a)[None, :] if a_vector else a
    b2 = numpy.asarray(b)[:, None] if b_vector else b
    return a2, b2, a_vector, b_vector


def _is_matmul(node) -> bool:
    if node.kwargs or len(node.args) != 2:
        return False
    ndims = (numpy.ndim(node.args[0]), numpy.ndim(node.args[1]))
    if node.fun is anp.dot:
        return all(ndim in (1, 2) for ndim in ndims)
    return all(ndim >= 1 for ndim in ndims)


def _promote_output(batch, a_vector, b_vector):
    if a_vector:
        batch = batch[..., None, :] if not b_vector else batch[..., None, None]
    elif b_vector:
        batch = batch[..., None]
    return batch


def _matrix_of_vector_map(node, argnum):
    """For ``A @ x`` or ``x @ A`` with a traced vector ``x`` and a matrix ``A``: ``M`` with ``y = M x``."""
    a, b = node.args[0], node.args[1]
    if argnum == 1 and numpy.ndim(a) == 2 and numpy.ndim(b) == 1:
        return a
    if argnum == 0 and numpy.ndim(a) == 1 and numpy.ndim(b) == 2:
        return numpy.transpose(b)
    return None


def _scaled_rows(rows, scale):
    """``rows * scale``; for the unscaled standard basis, the rows themselves (a view: no n·m pass)."""
    return rows if numpy.all(scale == 1.0) else rows * scale


def _matmul_cotangent(node, argnum, batch):
    if not _is_matmul(node):
        return _einsum_cotangent(node, argnum, batch)
    matrix = _matrix_of_vector_map(node, argnum)
    if isinstance(batch, Banded) and batch.is_diagonal and matrix is not None:
        return _scaled_rows(matrix[batch.start:batch.stop], batch.diagonal()[:, None])
    a2, b2, a_vector, b_vector = _matmul_operands(node)
    cotangent = _promote_output(dense(batch), a_vector, b_vector)
    if argnum == 0:
        result = cotangent @ numpy.swapaxes(b2, -1, -2)
        result = result[..., 0, :] if a_vector else result
    else:
        result = numpy.swapaxes(a2, -1, -2) @ cotangent
        result = result[..., 0] if b_vector else result
    return unbroadcast(result, numpy.shape(node.args[argnum]))


def _matmul_tangent(node, tangents):
    if not _is_matmul(node):
        return _einsum_tangent(node, tangents)
    a2, b2, a_vector, b_vector = _matmul_operands(node)
    ndim = max(numpy.ndim(a2), numpy.ndim(b2))
    total = None
    for argnum, batch in tangents.items():
        matrix = _matrix_of_vector_map(node, argnum)
        if isinstance(batch, Banded) and batch.is_diagonal and matrix is not None:
            total = add(total, _scaled_rows(numpy.transpose(matrix)[batch.start:batch.stop], batch.diagonal()[:, None]))
            continue
        batch = dense(batch)
        if argnum == 0:
            product = align(batch[..., None, :] if a_vector else batch, ndim) @ b2
        else:
            product = a2 @ align(batch[..., None] if b_vector else batch, ndim)
        if b_vector:
            product = product[..., 0]
        if a_vector:
            product = product[..., 0, :] if not b_vector else product[..., 0]
        total = add(total, product)
    return total


def _product_subscripts(a_ndim: int, b_ndim: int, a_axes: list, b_axes: list) -> tuple[str, str, str]:
    """Einsum subscripts of ``tensordot(a, b, (a_axes, b_axes))``: those of ``a``, of ``b``, of the result."""
    letters = iter(string.ascii_lowercase)
    a_subscripts = [next(letters) for _ in range(a_ndim)]
    b_subscripts = [next(letters) for _ in range(b_ndim)]
    a_axes = [axis % a_ndim for axis in a_axes]
    b_axes = [axis % b_ndim for axis in b_axes]
    for a_axis, b_axis in zip(a_axes, b_axes):
        b_subscripts[b_axis] = a_subscripts[a_axis]
    output = ([s for axis, s in enumerate(a_subscripts) if axis not in a_axes]
              + [s for axis, s in enumerate(b_subscripts) if axis not in b_axes])
    return "".join(a_subscripts), "".join(b_subscripts), "".join(output)


def _tensordot_axes(axes: Any, a_ndim: int) -> tuple[list, list]:
    if isinstance(axes, (int, numpy.integer)):
        return list(range(a_ndim - axes, a_ndim)), list(range(axes))
    return tuple([part] if isinstance(part, (int, numpy.integer)) else list(part) for part in axes)


def _dot_axes(a_ndim: int, b_ndim: int) -> tuple[list, list]:
    # dot contracts the last axis of a with the second-to-last of b (its only axis if b is a vector).
    return ([a_ndim - 1], [max(b_ndim - 2, 0)]) if a_ndim and b_ndim else ([], [])


def _consistent_letters(subscripts: dict, operands: dict) -> bool:
    """Whether every subscript letter has one size in all operands (no broadcasting of length-one axes)."""
    sizes: dict = {}
    for position, letters in subscripts.items():
        for letter, size in zip(letters, numpy.shape(operands[position])):
            if sizes.setdefault(letter, size) != size:
                return False
    return True


def _einsum_spec(node) -> tuple[dict, str] | None:
    """``({argnum: subscripts}, output subscripts)`` of a product; ``None`` for a call form not batched here.

    einsum, tensordot and dot (and autograd's adjoints of dot and tensordot,
    met in second derivatives) are all one einsum.
    """
    args, fun = node.args, node.fun
    if fun is anp.einsum:
        if not isinstance(args[0], str) or set(node.kwargs) - {"optimize"}:
            return None
        inputs, output, _ = parse_einsum_input(*args)
        subscripts = dict(enumerate(inputs.split(","), start=1))
        operands = dict(enumerate(args))
        return (subscripts, output) if _consistent_letters(subscripts, operands) else None
    if fun is anp.tensordot:
        a_ndim, b_ndim = numpy.ndim(args[0]), numpy.ndim(args[1])
        axes = args[2] if len(args) > 2 else node.kwargs.get("axes", 2)
        a, b, output = _product_subscripts(a_ndim, b_ndim, *_tensordot_axes(axes, a_ndim))
        return {0: a, 1: b}, output
    if fun is anp.dot and not node.kwargs and len(args) == 2:
        a_ndim, b_ndim = numpy.ndim(args[0]), numpy.ndim(args[1])
        a, b, output = _product_subscripts(a_ndim, b_ndim, *_dot_axes(a_ndim, b_ndim))
        return {0: a, 1: b}, output
    if fun in (dot_adjoint_0, dot_adjoint_1):
        a_ndim, b_ndim = args[2][1], args[3][1]
        a, b, output = _product_subscripts(a_ndim, b_ndim, *_dot_axes(a_ndim, b_ndim))
        return ({0: b, 1: output}, a) if fun is dot_adjoint_0 else ({0: a, 1: output}, b)
    if fun in (tensordot_adjoint_0, tensordot_adjoint_1):
        axes, a_ndim, b_ndim = args[2:5]
        a, b, output = _product_subscripts(a_ndim, b_ndim, *_tensordot_axes(axes, a_ndim))
        return ({0: b, 1: output}, a) if fun is tensordot_adjoint_0 else ({0: a, 1: output}, b)
    return None


def _batch_letter(subscripts: dict, output: str) -> str:
    used = set("".join(subscripts.values()) + output)
    return next(letter for letter in string.ascii_letters if letter not in used)


def _einsum_tangent(node, tangents):
    spec = _einsum_spec(node)
    if spec is None:
        return NotImplemented
    subscripts, output = spec
    batch_letter = _batch_letter(subscripts, output)
    total = None
    for argnum, batch in tangents.items():
        terms = [(batch_letter + subs if position == argnum else subs) for position, subs in subscripts.items()]
        operands = [dense(batch) if position == argnum else node.args[position] for position in subscripts]
        total = add(total, numpy.einsum(",".join(terms) + "->" + batch_letter + output, *operands, optimize=True))
    return total


def _einsum_cotangent(node, argnum, batch):
    spec = _einsum_spec(node)
    if spec is None:
        return NotImplemented
    subscripts, output = spec
    wanted = subscripts[argnum]
    if len(set(wanted)) != len(wanted):
        return NotImplemented
    batch_letter = _batch_letter(subscripts, output)
    others = {position: subs for position, subs in subscripts.items() if position != argnum}
    present = set(output + "".join(others.values()))
    kept = "".join(letter for letter in wanted if letter in present)
    terms = [batch_letter + output] + list(others.values())
    operands = [dense(batch)] + [node.args[position] for position in others]
    result = numpy.einsum(",".join(terms) + "->" + batch_letter + kept, *operands, optimize=True)
    shape = numpy.shape(node.args[argnum])
    # An index that only this operand carries was summed over: every row is spread along it.
    spread = result.reshape(result.shape[:1] + tuple(size if letter in present else 1
                                                      for letter, size in zip(wanted, shape)))
    return numpy.broadcast_to(spread, result.shape[:1] + shape)


_register([anp.matmul, anp.dot], _matmul_cotangent, _matmul_tangent)
_register([anp.tensordot, anp.einsum, dot_adjoint_0, dot_adjoint_1, tensordot_adjoint_0, tensordot_adjoint_1],
          _einsum_cotangent, _einsum_tangent)


# ----- linear algebra: inv, det, solve (square matrices; stacks of them where NumPy allows) -----

def _inv_cotangent(node, argnum, batch):
    inverse_transposed = numpy.swapaxes(node.value, -1, -2)
    return -(inverse_transposed @ dense(batch) @ inverse_transposed)


def _inv_tangent(node, tangents):
    return -(node.value @ dense(tangents[0]) @ node.value)


def _det_cotangent(node, argnum, batch):
    inverse_transposed = numpy.swapaxes(numpy.linalg.inv(node.args[0]), -1, -2)
    return (dense(batch) * node.value)[..., None, None] * inverse_transposed


def _det_tangent(node, tangents):
    inverse = numpy.linalg.inv(node.args[0])
    return node.value * numpy.einsum("...ij,...ji->...", inverse, dense(tangents[0]))


def _solve_columns(matrix, batch, vector):
    """``solve(matrix, ·)`` applied to every row of a batch (a batch of vectors or of matrices)."""
    if vector:
        return numpy.linalg.solve(matrix, batch.T).T
    return numpy.linalg.solve(matrix, batch)


def _solve_cotangent(node, argnum, batch):
    a, b = node.args[0], node.args[1]
    if numpy.ndim(a) != 2:
        return NotImplemented
    vector = numpy.ndim(b) == 1
    b_cotangent = _solve_columns(numpy.transpose(a), dense(batch), vector)
    if argnum == 1:
        return b_cotangent
    if vector:
        return -b_cotangent[:, :, None] * node.value[None, None, :]
    return -(b_cotangent @ numpy.transpose(node.value))


def _solve_tangent(node, tangents):
    a, b = node.args[0], node.args[1]
    if numpy.ndim(a) != 2:
        return NotImplemented
    vector = numpy.ndim(b) == 1
    right = None
    if 1 in tangents:
        right = dense(tangents[1])
    if 0 in tangents:
        right = add(right, -(dense(tangents[0]) @ node.value))
    return _solve_columns(a, right, vector)


_register([alinalg.inv], _inv_cotangent, _inv_tangent)
_register([alinalg.det], _det_cotangent, _det_tangent)
_register([alinalg.solve], _solve_cotangent, _solve_tangent)
