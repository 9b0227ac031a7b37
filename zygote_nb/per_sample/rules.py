"""Batching rules: one primitive call of one example, made a call over the whole batch.

Every traced argument arrives *batched*: an array of shape ``(B,) + s`` whose
row ``b`` is the argument for example ``b`` (a parameter is a zero-stride
broadcast, the same array ``B`` times, costing no memory).  A rule returns
``(value, pull)``: the batched output, and ``pull(cotangent, argnums)`` giving
each asked argument's cotangent *per example*, shaped like the batched
argument.  For a parameter that is exactly the point: the cotangent of its
zero-stride copy in row ``b`` is example ``b``'s gradient, never summed.

Most rules only rewrite the call — align the example axes behind the batch
axis, shift an ``axis=`` by one — and then evaluate the primitive and its
autograd VJP on the rewritten call (:func:`rewritten`), since the rewritten
call *is* the batched computation.  Contractions (``dot``, ``matmul``,
``tensordot``, ``einsum``) get their own rule so that a parameter shared by
every example enters the product once, as one matrix product over the batch,
and its per-example cotangent comes out as the per-example outer product.

A primitive with no rule returns ``NotImplemented`` and the replay calls it
and its VJP once per example instead (:mod:`zygote_nb.per_sample.replay`).

Three examples through ``tanh`` at once, and the cotangents per example:

>>> import numpy, autograd.numpy as anp
>>> from zygote_nb.per_sample.trace import trace_one_sample
>>> node, = trace_one_sample(lambda w, x: anp.tanh(x), [], [numpy.zeros(2)]).nodes
>>> value, pull = batched_call(node, [numpy.zeros((3, 2))])
>>> pull(numpy.ones((3, 2)), (0,))[0]
array([[1., 1.],
       [1., 1.],
       [1., 1.]])
"""

from __future__ import annotations

import string
import sys
from typing import Any, Callable

import autograd.numpy as anp
import numpy
from autograd.extend import defjvp, defvjp, primitive, vspace
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..autograd_patches import _original_where, getitem_primitive, numpy_wrapper, untake, vjp_maker_of
from ..numpy.joins import concatenate_along, stack_along

RULES: dict[Any, Callable] = {}


def batched_call(node, args: list) -> tuple | Any:
    """``(value, pull)`` for ``node`` with batched traced arguments, or ``NotImplemented``."""
    raw = getattr(node.fun, "fun", None)
    rule = RULES.get(node.fun)
    if rule is None and node.fun is _scipy_logsumexp():
        rule = RULES[node.fun] = _along_axis()
    if rule is None and isinstance(raw, numpy.ufunc) and raw.signature is None and not node.kwargs:
        rule = _elementwise
    if rule is None:
        return NotImplemented
    return rule(node, args)


def _scipy_logsumexp() -> Any:
    # autograd.scipy needs SciPy, which zygote_nb does not; a loss that uses its logsumexp has imported it.
    return getattr(sys.modules.get("autograd.scipy.special"), "logsumexp", None)


def rewritten(node, args: list, kwargs: dict, undo: Callable | None = None) -> tuple:
    """Evaluate the primitive on a rewritten (batched) call; its VJP on that call pulls back per example.

    ``undo(argnum, cotangent)``, where given, maps a cotangent of a rewritten argument back to the
    batched argument (a reshape that removes the axes alignment inserted).
    """
    value = node.fun.fun(*args, **kwargs)

    def pull(cotangent, argnums):
        cotangents = vjp_maker_of(node.fun, argnums)(argnums, value, args, kwargs)(cotangent)
        return [undo(argnum, part) if undo else part for argnum, part in zip(argnums, cotangents)]

    return value, pull


def _batch_size(node, args) -> int:
    return numpy.shape(args[node.argnums[0]])[0]


def _example_shape(args, argnum) -> tuple:
    return numpy.shape(args[argnum])[1:]


def _aligned(node, args: list) -> tuple[list, Callable]:
    """Traced arguments with axes inserted behind the batch axis so they broadcast as the examples do."""
    ndim = len(node.shape)
    shapes = {argnum: numpy.shape(args[argnum]) for argnum in node.argnums}
    aligned = list(args)
    for argnum, shape in shapes.items():
        missing = ndim - (len(shape) - 1)
        if missing > 0:
            aligned[argnum] = numpy.reshape(args[argnum], shape[:1] + (1,) * missing + shape[1:])
    return aligned, lambda argnum, cotangent: numpy.reshape(cotangent, shapes[argnum])


def _elementwise(node, args):
    aligned, undo = _aligned(node, args)
    return rewritten(node, aligned, node.kwargs, undo)


RULES[_original_where] = RULES[anp.clip] = _elementwise


# ----- reductions and other operations along an axis: the axis moves one to the right -----

def _along_axis(default_all: bool = True) -> Callable:
    """A rule for a primitive of a traced array whose ``axis`` is its second argument or keyword ``axis``.

    ``axis=None`` means every axis of the example, unless ``default_all`` is false (``cumsum`` flattens).
    """

    def rule(node, args):
        if 0 not in node.argnums:
            return NotImplemented
        args, kwargs = list(args), dict(node.kwargs)
        ndim = len(_example_shape(args, 0))
        in_args = len(args) > 1
        axis = args[1] if in_args else kwargs.get("axis")
        if axis is None:
            if not default_all:
                return NotImplemented
            shifted = tuple(range(1, ndim + 1))
        elif isinstance(axis, tuple):
            shifted = tuple(a + 1 for a in normalize_axis_tuple(axis, ndim))
        else:
            shifted = normalize_axis_index(int(axis), ndim) + 1
        if in_args:
            args[1] = shifted
        else:
            kwargs["axis"] = shifted
        return rewritten(node, args, kwargs)

    return rule


for _function in (anp.sum, numpy_wrapper._primitive_mean, numpy_wrapper._primitive_var,
                  numpy_wrapper._primitive_std, anp.max, anp.amax, anp.min, anp.amin, anp.prod):
    RULES[_function] = _along_axis()
RULES[anp.cumsum] = _along_axis(default_all=False)


def _join(node, args):
    """``concatenate``/``stack`` with the axis first: shift it, and repeat constant arrays over the batch."""
    args = list(args)
    batch = _batch_size(node, args)
    for position in range(1, len(args)):
        if position not in node.argnums:
            args[position] = numpy.broadcast_to(args[position], (batch,) + numpy.shape(args[position]))
    # Both joins take the axis in the output's numbering (concatenate keeps the number of axes).
    args[0] = normalize_axis_index(int(args[0]), len(node.shape)) + 1
    return rewritten(node, args, node.kwargs)


RULES[anp.concatenate_args] = RULES[concatenate_along] = RULES[stack_along] = _join


# ----- moving elements around -----

def _reshaped(node, args):
    """Every primitive that only regroups elements in C order is a reshape to the batched output shape."""
    source = args[0]
    value = numpy.reshape(source, source.shape[:1] + node.shape)
    return value, lambda cotangent, argnums: [numpy.reshape(cotangent, source.shape)]


for _function in (anp.reshape, anp.ravel, anp.squeeze, anp.expand_dims, anp.atleast_1d, anp.atleast_2d):
    RULES[_function] = _reshaped


def _transpose(node, args):
    if len(args) > 2 or set(node.kwargs) - {"axes"} or node.argnums != (0,):
        return NotImplemented
    ndim = len(node.shape)
    axes = args[1] if len(args) > 1 else node.kwargs.get("axes")
    axes = tuple(reversed(range(ndim))) if axes is None else normalize_axis_tuple(axes, ndim)
    order = (0,) + tuple(axis + 1 for axis in axes)
    value = numpy.transpose(args[0], order)
    return value, lambda cotangent, argnums: [numpy.transpose(cotangent, numpy.argsort(order))]


RULES[anp.transpose] = _transpose


def _two_axes(node, args):
    ndim = len(_example_shape(args, 0))
    if node.argnums != (0,) or node.kwargs or len(args) != 3 or not all(
            isinstance(axis, (int, numpy.integer)) for axis in args[1:]):
        return NotImplemented
    return rewritten(node, [args[0], *(normalize_axis_index(int(axis), ndim) + 1 for axis in args[1:])], {})


RULES[anp.swapaxes] = RULES[anp.moveaxis] = _two_axes


def _broadcast_to(node, args):
    if node.argnums != (0,):
        return NotImplemented
    aligned, undo = _aligned(node, args)
    batched_shape = numpy.shape(args[0])[:1] + node.shape
    return rewritten(node, [aligned[0], batched_shape], node.kwargs, undo)


RULES[anp.broadcast_to] = _broadcast_to


def _getitem(node, args):
    """``array[index]``: a constant index goes behind a full slice; a traced integer index picks per example."""
    array, index = args
    if node.argnums == (0,):
        parts = index if isinstance(index, tuple) else (index,)
        if _advanced_parts_apart(parts):
            return NotImplemented
        return rewritten(node, [array, (slice(None),) + parts], {})
    if 1 in node.argnums and numpy.asarray(index).dtype.kind in "iu":
        batch = index.shape[0]
        rows = numpy.arange(batch).reshape((batch,) + (1,) * (index.ndim - 1))
        if 0 not in node.argnums:
            array = numpy.broadcast_to(array, (batch,) + numpy.shape(array))
        return rewritten(node, [array, (rows, index)], {})
    return NotImplemented


def _advanced_parts_apart(parts: tuple) -> bool:
    """Whether array indices are separated by a slice: NumPy then moves their axes to the front."""
    advanced = [position for position, part in enumerate(parts)
                if not isinstance(part, (slice, type(None), type(Ellipsis), int, numpy.integer))]
    advanced += [position for position, part in enumerate(parts) if isinstance(part, (int, numpy.integer))
                 and advanced]
    return bool(advanced) and max(advanced) - min(advanced) + 1 != len(advanced)


RULES[getitem_primitive] = _getitem


@primitive
def indexed(array, *parts):
    """``array[parts]`` with traced integer arrays among ``parts``: ``log_probabilities[np.arange(n), labels]``.

    autograd's indexing sees a traced index only when it is the whole index, not a part of a tuple;
    the trace routes such tuples here (:mod:`~zygote_nb.per_sample.trace`).
    """
    return array[parts]


defvjp(indexed, lambda ans, array, *parts: lambda cotangent: untake(cotangent, parts, vspace(array)))
defjvp(indexed, lambda tangent, ans, array, *parts: indexed(tangent, *parts))  # the parts are integers: no tangent


def _indexed(node, args):
    """Every part an integer array or number: the batch becomes one more advanced index in front."""
    array, parts = args[0], list(args[1:])
    if 0 not in node.argnums or not all(numpy.asarray(part).dtype.kind in "iu" for part in parts):
        return NotImplemented
    batch = _batch_size(node, args)
    ndim = len(numpy.broadcast_shapes(*(numpy.shape(part)[1:] if position + 1 in node.argnums else numpy.shape(part)
                                         for position, part in enumerate(parts))))
    for position, part in enumerate(parts):
        if position + 1 in node.argnums:
            shape = numpy.shape(part)
            parts[position] = numpy.reshape(part, shape[:1] + (1,) * (ndim - len(shape) + 1) + shape[1:])
    rows = numpy.arange(batch).reshape((batch,) + (1,) * ndim)
    return rewritten(node, [array, rows, *parts], {})


RULES[indexed] = _indexed


# ----- contractions: a shared operand enters once, per-example cotangents are per-example products -----

def _contraction(subscripts_of: Callable) -> Callable:
    """A rule from ``subscripts_of(node, shapes)``: the einsum form of one example's call, or ``None``."""

    def rule(node, args):
        operand_positions, subscripts, output = subscripts_of(node, args) or (None, None, None)
        if subscripts is None or any(_unpullable(position, operand_positions, subscripts, output, node)
                                     for position in node.argnums):
            return NotImplemented
        batch = _batch_size(node, args)
        spare = next(letter for letter in string.ascii_letters if letter not in "".join(subscripts) + output)
        operands, terms = [], []
        for position, term in zip(operand_positions, subscripts):
            operand = args[position]
            shared = position not in node.argnums
            if position in node.argnums and (batch == 1 or numpy.ndim(operand) and operand.strides[0] == 0):
                operand, shared = operand[0], True
            operands.append(operand)
            terms.append(term if shared else spare + term)
        batched = any(term.startswith(spare) for term in terms)
        value = _einsum(",".join(terms) + "->" + (spare if batched else "") + output, operands)
        if not batched:
            value = numpy.broadcast_to(value, (batch,) + numpy.shape(value))

        def pull(cotangent, argnums):
            pulled = []
            for argnum in argnums:
                index = operand_positions.index(argnum)
                others = [(term, operand) for i, (term, operand) in enumerate(zip(terms, operands)) if i != index]
                spec = ",".join([spare + output] + [term for term, _ in others]) + "->" + spare + subscripts[index]
                pulled.append(_einsum(spec, [cotangent, *[operand for _, operand in others]]))
            return pulled

        return value, pull

    return rule


def _einsum(spec: str, operands: list) -> numpy.ndarray:
    """``numpy.einsum``, through BLAS where it sums over a letter.

    A product that sums over nothing (a per-example outer product) skips the optimiser, which would run
    it as a batch of one-column matrix products, twice as slow as einsum's own loop.
    """
    inputs, output = spec.split("->")
    sums = any(letter not in output for letter in inputs.replace(",", ""))
    return numpy.einsum(spec, *operands, optimize=sums)


def _unpullable(position, operand_positions, subscripts, output, node) -> bool:
    """An operand whose cotangent is not one einsum: a letter repeated in it, or summed in it alone."""
    if position not in operand_positions:
        return True
    term = subscripts[operand_positions.index(position)]
    elsewhere = output + "".join(other for other in subscripts if other is not term)
    return len(set(term)) != len(term) or any(letter not in elsewhere for letter in term)


def _dot_subscripts(node, args):
    first, second = (len(_shape_of(node, args, position)) for position in (0, 1))
    if not first or not second or (node.fun is anp.matmul and (first > 2 or second > 2)) or node.kwargs:
        return None
    letters = iter(string.ascii_lowercase)
    left = "".join(next(letters) for _ in range(first))
    right = [next(letters) for _ in range(second)]
    right[0 if second == 1 else -2] = left[-1]
    right = "".join(right)
    output = left[:-1] + right.replace(left[-1], "")
    return (0, 1), (left, right), output


def _tensordot_subscripts(node, args):
    axes = args[2] if len(args) > 2 else node.kwargs.get("axes", 2)
    first, second = (len(_shape_of(node, args, position)) for position in (0, 1))
    if isinstance(axes, int):
        axes = (list(range(first - axes, first)), list(range(axes)))
    left = string.ascii_lowercase[:first]
    right = list(string.ascii_lowercase[first:first + second])
    for a, b in zip(numpy.atleast_1d(axes[0]), numpy.atleast_1d(axes[1])):
        right[normalize_axis_index(int(b), second)] = left[normalize_axis_index(int(a), first)]
    right = "".join(right)
    output = "".join(letter for letter in left + right if (left + right).count(letter) == 1)
    return (0, 1), (left, right), output


def _einsum_subscripts(node, args):
    if not isinstance(args[0], str) or "->" not in args[0] or "." in args[0] or node.kwargs:
        return None
    inputs, output = args[0].replace(" ", "").split("->")
    return tuple(range(1, len(args))), tuple(inputs.split(",")), output


def _shape_of(node, args, position):
    return _example_shape(args, position) if position in node.argnums else numpy.shape(args[position])


RULES[anp.dot] = RULES[anp.matmul] = _contraction(_dot_subscripts)
RULES[anp.tensordot] = _contraction(_tensordot_subscripts)
RULES[anp.einsum] = _contraction(_einsum_subscripts)
