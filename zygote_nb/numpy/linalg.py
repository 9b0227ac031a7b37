"""Traceable ``numpy.linalg``: autograd's wrappers plus the array-API functions.

NumPy 2 added to ``numpy.linalg`` the array-API names ``vector_norm``,
``matrix_norm``, ``vecdot``, ``matrix_transpose``, ``svdvals`` and aliases of
top-level functions with the matrix axes last (``matmul``, ``tensordot``,
``outer``, ``cross``, ``diagonal``, ``trace``). autograd wraps them without
derivatives; here each is a composition of differentiable functions.

>>> import zygote_nb, zygote_nb.numpy as np
>>> zygote_nb.gradient(lambda x: np.linalg.vector_norm(x), np.array([3.0, 4.0]))
(array([0.6, 0.8]),)
"""

import functools as _functools

import numpy as _numpy
from autograd.builtins import tuple as _autograd_tuple
from autograd.extend import primitive as _primitive
from autograd.tracer import getval as _getval
from autograd.tracer import isbox as _isbox
from numpy.lib.array_utils import normalize_axis_tuple as _normalize_axis_tuple

import zygote_nb.numpy as _traced
from autograd.numpy.linalg import *  # noqa: F403 (re-exported on purpose)
from autograd.numpy.linalg import svd as _autograd_svd
from zygote_nb.numpy import matrix_transpose  # noqa: F401 (same function as the top-level one)
from zygote_nb.numpy.repaired import namespace_of


def vecdot(x1, x2, /, *, axis=-1):
    """Dot product of vectors along ``axis``, conjugating ``x1`` (``numpy.linalg.vecdot``).

    >>> vecdot([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]).tolist()
    [3.0, 7.0]
    """
    return _traced.vecdot(x1, x2, axis=axis)


def _norm_of_last_axis(x, ord):
    if ord == 2:
        # Not abs(x) ** 2: its second derivative at an entry that is exactly 0 comes out 0, not 2.
        return _traced.sqrt(_traced.sum(_traced.real(x * _traced.conj(x)), axis=-1))
    magnitudes = _traced.abs(x)
    if ord == _traced.inf:
        return _traced.max(magnitudes, axis=-1)
    if ord == -_traced.inf:
        return _traced.min(magnitudes, axis=-1)
    if ord == 0:
        # A count of non-zero entries: piecewise constant, so no derivative flows.
        return _traced.sum(magnitudes != 0, axis=-1).astype(magnitudes.dtype)
    if ord == 1:
        return _traced.sum(magnitudes, axis=-1)
    return _traced.sum(magnitudes**ord, axis=-1) ** (1.0 / ord)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """The ``ord``-norm of ``x`` taken as vectors along ``axis`` (``numpy.linalg.vector_norm``).

    ``axis=None`` takes the whole array as one vector; a tuple of axes takes
    the entries along all of them as one vector.

    >>> vector_norm([[3.0, 0.0], [0.0, -4.0]], axis=1, ord=1).tolist()
    [3.0, 4.0]
    """
    x = _traced.asarray(x)
    if not _traced.issubdtype(x.dtype, _traced.inexact):
        x = x.astype(float)
    shape, ndim = _traced.shape(x), _traced.ndim(x)
    if axis is None:
        reduced = tuple(range(ndim))
    else:
        reduced = tuple(sorted(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))))
    kept = tuple(a for a in range(ndim) if a not in reduced)
    vectors = _traced.reshape(_traced.transpose(x, kept + reduced), tuple(shape[a] for a in kept) + (-1,))
    # A norm has no derivative at the zero vector; give it 0 there (as PyTorch does), not 0 * inf = NaN:
    # the norm of a stand-in vector of ones is computed, then replaced.
    zero = namespace_of(vectors).all(_getval(vectors) == 0, axis=-1)
    norms = _norm_of_last_axis(_traced.where(zero[..., None], 1.0, vectors), ord)
    norms = _traced.where(zero, 0.0, norms)
    if keepdims:
        norms = _traced.reshape(norms, tuple(1 if a in reduced else shape[a] for a in range(ndim)))
    return norms


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """The ``ord``-norm of the matrices in the last two axes (``numpy.linalg.matrix_norm``).

    ``ord`` is ``"fro"``, ``"nuc"``, ``1``, ``-1``, ``2``, ``-2``, ``inf`` or ``-inf``.

    >>> float(matrix_norm([[1.0, -2.0], [3.0, 4.0]], ord=1))
    6.0
    """
    x = _traced.asarray(x)
    if ord in ("fro", None):
        norms = vector_norm(x, axis=(-2, -1))
    elif ord == "nuc":
        norms = _traced.sum(svdvals(x), axis=-1)
    elif ord in (2, -2):
        singular_values = svdvals(x)
        norms = singular_values[..., 0] if ord == 2 else singular_values[..., -1]
    elif ord in (1, -1, _traced.inf, -_traced.inf):
        # 1-norms sum down the columns, inf-norms along the rows.
        sums = _traced.sum(_traced.abs(x), axis=-2 if ord in (1, -1) else -1)
        norms = _traced.max(sums, axis=-1) if ord > 0 else _traced.min(sums, axis=-1)
    else:
        raise ValueError(f"Invalid norm order {ord!r} for matrices.")
    if keepdims:
        norms = norms[..., None, None]
    return norms


def norm(x, ord=None, axis=None, keepdims=False):
    """``numpy.linalg.norm``: every ``ord`` NumPy accepts, for vectors and for matrices, with ``keepdims``.

    A composition of :func:`vector_norm` and :func:`matrix_norm` (autograd's
    ``norm`` has no rule for ``ord`` 1, ``inf``, ``'nuc'`` or 2 of a matrix, and a
    wrong one with ``keepdims``).

    >>> norm([[3.0, 0.0], [0.0, -4.0]], ord=1, axis=1, keepdims=True).tolist()
    [[3.0], [4.0]]
    """
    x = _traced.asarray(x)
    ndim = _traced.ndim(x)
    if axis is None and ord is None:
        return vector_norm(x, keepdims=keepdims)
    if axis is None and ndim > 2:
        raise ValueError("Improper number of dimensions to norm.")
    axes = _normalize_axis_tuple(tuple(range(ndim)) if axis is None else axis, ndim)
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        return vector_norm(x, axis=axes, keepdims=keepdims, ord=2 if ord is None else ord)
    if len(axes) != 2:
        raise ValueError("Improper number of dimensions to norm.")
    norms = matrix_norm(_traced.moveaxis(x, axes, (-2, -1)), ord="fro" if ord is None else ord)
    if keepdims:
        norms = _traced.reshape(norms, tuple(1 if a in axes else size for a, size in enumerate(_traced.shape(x))))
    return norms


def matrix_power(a, n):
    """``numpy.linalg.matrix_power``: ``n`` matrix products (of the inverse for ``n < 0``), by squaring.

    >>> matrix_power([[1.0, 1.0], [0.0, 1.0]], 3).tolist()
    [[1.0, 3.0], [0.0, 1.0]]
    """
    a = _traced.asarray(a)
    if n < 0:
        a, n = inv(a), -n  # noqa: F405 (autograd's inv)
    result = _traced.broadcast_to(_numpy.eye(_traced.shape(a)[-1]), _traced.shape(a))
    while n:
        if n % 2:
            result = _traced.matmul(result, a)
        a, n = _traced.matmul(a, a), n // 2
    return result


@_primitive
def _qr(a, mode):
    return _numpy.linalg.qr(a, mode)


def _gram_schmidt_qr(a, mode):
    """The QR factors by modified Gram-Schmidt, with the signs of LAPACK's (the derivative of ``qr``)."""
    signs = _numpy.sign(_numpy.diagonal(_numpy.linalg.qr(_getval(a), "r"), 0, -2, -1))
    columns, rows = [], []
    remaining = [a[..., :, j] for j in range(_traced.shape(a)[-1])]
    for j in range(min(_traced.shape(a)[-2:])):
        length = _traced.sqrt(_traced.sum(remaining[j] ** 2, axis=-1))
        unit = remaining[j] / length[..., None]
        columns.append(unit * signs[..., j, None])
        projections = [_traced.sum(unit * column, axis=-1) for column in remaining]
        rows.append(_traced.stack([projection * signs[..., j] if k >= j else 0.0 * projection
                                   for k, projection in enumerate(projections)], axis=-1))
        remaining = [column - projection[..., None] * unit if k > j else column
                     for k, (column, projection) in enumerate(zip(remaining, projections))]
    Q, R = _traced.stack(columns, axis=-1), _traced.stack(rows, axis=-2)
    return R if mode == "r" else _autograd_tuple((Q, R))


_traced._differentiate_as(_qr, _gram_schmidt_qr)


def qr(a, mode="reduced"):
    """``numpy.linalg.qr`` for matrices of full column rank, differentiable (autograd has no rule).

    NumPy computes the factors; the derivative is that of modified Gram-Schmidt
    with NumPy's signs, which gives the same factors. ``mode`` is ``"reduced"``
    or ``"r"``; a wide matrix's ``"reduced"`` ``Q`` is square.

    >>> Q, R = qr([[3.0, 0.0], [4.0, 1.0]])
    >>> (Q @ R).round(12).tolist()
    [[3.0, 0.0], [4.0, 1.0]]
    """
    if not _isbox(a):
        return _numpy.linalg.qr(a, mode)
    if mode not in ("reduced", "r"):
        raise NotImplementedError(f"qr(..., mode={mode!r}) has no derivative in zygote_nb: use 'reduced' or 'r'")
    if _traced.shape(a)[-2] < _traced.shape(a)[-1]:
        raise NotImplementedError("qr of a wide matrix has no derivative in zygote_nb (R is not unique): "
                                  "factor its transpose, or its first square block")
    return _qr(a, mode)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """``numpy.linalg.svd``; for square matrices, or without ``U`` and ``V``, ``full_matrices`` changes
    nothing, so autograd's rule (which refuses ``full_matrices=True``) is used as for ``False``.

    >>> svd([[3.0, 0.0], [0.0, -4.0]], compute_uv=False).tolist()
    [4.0, 3.0]
    """
    rows, columns = _traced.shape(a)[-2:]
    if not compute_uv or rows == columns:
        full_matrices = False
    if hermitian:
        return _autograd_svd(a, full_matrices, compute_uv, hermitian=hermitian)
    return _autograd_svd(a, full_matrices, compute_uv)


def eigvalsh(a, UPLO="L"):
    """Eigenvalues of a symmetric (Hermitian) matrix, ascending (``numpy.linalg.eigvalsh``).

    >>> eigvalsh([[2.0, 1.0], [1.0, 2.0]]).round(12).tolist()
    [1.0, 3.0]
    """
    return eigh(a, UPLO)[0]  # noqa: F405 (autograd's eigh)


def eigvals(a):
    """Eigenvalues of a square matrix (``numpy.linalg.eigvals``).

    >>> sorted(eigvals([[2.0, 0.0], [0.0, 3.0]]).real.tolist())
    [2.0, 3.0]
    """
    return eig(a)[0]  # noqa: F405 (autograd's eig)


def svdvals(x, /):
    """Singular values of the matrices in the last two axes, largest first.

    >>> svdvals([[3.0, 0.0], [0.0, -4.0]]).tolist()
    [4.0, 3.0]
    """
    return svd(x, compute_uv=False)


def matmul(x1, x2, /):
    """``numpy.linalg.matmul``: the same as :func:`zygote_nb.numpy.matmul`.

    >>> matmul([[1.0, 2.0]], [[3.0], [4.0]]).tolist()
    [[11.0]]
    """
    return _traced.matmul(x1, x2)


def multi_dot(arrays):
    """Chained matrix products ``arrays[0] @ arrays[1] @ ...`` (``numpy.linalg.multi_dot``).

    A 1-d first or last array acts as a row or column vector, as in NumPy.
    Unlike NumPy, the product is taken left to right, not in the cheapest order.

    >>> multi_dot([[1.0, 2.0], [[1.0, 0.0], [0.0, 2.0]], [1.0, 1.0]]).tolist()
    5.0
    """
    return _functools.reduce(_traced.dot, arrays)


def tensordot(x1, x2, /, *, axes=2):
    """``numpy.linalg.tensordot``: the same as :func:`zygote_nb.numpy.tensordot`.

    >>> float(tensordot([[1.0, 2.0]], [[3.0, 4.0]]))
    11.0
    """
    return _traced.tensordot(x1, x2, axes=axes)


def outer(x1, x2, /):
    """Outer product of two vectors (``numpy.linalg.outer``).

    >>> outer([1.0, 2.0], [3.0, 4.0]).tolist()
    [[3.0, 4.0], [6.0, 8.0]]
    """
    if _traced.ndim(x1) != 1 or _traced.ndim(x2) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return _traced.outer(x1, x2)


def cross(x1, x2, /, *, axis=-1):
    """Cross product of 3-vectors along ``axis`` (``numpy.linalg.cross``).

    >>> cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]).tolist()
    [0.0, 0.0, 1.0]
    """
    if _traced.shape(x1)[axis] != 3 or _traced.shape(x2)[axis] != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors")
    return _traced.cross(x1, x2, axis=axis)


def diagonal(x, /, *, offset=0):
    """Diagonals of the matrices in the last two axes (``numpy.linalg.diagonal``).

    >>> diagonal([[1.0, 2.0], [3.0, 4.0]], offset=1).tolist()
    [2.0]
    """
    # Fancy indexing, because autograd's rule for ``diagonal`` handles offset 0 only.
    rows, columns = _numpy.nonzero(_numpy.eye(*_traced.shape(x)[-2:], k=offset, dtype=bool))
    return _traced.asarray(x)[..., rows, columns]


def trace(x, /, *, offset=0, dtype=None):
    """Traces of the matrices in the last two axes (``numpy.linalg.trace``).

    >>> float(trace([[1.0, 2.0], [3.0, 4.0]]))
    5.0
    """
    return _traced.sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)
