"""Which traces are zygote_nb's own, integers traced inside them, and autograd's stuck trace level repaired.

autograd knows nothing of zygote_nb, so zygote_nb counts, per thread, how many
of its own traces (or backward passes) are running; every other patch of this
package consults that count so that plain autograd calls see autograd unchanged.
"""

from __future__ import annotations

import operator
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

import numpy
from autograd.core import JVPNode, VJPNode, VSpace
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.numpy.numpy_vspaces import ArrayVSpace
from autograd.tracer import Box, TraceStack, notrace_primitives

INTEGER_TYPES = (int, numpy.int8, numpy.int16, numpy.int32, numpy.int64,
                 numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64)


# ----- A failed trace no longer leaves its level behind (for everyone) -----


@contextmanager
def _new_trace(stack: TraceStack) -> Iterator[int]:
    stack.top += 1
    try:
        yield stack.top
    finally:
        stack.top -= 1


# autograd's own new_trace forgets to pop its level when the traced function raises, so after one
# failed call every later trace would look nested inside a differentiation that is not running.
TraceStack.new_trace = _new_trace


# ----- zygote_nb's own traces -----


class _OwnTraces(threading.local):
    """How many of zygote_nb's traces or backward passes are running in this thread."""

    depth = 0


_own = _OwnTraces()


def inside_own_trace() -> bool:
    """Whether this thread is running one of zygote_nb's traces (forward or backward)."""
    return _own.depth > 0


def enter_own_trace() -> None:
    """Start a stretch of zygote_nb's tracing in this thread (pair with :func:`leave_own_trace`)."""
    _own.depth += 1


def leave_own_trace() -> None:
    """End the stretch that :func:`enter_own_trace` started."""
    _own.depth -= 1


@contextmanager
def own_traces() -> Iterator[None]:
    """A block in which zygote_nb's rules for integers and NumPy calls apply (nests; per thread).

    >>> with own_traces():
    ...     inside_own_trace()
    True
    >>> inside_own_trace()
    False
    """
    _own.depth += 1
    try:
        yield
    finally:
        _own.depth -= 1


# ----- Integers, traced only inside zygote_nb's traces -----


class IndexBox(ArrayBox):
    """A traced integer: differentiable as a float, and still usable as an index, axis or shape."""

    __slots__ = ()

    def __index__(self) -> int:
        return operator.index(self._value)

    def __int__(self) -> int:
        return int(self._value)


def _box_integer(value: Any, trace: int, node: Any) -> IndexBox:
    if not _own.depth:
        # autograd's new_box turns this KeyError into its own "Can't differentiate w.r.t. type" error.
        raise KeyError(type(value))
    return IndexBox(value, trace, node)


def _integer_vector_space(value: Any) -> ArrayVSpace:
    if not _own.depth:
        raise KeyError(type(value))  # autograd's vspace then raises its own TypeError
    return ArrayVSpace(numpy.float64(value))  # the gradient space of an integer is the reals


Box.types.add(IndexBox)
Box.type_mappings[IndexBox] = IndexBox
for _integer_type in INTEGER_TYPES:
    Box.type_mappings[_integer_type] = _box_integer
    VSpace.mappings[_integer_type] = _integer_vector_space


# ----- Node types: which primitives they leave untraced -----


def register_node_type(node_type: type) -> None:
    """Record ``node_type`` nodes as autograd records its base (``VJPNode`` or ``JVPNode``): comparisons and the
    like untraced.

    The same set object is shared, so that later registrations count too.
    """
    base = JVPNode if issubclass(node_type, JVPNode) else VJPNode
    notrace_primitives[node_type] = notrace_primitives[base]


def register_untraced(node_type: type, functions: Iterable[Callable]) -> None:
    """Have ``functions`` (primitives) return plain values in traces of ``node_type`` nodes, as autograd's
    ``notrace_primitives`` does for the comparisons in its own traces."""
    notrace_primitives[node_type].update(functions)
