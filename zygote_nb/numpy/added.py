"""NumPy functions that autograd wraps without a derivative, written in differentiable ones.

The NaN-ignoring reductions, ``median``, ``percentile`` and ``quantile`` (linear
interpolation), ``ptp``, ``take_along_axis``, ``trapezoid``, ``cov``, ``corrcoef``,
``convolve``, ``correlate``, ``diagflat``, ``broadcast_arrays``, ``meshgrid``,
``vander``; and ``kron`` and ``diag``, whose autograd rules are wrong for arrays
of more than two axes and for non-square matrices. Each is a
composition, so every way of differentiating reaches it (see
:mod:`zygote_nb.numpy.repaired`). NumPy computes the same values.

The NaN-ignoring functions give the NaN entries no gradient. A NaN that an
earlier operation made from the input still reaches that operation's rule as
``0 * NaN`` (as in JAX): ignore NaNs where they enter.

>>> import zygote_nb.numpy as np
>>> from autograd import grad
>>> data = np.array([1.0, np.nan, 3.0])
>>> grad(lambda x: np.nansum(x * 2.0 + data))(np.ones(3))
array([2., 0., 2.])
"""

import numpy as _numpy
from autograd import numpy as _autograd_numpy
from autograd.tracer import getval as _getval
from numpy.lib.array_utils import normalize_axis_index as _normalize_axis_index

from .repaired import REDUCTIONS as _REDUCTIONS
from .repaired import as_array, namespace_of, diagonal, flip, sort, where

_sum, _mean = _REDUCTIONS["sum"], _REDUCTIONS["mean"]


def _without_nan(a, fill):
    a = as_array(a)
    missing = namespace_of(a).isnan(_getval(a))
    return where(missing, fill, a), ~missing


def nansum(a, axis=None, dtype=None, out=None, keepdims=False):
    """``numpy.nansum``: NaNs count as zero (and get no gradient).

    >>> float(nansum([1.0, float("nan"), 2.0]))
    3.0
    """
    return _sum(_without_nan(a, 0.0)[0], axis, dtype=dtype, keepdims=keepdims)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False):
    """``numpy.nanprod``: NaNs count as one.

    >>> float(nanprod([2.0, float("nan"), 3.0]))
    6.0
    """
    return _REDUCTIONS["prod"](_without_nan(a, 1.0)[0], axis, dtype=dtype, keepdims=keepdims)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False):
    """``numpy.nanmean``: the mean of the entries that are not NaN.

    >>> float(nanmean([1.0, float("nan"), 2.0]))
    1.5
    """
    filled, present = _without_nan(a, 0.0)
    return _sum(filled, axis, keepdims=keepdims) / _numpy.sum(present, axis=axis, keepdims=keepdims)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """``numpy.nanvar``: the variance of the entries that are not NaN.

    >>> float(nanvar([1.0, float("nan"), 3.0]))
    1.0
    """
    filled, present = _without_nan(a, 0.0)
    centred = where(present, filled - nanmean(a, axis, keepdims=True), 0.0)
    count = _numpy.sum(present, axis=axis, keepdims=keepdims)
    return _autograd_numpy.real(_sum(centred * _autograd_numpy.conj(centred), axis, keepdims=keepdims)) / (count - ddof)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """``numpy.nanstd``: the square root of :func:`nanvar`.

    >>> float(nanstd([1.0, float("nan"), 3.0]))
    1.0
    """
    return _autograd_numpy.sqrt(nanvar(a, axis, ddof=ddof, keepdims=keepdims))


def nanmax(a, axis=None, out=None, keepdims=False):
    """``numpy.nanmax``: the largest entry that is not NaN.

    >>> float(nanmax([1.0, float("nan"), 2.0]))
    2.0
    """
    return _REDUCTIONS["max"](_without_nan(a, -_numpy.inf)[0], axis, keepdims=keepdims)


def nanmin(a, axis=None, out=None, keepdims=False):
    """``numpy.nanmin``: the smallest entry that is not NaN.

    >>> float(nanmin([1.0, float("nan"), 2.0]))
    1.0
    """
    return _REDUCTIONS["min"](_without_nan(a, _numpy.inf)[0], axis, keepdims=keepdims)


def ptp(a, axis=None, out=None, keepdims=False):
    """``numpy.ptp``: the range, maximum minus minimum.

    >>> float(ptp([1.0, 4.0, 2.0]))
    3.0
    """
    return _REDUCTIONS["max"](a, axis, keepdims=keepdims) - _REDUCTIONS["min"](a, axis, keepdims=keepdims)


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    """``numpy.quantile`` with the default ``"linear"`` method, as sorting and interpolating.

    >>> quantile([4.0, 1.0, 2.0, 3.0], 0.5).tolist()
    2.5
    """
    if method != "linear":
        raise NotImplementedError(f"quantile(..., method={method!r}) has no derivative in zygote_nb: use 'linear'")
    a = as_array(a)
    if axis is None:
        a, axis, kept_shape = _autograd_numpy.ravel(a), 0, (1,) * _numpy.ndim(a)
    else:
        axis = _normalize_axis_index(axis, _numpy.ndim(a))
        kept_shape = tuple(1 if index == axis else size for index, size in enumerate(_numpy.shape(a)))
    ordered = _autograd_numpy.moveaxis(sort(a, axis=axis), axis, -1)
    position = _numpy.asarray(q, dtype=float) * (_numpy.shape(ordered)[-1] - 1)
    below = _numpy.floor(position).astype(int)
    above = _numpy.minimum(below + 1, _numpy.shape(ordered)[-1] - 1)
    fraction = position - below
    result = ordered[..., below] * (1.0 - fraction) + ordered[..., above] * fraction
    result = _autograd_numpy.moveaxis(result, -1, 0) if _numpy.ndim(q) else result
    if keepdims:
        result = _autograd_numpy.reshape(result, _numpy.shape(q) + kept_shape)
    return result


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    """``numpy.percentile``: :func:`quantile` with ``q`` in percent.

    >>> percentile([4.0, 1.0, 2.0, 3.0], 50).tolist()
    2.5
    """
    return quantile(a, _numpy.asarray(q) / 100.0, axis, method=method, keepdims=keepdims)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """``numpy.median``: the 0.5 quantile.

    >>> median([4.0, 1.0, 3.0]).tolist()
    3.0
    """
    return quantile(a, 0.5, axis, keepdims=keepdims)


def take_along_axis(arr, indices, axis=-1):
    """``numpy.take_along_axis`` as integer indexing.

    >>> take_along_axis([[3.0, 1.0], [2.0, 4.0]], [[1], [0]], axis=1).tolist()
    [[1.0], [2.0]]
    """
    arr = as_array(arr)
    if axis is None:
        arr, axis = _autograd_numpy.ravel(arr), 0
    axis = _normalize_axis_index(axis, _numpy.ndim(arr))
    index = list(_numpy.indices(_numpy.shape(indices), sparse=True))
    index[axis] = _numpy.asarray(indices)
    return arr[tuple(index)]


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """``numpy.trapezoid``: the trapezoidal rule along ``axis``.

    >>> float(trapezoid([1.0, 2.0, 3.0]))
    4.0
    """
    y = _autograd_numpy.moveaxis(as_array(y), axis, -1)
    widths = dx if x is None else _autograd_numpy.diff(x, axis=-1)
    return _sum(widths * (y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)


def cov(m, y=None, rowvar=True, bias=False, ddof=None):
    """``numpy.cov`` without weights: each row (each column with ``rowvar=False``) a variable.

    >>> cov([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0]]).tolist()
    [[1.0, 2.5], [2.5, 6.333333333333333]]
    """
    m = _autograd_numpy.atleast_2d(as_array(m))
    if not rowvar:
        m = _autograd_numpy.transpose(m)
    if y is not None:
        y = _autograd_numpy.atleast_2d(as_array(y))
        m = _autograd_numpy.concatenate([m, y if rowvar else _autograd_numpy.transpose(y)], axis=0)
    ddof = (0 if bias else 1) if ddof is None else ddof
    centred = m - _mean(m, axis=1, keepdims=True)
    result = _autograd_numpy.dot(centred, _autograd_numpy.conj(_autograd_numpy.transpose(centred)))
    result = result / (_numpy.shape(m)[1] - ddof)
    return _autograd_numpy.squeeze(result) if _numpy.shape(m)[0] == 1 else result


def corrcoef(x, y=None, rowvar=True):
    """``numpy.corrcoef``: the covariance scaled to unit diagonal.

    >>> corrcoef([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]).round(12).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    covariance = cov(x, y, rowvar)
    if _numpy.ndim(covariance) == 0:
        return covariance / covariance
    scale = _autograd_numpy.sqrt(_autograd_numpy.real(diagonal(covariance)))
    return covariance / scale[:, None] / scale[None, :]


def correlate(a, v, mode="valid"):
    """``numpy.correlate`` of two vectors: ``c[k] = sum_n a[n + k] * conj(v[n])``, as integer indexing.

    >>> correlate([1.0, 2.0, 3.0], [0.0, 1.0], mode="full").tolist()
    [1.0, 2.0, 3.0, 0.0]
    """
    a, v = as_array(a), as_array(v)
    length_a, length_v = _numpy.size(a), _numpy.size(v)
    zeros = namespace_of(a).zeros(length_v - 1)
    padded = _autograd_numpy.concatenate([zeros, a, zeros])
    windows = _numpy.arange(length_a + length_v - 1)[:, None] + _numpy.arange(length_v)[None, :]
    full = _autograd_numpy.dot(padded[windows], _autograd_numpy.conj(v))
    if mode == "full":
        return full
    # Where NumPy's "valid" and "same" outputs start within the full one (NumPy swaps a shorter a with v).
    if mode == "valid":
        start, length = min(length_a, length_v) - 1, abs(length_a - length_v) + 1
    else:
        start = (length_v - 1) // 2 if length_a >= length_v else length_a // 2
        length = max(length_a, length_v)
    return full[start:start + length]


def convolve(a, v, mode="full"):
    """``numpy.convolve`` of two vectors: :func:`correlate` with ``v`` reversed.

    >>> convolve([1.0, 2.0], [1.0, 1.0]).tolist()
    [1.0, 3.0, 2.0]
    """
    if _numpy.size(v) > _numpy.size(a):
        a, v = v, a  # as NumPy does: it changes which entries "same" keeps
    return correlate(a, _autograd_numpy.conj(flip(v, axis=0)), mode)


def kron(a, b):
    """``numpy.kron``: every entry of ``a`` times a copy of ``b``, as broadcasting and a reshape.

    >>> kron([1.0, 2.0], [[1.0], [3.0]]).tolist()
    [[1.0, 2.0], [3.0, 6.0]]
    """
    ndim = max(_numpy.ndim(a), _numpy.ndim(b))
    a_shape = (1,) * (ndim - _numpy.ndim(a)) + _numpy.shape(a)
    b_shape = (1,) * (ndim - _numpy.ndim(b)) + _numpy.shape(b)
    spread_a = _autograd_numpy.reshape(a, tuple(size for axis in a_shape for size in (axis, 1)))
    spread_b = _autograd_numpy.reshape(b, tuple(size for axis in b_shape for size in (1, axis)))
    return _autograd_numpy.reshape(spread_a * spread_b, tuple(m * n for m, n in zip(a_shape, b_shape)))


def diag(v, k=0):
    """``numpy.diag``: a matrix's ``k``-th diagonal, or a matrix with the vector ``v`` there.

    >>> diag([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], 1).tolist()
    [2.0, 6.0]
    """
    if _numpy.ndim(v) == 2:
        return diagonal(v, k)
    if _numpy.ndim(v) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    return diagflat(v, k)


def diagflat(v, k=0):
    """``numpy.diagflat``: the flattened ``v`` on the ``k``-th diagonal of a square matrix.

    >>> diagflat([[1.0, 2.0]]).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    values = _autograd_numpy.ravel(v)
    size = _numpy.size(values) + abs(k)
    rows, columns = _numpy.nonzero(_numpy.eye(size, k=k, dtype=bool))
    positions = _numpy.full(size * size, _numpy.size(values))
    positions[rows * size + columns] = _numpy.arange(_numpy.size(values))
    padded = _autograd_numpy.concatenate([values, namespace_of(values).zeros(1, dtype=_getval(values).dtype)])
    return _autograd_numpy.reshape(padded[positions], (size, size))


def broadcast_arrays(*args, subok=False):
    """``numpy.broadcast_arrays``: every argument broadcast to their common shape.

    >>> [a.shape for a in broadcast_arrays([1.0, 2.0], [[1.0], [2.0]])]
    [(2, 2), (2, 2)]
    """
    from .repaired import broadcast_to

    shape = _numpy.broadcast_shapes(*(_numpy.shape(arg) for arg in args))
    return tuple(broadcast_to(arg, shape) for arg in args)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """``numpy.meshgrid``: coordinate arrays from coordinate vectors.

    >>> [grid.tolist() for grid in meshgrid([1.0, 2.0], [3.0])]
    [[[1.0, 2.0]], [[3.0, 3.0]]]
    """
    ndim = len(xi)
    grids = []
    for position, vector in enumerate(xi):
        shape = [1] * ndim
        shape[position] = -1
        grids.append(_autograd_numpy.reshape(vector, tuple(shape)))
    if indexing == "xy" and ndim > 1:
        grids = [_autograd_numpy.swapaxes(grid, 0, 1) for grid in grids]
    return tuple(grids) if sparse else broadcast_arrays(*grids)


def vander(x, N=None, increasing=False):
    """``numpy.vander``: the columns are powers of ``x``, highest first unless ``increasing``.

    >>> vander([2.0, 3.0], 3).tolist()
    [[4.0, 2.0, 1.0], [9.0, 3.0, 1.0]]
    """
    N = _numpy.size(x) if N is None else N
    powers = namespace_of(x).arange(N) if increasing else namespace_of(x).arange(N - 1, -1, -1)
    return _autograd_numpy.reshape(x, (-1, 1)) ** powers
