"""Batches of tangents or cotangents: arrays with one leading batch axis, and banded batches kept small.

A batch for a value of shape ``s`` is an array of shape ``(B,) + s``: row ``b``
is one tangent (forward mode) or one cotangent (reverse mode).  A Jacobian
starts from the standard basis, the rows of the identity matrix.  As long as
only elementwise operations act on it, row ``b`` stays ``d[b] · e_b``; 1-D
slices shift those entries and sums of such batches add shifted copies, so a
chain or stencil keeps every row a few entries on a few diagonals.
:class:`Banded` keeps just those diagonals, so that the Jacobian of an
elementwise function, or the tridiagonal Hessian of a chain, costs a few
vector operations per primitive instead of one matrix operation.  The first
operation that mixes elements otherwise asks for :func:`dense`.

>>> import numpy
>>> rows = Banded({0: numpy.array([1.0, 2.0, 3.0])}, start=1, stop=3)
>>> dense(rows)
array([[0., 2., 0.],
       [0., 0., 3.]])
>>> dense(add(rows, rows.sliced(1, 3).embedded(0, 3)))
array([[2., 2., 0.],
       [0., 3., 3.]])
>>> unbroadcast(numpy.ones((2, 4, 3)), (1, 3))
array([[[4., 4., 4.]],
<BLANKLINE>
       [[4., 4., 4.]]])
"""

from __future__ import annotations

from typing import Any

import numpy


class Banded:
    """Rows ``start..stop-1`` of a banded matrix, each reshaped to ``shape``.

    ``diagonals`` maps an offset ``k`` to an array of ``shape``: its entry at
    flat position ``p`` sits in row ``b = p - k - start`` (when that row is in
    the batch).  Row ``b`` is thus ``Σ_k diagonals[k].flat[start+b+k] ·
    e_{start+b+k}``; the standard basis is ``{0: ones}``.  Keeping each
    diagonal in the value's own shape means an elementwise factor multiplies
    every diagonal as it is, with no shifting.
    """

    __slots__ = ("diagonals", "shape", "start", "stop")

    def __init__(self, diagonals: dict, start: int, stop: int):
        self.diagonals, self.start, self.stop = diagonals, start, stop
        self.shape = next(iter(diagonals.values())).shape

    @property
    def batch_size(self) -> int:
        return self.stop - self.start

    @property
    def is_diagonal(self) -> bool:
        """Whether row ``b`` is a multiple of ``e_{start+b}``, every row inside the value: a scaled identity.

        A slice can leave rows whose position lies past the (shorter) value; those rows are zero,
        and rules that index the value by row number must not take them for a scaled identity.
        """
        return set(self.diagonals) == {0} and self.stop <= self.diagonals[0].size

    def diagonal(self) -> numpy.ndarray:
        """Each row's entry at ``start + b`` (the offset-zero diagonal; zero past the value's end)."""
        result = numpy.zeros(self.batch_size, dtype=numpy.result_type(*self.diagonals.values()))
        if 0 in self.diagonals:
            entries = self.diagonals[0].reshape(-1)[self.start:self.stop]
            result[:entries.size] = entries
        return result

    def entries(self):
        """``(rows, positions, values)`` of the nonzero pattern, one triple per diagonal."""
        for offset, band in self.diagonals.items():
            size = band.size
            first = max(self.start + offset, 0)
            last = min(self.stop + offset, size)
            positions = numpy.arange(first, max(first, last))
            yield positions - offset - self.start, positions, band.reshape(-1)[positions]

    def scaled(self, factor: Any) -> "Banded":
        """Each row times ``factor`` (broadcastable to :attr:`shape`), elementwise."""
        return Banded({offset: _shaped(band * factor, self.shape) for offset, band in self.diagonals.items()},
                      self.start, self.stop)

    def reshaped(self, shape: tuple) -> "Banded":
        # C-order flat positions do not move under a reshape, so the diagonals stay diagonals.
        return Banded({offset: numpy.reshape(band, shape) for offset, band in self.diagonals.items()},
                      self.start, self.stop)

    def sliced(self, begin: int, end: int) -> "Banded":
        """Each (1-D) row's entries ``begin..end-1``: position ``p`` moves to ``p - begin``."""
        return Banded({offset - begin: band[begin:end] for offset, band in self.diagonals.items()},
                      self.start, self.stop)

    def embedded(self, begin: int, size: int) -> "Banded":
        """Each (1-D) row placed at ``begin`` in a row of ``size`` zeros: the adjoint of :meth:`sliced`."""
        diagonals = {}
        for offset, band in self.diagonals.items():
            wide = numpy.zeros(size, dtype=band.dtype)
            wide[begin:begin + band.size] = band
            diagonals[offset + begin] = wide
        return Banded(diagonals, self.start, self.stop)

    def plus(self, other: "Banded") -> "Banded":
        diagonals = dict(self.diagonals)
        for offset, band in other.diagonals.items():
            diagonals[offset] = diagonals[offset] + band if offset in diagonals else band
        return Banded(diagonals, self.start, self.stop)

    def row_sums(self) -> numpy.ndarray:
        """The sum of each row's entries: what summing the value over every axis makes of the batch."""
        sums = numpy.zeros(self.batch_size, dtype=numpy.result_type(*self.diagonals.values()))
        for rows, _, values in self.entries():
            sums[rows] += values
        return sums

    def dense(self) -> numpy.ndarray:
        size = int(numpy.prod(self.shape))
        matrix = numpy.zeros((self.batch_size, size), dtype=numpy.result_type(*self.diagonals.values()))
        for rows, positions, values in self.entries():
            matrix[rows, positions] = values
        return matrix.reshape((self.batch_size,) + self.shape)


def _shaped(array: numpy.ndarray, shape: tuple) -> numpy.ndarray:
    return array if array.shape == shape else numpy.broadcast_to(array, shape)


def identity(shape: tuple, start: int, stop: int) -> Banded:
    """Rows ``start..stop-1`` of the standard basis of arrays of ``shape``."""
    return Banded({0: numpy.ones(shape)}, start, stop)


def dense(batch: Any) -> Any:
    """The batch as a plain ``(B,) + shape`` array (tuples of batches component by component)."""
    if isinstance(batch, Banded):
        return batch.dense()
    if isinstance(batch, tuple):
        return tuple(dense(part) if part is not None else None for part in batch)
    return batch


def add(first: Any, second: Any) -> Any:
    """The sum of two batches of one value; ``None`` is a zero batch.  Never writes into either."""
    if first is None:
        return second
    if second is None:
        return first
    if isinstance(first, tuple):
        return tuple(add(a, b) for a, b in zip(first, second))
    if (isinstance(first, Banded) and isinstance(second, Banded)
            and first.start == second.start and first.shape == second.shape):
        return first.plus(second)
    return dense(first) + dense(second)


def align(batch: numpy.ndarray, ndim: int) -> numpy.ndarray:
    """Insert axes after the batch axis so that the value part has ``ndim`` axes, as broadcasting would."""
    missing = ndim - (batch.ndim - 1)
    if missing <= 0:
        return batch
    return batch.reshape(batch.shape[:1] + (1,) * missing + batch.shape[1:])


def broadcast_to(batch: numpy.ndarray, shape: tuple) -> numpy.ndarray:
    """A batch for a value of ``shape`` from one for a value that broadcasts to it."""
    target = batch.shape[:1] + tuple(shape)
    batch = align(batch, len(shape))
    return batch if batch.shape == target else numpy.broadcast_to(batch, target)


def unbroadcast(batch: numpy.ndarray, shape: tuple) -> numpy.ndarray:
    """Sum a cotangent batch down to a value of ``shape``, keeping the batch axis.

    The adjoint of broadcasting: axes that broadcasting added, or stretched
    from length one, are summed.  (autograd's own ``unbroadcast`` sums from
    axis 0, which here is the batch axis.)
    """
    shape = tuple(shape)
    extra = batch.ndim - 1 - len(shape)
    if extra > 0:
        batch = batch.sum(axis=tuple(range(1, 1 + extra)))
    stretched = tuple(axis + 1 for axis, size in enumerate(shape) if size == 1 and batch.shape[axis + 1] != 1)
    if stretched:
        batch = batch.sum(axis=stretched, keepdims=True)
    return batch
