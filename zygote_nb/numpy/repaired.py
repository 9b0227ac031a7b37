"""NumPy functions whose autograd derivative is wrong or missing, rebuilt from sound parts.

Differential testing (random programs checked against finite differences, see
``tests/fuzz``) found these autograd rules wrong or missing:

* ``tile`` with ``reps`` shorter than ``x.ndim`` (NumPy prepends ones; the rule
  aligned them with the leading axes);
* ``repeat`` with a negative ``axis`` or an array of repeats;
* ``where`` with a branch that broadcasts (the cotangent was not summed back to
  the branch's shape);
* ``outer`` of arrays that are not vectors (NumPy flattens them);
* ``prod`` where an entry is zero (NaN: the rules divide by the entry);
* ``max`` and ``min`` in forward mode with a negative axis in a tuple, and the
  other reductions given such axes for safety;
* ``sort`` of arrays of more than one axis (no reverse rule, a wrong forward one);
* ``sinc`` at 0 (NaN);
* ``flip``, ``take``, ``average`` and ``vdot`` (no rule), ``trace`` of other axes than the
  first two, ``roll`` by a tuple of shifts, ``pad`` called with its default mode; ``diagonal`` other than of the last two axes,
  ``einsum`` with a repeated subscript (``'ii->i'``), ``broadcast_to`` that adds
  leading axes.

Each function here is a composition of primitives whose rules are right in
every mode: reshapes, ``broadcast_to`` without new leading axes, sums, basic and
integer indexing, products. So reverse mode, forward mode, both engines and the
flow view all differentiate them, with no new rule to keep in step, and plain
autograd (``autograd.numpy``) is left as it is. NumPy computes the same values.

>>> import zygote_nb.numpy as np
>>> from autograd import grad
>>> grad(lambda x: np.sum(np.tile(x, 2) * np.arange(12.0).reshape(2, 6)))(np.ones((2, 3)))
array([[ 3.,  5.,  7.],
       [15., 17., 19.]])
"""

import numpy as _numpy
from autograd import numpy as _autograd_numpy
from autograd.numpy.numpy_wrapper import parse_einsum_input as _parse_einsum_input
from autograd.tracer import getval as _getval
from autograd.tracer import isbox as _isbox
from numpy.lib.array_utils import normalize_axis_index as _normalize_axis_index
from .. import array_library as _array_library
from numpy.lib.array_utils import normalize_axis_tuple as _normalize_axis_tuple


def namespace_of(value):
    """The array library of ``value`` (traced or not): NumPy, or a device library such as CuPy."""
    return _array_library.array_namespace(_getval(value))


def as_array(value):
    """``value`` as an array; a traced or device array stays as it is (``asarray`` would copy it to NumPy)."""
    return value if _array_library.is_array(_getval(value)) else _autograd_numpy.asarray(value)


def _with_axes_in_order(reduction):
    """``reduction`` given its ``axis`` as non-negative, sorted axes (autograd's forward rules misplace negative ones)."""

    def reduce(a, axis=None, *args, **kwargs):
        if axis is not None:
            axis = _normalize_axis_tuple(axis, _numpy.ndim(a))
            axis = axis[0] if len(axis) == 1 else tuple(sorted(axis))
        return reduction(a, axis, *args, **kwargs)

    reduce.__name__ = reduce.__qualname__ = reduction.__name__
    reduce.__doc__ = (f"``numpy.{reduction.__name__}``, differentiable for every form of ``axis``.\n\n"
                      f"    >>> {reduction.__name__}([[1.0, 2.0], [3.0, 4.0]], axis=(-1, 0)).tolist()\n"
                      f"    {float(getattr(_numpy, reduction.__name__)([[1.0, 2.0], [3.0, 4.0]]))!r}\n")
    return reduce


def _product_of_last_axis(x):
    # Multiplying neighbours pairwise, log2(n) times: every partial derivative is a product of the
    # other entries, exact where entries are zero (autograd's rule divides the product by each entry).
    while _numpy.shape(x)[-1] > 1:
        if _numpy.shape(x)[-1] % 2:
            x = _autograd_numpy.concatenate([x, namespace_of(x).ones(_numpy.shape(x)[:-1] + (1,))], axis=-1)
        x = x[..., 0::2] * x[..., 1::2]
    return x[..., 0]


def prod(a, axis=None, dtype=None, out=None, keepdims=False, **options):
    """``numpy.prod``, with derivatives that stay finite where entries are zero.

    >>> prod([[1.0, 2.0], [0.0, 4.0]], axis=(-1, 0)).tolist()
    0.0
    """
    if out is not None or options or _numpy.size(a) == 0:
        return _autograd_numpy.prod(a, axis, dtype=dtype, out=out, keepdims=keepdims, **options)
    a = as_array(a) if dtype is None else _autograd_numpy.astype(as_array(a), dtype)
    ndim = _numpy.ndim(a)
    reduced = tuple(range(ndim)) if axis is None else tuple(sorted(_normalize_axis_tuple(axis, ndim)))
    kept = tuple(index for index in range(ndim) if index not in reduced)
    shape = _numpy.shape(a)
    rows = _autograd_numpy.reshape(_autograd_numpy.transpose(a, kept + reduced), tuple(shape[i] for i in kept) + (-1,))
    result = _product_of_last_axis(rows)
    if keepdims:
        result = _autograd_numpy.reshape(result, tuple(1 if i in reduced else size for i, size in enumerate(shape)))
    return result


# Keyed by NumPy's names, which would hide Python's ``sum``, ``max`` and ``min`` in this module.
REDUCTIONS = {name: _with_axes_in_order(getattr(_autograd_numpy, name))
              for name in ("sum", "mean", "max", "min", "amax", "amin", "std", "var")}
REDUCTIONS["prod"] = prod


def broadcast_to(array, shape, subok=False):
    """``numpy.broadcast_to``, differentiable also when it adds leading axes.

    >>> broadcast_to([1.0, 2.0], (2, 2)).tolist()
    [[1.0, 2.0], [1.0, 2.0]]
    """
    shape = (shape,) if isinstance(shape, (int, _numpy.integer)) else tuple(shape)
    array_shape = _numpy.shape(array)
    if len(shape) < len(array_shape):
        raise ValueError(f"cannot broadcast an array of shape {array_shape} to the shape {shape}")
    if array_shape == shape:
        return as_array(array) if _numpy.ndim(array) == 0 else array
    # autograd's rule sums the broadcast axes back but cannot remove leading ones: add them first.
    padded = _autograd_numpy.reshape(array, (1,) * (len(shape) - len(array_shape)) + array_shape)
    return _autograd_numpy.broadcast_to(padded, shape)


def tile(A, reps):
    """``numpy.tile`` as a broadcast and a reshape (``reps`` shorter than ``A.ndim`` gets ones in front).

    >>> tile([[1.0, 2.0]], 2).tolist()
    [[1.0, 2.0, 1.0, 2.0]]
    """
    reps = (reps,) if _numpy.ndim(reps) == 0 else tuple(int(rep) for rep in reps)
    ndim = max(_numpy.ndim(A), len(reps))
    shape = (1,) * (ndim - _numpy.ndim(A)) + _numpy.shape(A)
    reps = (1,) * (ndim - len(reps)) + reps
    interleaved = _autograd_numpy.reshape(A, tuple(size for axis in shape for size in (1, axis)))
    copies = broadcast_to(interleaved, tuple(size for pair in zip(reps, shape) for size in pair))
    return _autograd_numpy.reshape(copies, tuple(rep * size for rep, size in zip(reps, shape)))


def repeat(a, repeats, axis=None):
    """``numpy.repeat``, with any ``axis`` and with an array of repeats, as integer indexing.

    >>> repeat([[1.0, 2.0]], [1, 2], axis=-1).tolist()
    [[1.0, 2.0, 2.0]]
    """
    a = _autograd_numpy.ravel(a) if axis is None else as_array(a)
    axis = _normalize_axis_index(0 if axis is None else axis, _numpy.ndim(a))
    sources = _numpy.repeat(_numpy.arange(_numpy.shape(a)[axis]), repeats)
    return a[(slice(None),) * axis + (sources,)]


def sort(a, axis=-1, kind=None, order=None, stable=None):
    """``numpy.sort`` as integer indexing with NumPy's ``argsort`` (autograd's rule is for 1-d arrays only).

    >>> sort([[2.0, 1.0], [0.0, 3.0]], axis=0).tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    """
    if order is not None:
        raise TypeError("sort(..., order=) sorts structured arrays, which cannot be differentiated")
    if axis is None:
        a, axis = _autograd_numpy.ravel(a), 0
    a = as_array(a)
    axis = _normalize_axis_index(axis, _numpy.ndim(a))
    index = list(_numpy.indices(_numpy.shape(a), sparse=True))
    index[axis] = namespace_of(a).argsort(_getval(a), axis=axis, kind=kind, stable=stable)
    return a[tuple(index)]


def take(a, indices, axis=None, out=None, mode="raise"):
    """``numpy.take`` as integer indexing (autograd's ``take`` has no derivative).

    >>> take([[1.0, 2.0], [3.0, 4.0]], [1, 1], axis=-1).tolist()
    [[2.0, 2.0], [4.0, 4.0]]
    """
    if out is not None or mode != "raise":
        raise TypeError("take(..., out=, mode=) cannot be differentiated: index with a[...] instead")
    if axis is None:
        a, axis = _autograd_numpy.ravel(a), 0
    axis = _normalize_axis_index(axis, _numpy.ndim(a))
    return as_array(a)[(slice(None),) * axis + (_numpy.asarray(indices),)]


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """``numpy.trace`` for any pair of axes: the sum of :func:`diagonal`.

    >>> float(trace([[1.0, 2.0], [3.0, 4.0]], axis1=-1, axis2=0))
    5.0
    """
    if out is not None:
        raise TypeError("trace(..., out=) cannot be differentiated: assign the result instead")
    return _autograd_numpy.sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def roll(a, shift, axis=None):
    """``numpy.roll``, also with a tuple of shifts (autograd's rule negates the shift as a number).

    >>> roll([[1.0, 2.0], [3.0, 4.0]], (1, 1), axis=(0, 1)).tolist()
    [[4.0, 3.0], [2.0, 1.0]]
    """
    if _numpy.ndim(shift) == 0:
        return _autograd_numpy.roll(a, int(shift), axis)
    axes = (axis,) * len(shift) if _numpy.ndim(axis) == 0 else axis
    for one_shift, one_axis in zip(shift, axes):
        a = _autograd_numpy.roll(a, int(one_shift), one_axis)
    return a


def pad(array, pad_width, mode="constant", **kwargs):
    """``numpy.pad``: ``"constant"`` padding, and the modes that copy entries (``"edge"``, ``"reflect"``,
    ``"symmetric"``, ``"wrap"``) as integer indexing.

    >>> pad([1.0, 2.0], 1, mode="edge").tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    if _numpy.ndim(array) == 0:
        # Nothing to pad; a reshape (not autograd's rule, which indexes its cotangent) passes it on.
        return _autograd_numpy.reshape(array, ())
    if mode == "constant":
        # autograd's rule takes ``mode`` as a positional argument only.
        return _autograd_numpy.pad(array, pad_width, "constant", **kwargs)
    if mode not in ("edge", "reflect", "symmetric", "wrap") and not _isbox(array):
        return _numpy.pad(array, pad_width, mode, **kwargs)
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(f"pad(..., mode={mode!r}) has no derivative in zygote_nb: use 'constant', "
                                  f"'edge', 'reflect', 'symmetric' or 'wrap'")
    shape = _numpy.shape(array)
    sources = _numpy.pad(_numpy.arange(_numpy.prod(shape, dtype=int)).reshape(shape), pad_width, mode, **kwargs)
    return _autograd_numpy.ravel(array)[sources]


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """``numpy.average``: the mean, or ``sum(a * weights) / sum(weights)`` along ``axis``.

    >>> float(average([1.0, 3.0], weights=[3.0, 1.0]))
    1.5
    """
    if weights is None:
        result = REDUCTIONS["mean"](a, axis, keepdims=keepdims)
        weight_sum = _numpy.size(a) / _numpy.size(result) + 0 * result
    else:
        a, weights = as_array(a), as_array(weights)
        if _numpy.ndim(weights) == 1 and _numpy.ndim(a) > 1 and axis is not None:
            # 1-d weights run along ``axis``.
            axis = _normalize_axis_index(axis, _numpy.ndim(a))
            weights = _autograd_numpy.reshape(weights, (-1,) + (1,) * (_numpy.ndim(a) - 1 - axis))
        weight_sum = REDUCTIONS["sum"](weights + 0 * a, axis, keepdims=keepdims)
        result = REDUCTIONS["sum"](a * weights, axis, keepdims=keepdims) / weight_sum
    return (result, weight_sum) if returned else result


def vdot(a, b):
    """``numpy.vdot``: the dot product of the flattened arrays, conjugating the first.

    >>> float(vdot([[1.0, 2.0]], [3.0, 4.0]))
    11.0
    """
    return _autograd_numpy.sum(_autograd_numpy.conj(_autograd_numpy.ravel(a)) * _autograd_numpy.ravel(b))


def sinc(x):
    """``numpy.sinc``, ``sin(πx) / (πx)``, with its Taylor series near 0 (autograd's derivative is NaN there).

    >>> sinc([0.0, 0.5]).round(6).tolist()
    [1.0, 0.63662]
    """
    x = as_array(x)
    near_zero = namespace_of(x).abs(_getval(x)) < 1e-3
    safe = _autograd_numpy.where(near_zero, 1.0, x)
    t = (_numpy.pi * x) ** 2
    series = 1.0 - t / 6.0 + t**2 / 120.0 - t**3 / 5040.0
    return where(near_zero, series, _autograd_numpy.sin(_numpy.pi * safe) / (_numpy.pi * safe))


def where(condition, x=None, y=None):
    """``numpy.where``; each branch is broadcast to the result's shape first, so its gradient is summed back.

    With only ``condition``, the indices where it holds (no derivative).

    >>> where([True, False], [1.0, 2.0], 0.5).tolist()
    [1.0, 0.5]
    """
    if x is None and y is None:
        return _numpy.nonzero(condition)
    shape = _numpy.broadcast_shapes(_numpy.shape(condition), _numpy.shape(x), _numpy.shape(y))
    chosen = _autograd_numpy.where(condition, broadcast_to(x, shape), broadcast_to(y, shape))
    # autograd's rule reads its cotangent's shape, which a Python-number cotangent (the seed of a
    # scalar output, times a number) lacks; a reshape's rule hands it on as an array.
    return _autograd_numpy.reshape(chosen, ()) if shape == () else chosen


def outer(a, b, out=None):
    """``numpy.outer``: the product of every entry of flattened ``a`` with every entry of flattened ``b``.

    >>> outer([[1.0], [2.0]], [3.0, 4.0]).tolist()
    [[3.0, 4.0], [6.0, 8.0]]
    """
    if out is not None:
        raise TypeError("outer(..., out=) cannot be differentiated: assign the result instead")
    return _autograd_numpy.reshape(a, (-1, 1)) * _autograd_numpy.reshape(b, (1, -1))


def flip(m, axis=None):
    """``numpy.flip``: reverse the order of the entries along ``axis`` (all axes for ``None``).

    >>> flip([[1.0, 2.0], [3.0, 4.0]], axis=-1).tolist()
    [[2.0, 1.0], [4.0, 3.0]]
    """
    ndim = _numpy.ndim(m)
    axes = range(ndim) if axis is None else _normalize_axis_tuple(axis, ndim)
    return as_array(m)[tuple(slice(None, None, -1) if a in axes else slice(None)
                                            for a in range(ndim))]


def diagonal(a, offset=0, axis1=0, axis2=1):
    """``numpy.diagonal`` for any pair of axes, as integer indexing; the diagonal is the last axis.

    >>> diagonal([[1.0, 2.0], [3.0, 4.0]]).tolist()
    [1.0, 4.0]
    """
    ndim = _numpy.ndim(a)
    axis1, axis2 = _normalize_axis_index(axis1, ndim), _normalize_axis_index(axis2, ndim)
    if axis1 == axis2:
        raise ValueError("axis1 and axis2 cannot be the same")
    matrices = _autograd_numpy.moveaxis(a, (axis1, axis2), (-2, -1))
    rows, columns = _numpy.nonzero(_numpy.eye(*_numpy.shape(matrices)[-2:], k=offset, dtype=bool))
    return matrices[..., rows, columns]


def einsum(*operands, **options):
    """``numpy.einsum``; a subscript repeated within one operand (``'ii->i'``) takes its diagonal first.

    >>> einsum('ii->i', [[1.0, 2.0], [3.0, 4.0]]).tolist()
    [1.0, 4.0]
    """
    if not isinstance(operands[0], str):
        return _autograd_numpy.einsum(*operands, **options)
    stand_ins = [_numpy.broadcast_to(_numpy.empty(()), _numpy.shape(operand)) for operand in operands[1:]]
    inputs, output, _ = _parse_einsum_input(operands[0], *stand_ins)
    subscripts, arrays = inputs.split(","), list(operands[1:])
    for position, letters in enumerate(subscripts):
        while len(set(letters)) < len(letters):
            letter = next(letter for letter in letters if letters.count(letter) > 1)
            first = letters.index(letter)
            second = letters.index(letter, first + 1)
            arrays[position] = diagonal(arrays[position], 0, first, second)
            letters = "".join(other for axis, other in enumerate(letters) if axis not in (first, second)) + letter
        subscripts[position] = letters
    return _autograd_numpy.einsum(",".join(subscripts) + "->" + output, *arrays, **options)
