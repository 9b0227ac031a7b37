"""Batches of tangents or cotangents: arrays with one leading batch axis, and the identity kept small.

A batch for a value of shape ``s`` is an array of shape ``(B,) + s``: row ``b``
is one tangent (forward mode) or one cotangent (reverse mode).  A Jacobian
starts from the standard basis, the rows of the identity matrix; as long as
only elementwise operations act on it, row ``b`` stays ``d[b] · e_b`` for some
vector ``d``.  :class:`ScaledIdentity` keeps just ``d``, so that the Jacobian
of an elementwise function costs one vector operation per primitive instead
of one matrix operation.  The first operation that mixes elements asks for
:func:`dense`.

>>> import numpy
>>> rows = ScaledIdentity(numpy.array([1.0, 2.0, 3.0]), start=1, stop=3)
>>> dense(rows)
array([[0., 2., 0.],
       [0., 0., 3.]])
>>> unbroadcast(numpy.ones((2, 4, 3)), (1, 3))
array([[[4., 4., 4.]],
<BLANKLINE>
       [[4., 4., 4.]]])
"""

from __future__ import annotations

from typing import Any

import numpy


class ScaledIdentity:
    """Rows ``start..stop-1`` of ``diag(scale.ravel())``, each reshaped to ``scale.shape``.

    Row ``b`` of the batch is ``scale.flat[start + b]`` times the basis vector
    ``e_{start+b}``: the standard basis scaled elementwise.
    """

    __slots__ = ("scale", "start", "stop")

    def __init__(self, scale: numpy.ndarray, start: int, stop: int):
        self.scale, self.start, self.stop = scale, start, stop

    @property
    def shape(self) -> tuple:
        return self.scale.shape

    @property
    def batch_size(self) -> int:
        return self.stop - self.start

    def diagonal(self) -> numpy.ndarray:
        """The nonzero entry of each row: ``scale.flat[start:stop]``."""
        return self.scale.reshape(-1)[self.start:self.stop]

    def scaled(self, factor: Any) -> "ScaledIdentity":
        """Each row times ``factor`` (broadcastable to :attr:`shape`), elementwise."""
        scale = self.scale * factor
        if scale.shape != self.shape:
            scale = numpy.broadcast_to(scale, self.shape)
        return ScaledIdentity(scale, self.start, self.stop)

    def reshaped(self, shape: tuple) -> "ScaledIdentity":
        # C-order flat positions do not move under a reshape, so the rows stay basis vectors.
        return ScaledIdentity(self.scale.reshape(shape), self.start, self.stop)

    def dense(self) -> numpy.ndarray:
        rows = numpy.zeros((self.batch_size, self.scale.size), dtype=self.scale.dtype)
        rows[numpy.arange(self.batch_size), numpy.arange(self.start, self.stop)] = self.diagonal()
        return rows.reshape((self.batch_size,) + self.shape)


def identity(shape: tuple, start: int, stop: int) -> ScaledIdentity:
    """Rows ``start..stop-1`` of the standard basis of arrays of ``shape``."""
    return ScaledIdentity(numpy.ones(shape), start, stop)


def dense(batch: Any) -> Any:
    """The batch as a plain ``(B,) + shape`` array (tuples of batches component by component)."""
    if isinstance(batch, ScaledIdentity):
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
    if (isinstance(first, ScaledIdentity) and isinstance(second, ScaledIdentity)
            and first.start == second.start and first.shape == second.shape):
        return ScaledIdentity(first.scale + second.scale, first.start, first.stop)
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
