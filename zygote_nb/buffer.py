"""``Buffer``: an array you may write into inside differentiated code.

Traced arrays cannot be assigned into (``x[i] = v`` would lose the gradient of
what was there).  A ``Buffer`` records each write instead, and ``copy(buf)``
turns it into an ordinary differentiable array whose gradient flows back to
the values that were written, as Zygote's ``Buffer`` does.

>>> import zygote_nb.numpy as np
>>> from copy import copy
>>> from zygote_nb.gradients import gradient
>>> def vstack(xs):
...     buf = Buffer(xs, len(xs), 5)
...     for i in range(5):
...         buf[:, i] = xs
...     return copy(buf)
>>> vstack(np.array([1, 2, 3]))
array([[1, 1, 1, 1, 1],
       [2, 2, 2, 2, 2],
       [3, 3, 3, 3, 3]])
>>> gradient(lambda x: np.sum(vstack(x)), np.array([1.0, 2.0, 3.0]))
(array([5., 5., 5.]),)

How it stays fast: a write stores the value and marks, for every position it
covers, which write owns it now (``_writer``) and which element of the written
value lands there (``_source``).  Reading, or copying, is then *one*
primitive over the live writes, whose derivative rule gathers each write's
cotangent out of the output's cotangent in one indexing step.  Positions that
a later write overwrote belong to the later write, so only the last writer
gets gradient.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import autograd.numpy as traced_numpy
import numpy
from autograd.extend import defjvp_argnums, defvjp_argnums, primitive
from autograd.tracer import getval, isbox

from . import array_library

_FIRST_VALUE = 2  # argument position of the first written value in _assembled(snapshot, plan, *values)


class _Route(NamedTuple):
    """How one live write reaches a read.

    ``output_positions[i]`` (flat, in the read) holds element ``sources[i]``
    of the written value broadcast to ``broadcast_shape``; ``gather`` is the
    inverse map, with the read's size standing for "overwritten since".
    """

    output_positions: numpy.ndarray
    sources: numpy.ndarray
    gather: numpy.ndarray
    broadcast_shape: tuple
    value_shape: tuple


class _ReadPlan(NamedTuple):
    output_shape: tuple
    routes: list


@primitive
def _assembled(snapshot, plan, *values):
    """The read's values; the written ``values`` are arguments only so that the trace links them to it."""
    return snapshot


def _unbroadcast(cotangent, shape: tuple):
    """Sum ``cotangent`` over the axes along which a value of ``shape`` was broadcast."""
    while traced_numpy.ndim(cotangent) > len(shape):
        cotangent = traced_numpy.sum(cotangent, axis=0)
    for axis, length in enumerate(shape[len(shape) - traced_numpy.ndim(cotangent):]):
        if length == 1 and traced_numpy.shape(cotangent)[axis] != 1:
            cotangent = traced_numpy.sum(cotangent, axis=axis, keepdims=True)
    return traced_numpy.reshape(cotangent, shape)


def _written_value_cotangents(argnums, ans, args, kwargs):
    plan = args[1]

    def vjp(cotangent):
        # A trailing zero: where the gather index of an overwritten element points.
        padded = traced_numpy.concatenate([traced_numpy.ravel(cotangent), traced_numpy.zeros_like(cotangent, shape=1)])
        cotangents = []
        for argnum in argnums:
            route = plan.routes[argnum - _FIRST_VALUE]
            per_element = traced_numpy.reshape(padded[route.gather], route.broadcast_shape)
            cotangents.append(_unbroadcast(per_element, route.value_shape))
        return tuple(cotangents)
    return vjp


def _assembled_tangent(argnums, tangents, ans, args, kwargs):
    plan = args[1]
    size = int(numpy.prod(plan.output_shape))
    pieces, assemble = [], numpy.full(size, 0)
    offset = 1  # slot 0 holds the zero tangent of positions no traced write reaches
    for argnum, tangent in zip(argnums, tangents):
        route = plan.routes[argnum - _FIRST_VALUE]
        spread = traced_numpy.ravel(traced_numpy.broadcast_to(tangent, route.broadcast_shape))
        pieces.append(spread[route.sources])
        assemble[route.output_positions] = offset + numpy.arange(route.sources.size)
        offset += route.sources.size
    zero = traced_numpy.zeros_like(ans, shape=1, dtype=numpy.result_type(ans, float))
    flat = traced_numpy.concatenate([zero] + pieces)[assemble]
    return traced_numpy.reshape(flat, plan.output_shape)


defvjp_argnums(_assembled, _written_value_cotangents)
defjvp_argnums(_assembled, _assembled_tangent)


def _refuse_arithmetic(self, *args, **kwargs):
    raise TypeError("a Buffer is not an array and takes no part in arithmetic: "
                    "copy it first (y = copy(buf), or buf.copy()) and compute with the copy")


class Buffer:
    """A writable stand-in for ``np.empty_like(x)`` (of a new ``shape`` if given) inside differentiated code.

    ``buf[index] = value`` accepts everything NumPy assignment does (ints,
    slices, tuples of them, boolean and integer index arrays, broadcasting);
    ``buf[index]`` reads the current contents, differentiably.  Entries never
    written read as zero; a buffer made from integers holds floats once a float
    is written.  When writes overlap the last one wins, and only it receives
    gradient.  ``copy(buf)`` (``copy.copy``) or ``buf.copy()`` returns
    an ordinary array and freezes the buffer: a later write raises an error.
    A Buffer is not an ndarray: arithmetic on it raises ``TypeError``.

    >>> import numpy
    >>> buf = Buffer(numpy.zeros(2), 3, 2)
    >>> buf.shape, buf.dtype, buf.ndim, len(buf)
    ((3, 2), dtype('float64'), 2, 3)
    >>> buf[0] = [1.0, 2.0]
    >>> buf[1:] = buf[0] * 10
    >>> buf.copy()
    array([[ 1.,  2.],
           [10., 20.],
           [10., 20.]])
    >>> buf[0] = 0.0  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: this Buffer was frozen by copy(buf) and cannot be written any more: ...
    """

    __slots__ = ("_data", "_positions", "_writer", "_source", "_writes", "_frozen")

    def __init__(self, x: Any, *shape: Any):
        raw = getval(x)
        raw = raw if array_library.is_array(raw) else numpy.asarray(raw)  # a list or a number, as np.empty_like takes
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = tuple(int(length) for length in shape) if shape else numpy.shape(raw)
        self._data = array_library.array_namespace(raw).zeros(shape, dtype=numpy.result_type(raw))
        self._positions = self._writer = self._source = None  # made at the first traced write
        self._writes: list = []
        self._frozen = False

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self) -> numpy.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        state = "frozen" if self._frozen else f"{len(self._writes)} traced writes"
        return f"Buffer(shape={self.shape}, dtype={self.dtype}, {state})"

    def __setitem__(self, index: Any, value: Any) -> None:
        if self._frozen:
            raise ValueError("this Buffer was frozen by copy(buf) and cannot be written any more: "
                             "finish writing before copying, or start a new Buffer")
        raw = getval(value)
        if isinstance(raw, (list, tuple)):
            raw = numpy.asarray(raw)  # numpy.result_type would read a list as a dtype description
        if self._data.dtype.kind not in "fc" and numpy.result_type(raw).kind in "fc":
            # Rather than truncate: a buffer made from integers holds floats once it receives one.
            self._data = self._data.astype(numpy.result_type(self._data, raw))
        self._data[index] = raw
        if self._positions is None:
            if not isbox(value):
                return
            self._positions = numpy.arange(self._data.size).reshape(self._data.shape)
            self._writer = numpy.full(self._data.size, -1)
            self._source = numpy.zeros(self._data.size, dtype=numpy.intp)
        region = self._positions[index]
        covered = region.ravel()
        if isbox(value):
            self._writer[covered] = len(self._writes)
            self._source[covered] = numpy.arange(covered.size)
            self._writes.append((value, region.shape))
        else:
            self._writer[covered] = -1

    def __getitem__(self, index: Any) -> Any:
        snapshot = self._data[index]
        snapshot = snapshot.copy() if array_library.is_array(snapshot) else snapshot
        if self._positions is None:
            return snapshot
        return self._read(snapshot, self._positions[index])

    def copy(self) -> Any:
        """Freeze the buffer and return its contents as a differentiable array (``copy.copy(buf)`` does the same).

        >>> import numpy
        >>> buf = Buffer(numpy.zeros(2))
        >>> buf[1] = 4.0
        >>> buf.copy()
        array([0., 4.])
        """
        self._frozen = True
        return self[...]

    __copy__ = copy

    def _read(self, snapshot: Any, positions: numpy.ndarray) -> Any:
        """``snapshot`` as one primitive over the writes that still own some of ``positions``."""
        positions = positions.ravel()
        writers = self._writer[positions]
        # Group the read's positions by owning write with one sort, not one scan per write.
        order = numpy.argsort(writers, kind="stable")
        live, starts = numpy.unique(writers[order], return_index=True)
        ends = numpy.append(starts[1:], positions.size)
        sources_in_order = self._source[positions[order]]
        routes, values = [], []
        for writer, start, end in zip(live.tolist(), starts.tolist(), ends.tolist()):
            if writer < 0:
                continue
            value, broadcast_shape = self._writes[writer]
            output_positions, sources = order[start:end], sources_in_order[start:end]
            gather = numpy.full(int(numpy.prod(broadcast_shape)), positions.size)
            gather[sources] = output_positions
            routes.append(_Route(output_positions, sources, gather, broadcast_shape, numpy.shape(getval(value))))
            values.append(value)
        if not values:
            return snapshot
        return _assembled(snapshot, _ReadPlan(numpy.shape(snapshot), routes), *values)

    # Arithmetic, NumPy functions and conversion to an array all ask for a copy first.
    __array_ufunc__ = _refuse_arithmetic
    __array_function__ = _refuse_arithmetic
    __array__ = _refuse_arithmetic


for _operator in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
                  "lshift", "rshift", "divmod"):
    for _name in (f"__{_operator}__", f"__r{_operator}__", f"__i{_operator}__"):
        setattr(Buffer, _name, _refuse_arithmetic)
for _name in ("__neg__", "__pos__", "__abs__", "__invert__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(Buffer, _name, _refuse_arithmetic)
