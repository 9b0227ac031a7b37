"""``forwarddiff``: differentiate one call inside a reverse pass in forward mode.

``forwarddiff(f, x)`` returns ``f(x)``.  When the call is traced, the
Jacobian ``J`` of ``f`` at ``x`` is built column by column from forward-mode
products (:func:`~zygote_nb.forward.jvp`, one basis tangent per column and
per forward pass), and the backward pass pulls a
cotangent ``g`` back as ``g·J``.  Forward mode costs time linear in
``x.size`` and keeps no trace of ``f``'s intermediates, which suits small
``x`` and long computations.  As in Zygote, ``J`` is built in the forward
pass, and values that ``f`` closes over get no gradient.

>>> from zygote_nb.gradients import gradient
>>> def power(x, n):
...     result = 1.0
...     for _ in range(n):
...         result = result * x
...     return result
>>> gradient(lambda x: forwarddiff(lambda x: power(x, 2), x), 5.0)
(10.0,)
>>> gradient(lambda a, b: forwarddiff(lambda a: a * b, a), 2.0, 3.0)
(3.0, None)
"""

from __future__ import annotations

from typing import Any, Callable

import autograd.numpy as traced_numpy
import numpy
from autograd.extend import defjvp, defvjp, primitive
from autograd.tracer import getval, isbox, trace_stack

from . import array_library
from .forward import jvp

DEFAULT_CHUNK_THRESHOLD = 12  # ForwardDiff.jl's DEFAULT_CHUNK_THRESHOLD


def _below_level(value: Any, level: int) -> Any:
    """``value`` without the boxes of trace ``level`` and above: the traces that forwarddiff cuts off."""
    while isbox(value) and value._trace >= level:
        value = value._value
    return value


def _jacobian_columns(f: Callable, x: Any, level: int) -> list:
    """The columns ``∂f(x).ravel()/∂x.ravel()[j]``, one forward pass per basis tangent."""
    raw = getval(x)
    namespace, size, shape = array_library.array_namespace(raw), numpy.size(raw), numpy.shape(raw)
    columns = []
    for index in range(size):
        basis = namespace.zeros(size)
        basis[index] = 1.0
        _, column = jvp(f, x, basis.reshape(shape) if shape else basis[0])
        columns.append(traced_numpy.ravel(_below_level(column, level)))
    return columns


@primitive
def _forward_mode_call(x, f):
    return getval(f(x))


def _cotangent_times_jacobian(ans, x, f):
    # Built now, in the forward pass, while the caller's trace is still open: f's closed-over
    # values of that trace (level `top`) are then told apart from the new forward trace.
    columns = _jacobian_columns(f, x, trace_stack.top)
    J = traced_numpy.stack(columns, axis=1)

    shape = numpy.shape(getval(x))

    def vjp(cotangent):
        pulled = traced_numpy.dot(traced_numpy.ravel(cotangent), J)
        return traced_numpy.reshape(pulled, shape) if shape else pulled[0]
    return vjp


def _jacobian_times_tangent(tangent, ans, x, f):
    _, pushed = jvp(f, x, tangent)
    return traced_numpy.reshape(_below_level(pushed, trace_stack.top), numpy.shape(ans))


defvjp(_forward_mode_call, _cotangent_times_jacobian)
defjvp(_forward_mode_call, _jacobian_times_tangent)


def forwarddiff(f: Callable, x: Any, chunk_threshold: int = DEFAULT_CHUNK_THRESHOLD) -> Any:
    """Return ``f(x)``, differentiated in forward mode when a reverse pass traces this call.

    ``x`` is a number or an array (pack several inputs with ``np.stack`` to
    differentiate with respect to all of them); ``f(x)`` a number or an array.
    ``chunk_threshold`` bounds how many tangents one forward pass through ``f``
    may carry (ForwardDiff.jl's chunk size); this implementation carries one,
    which stays within any threshold.  Values ``f`` closes over get no gradient.

    >>> import zygote_nb.numpy as np
    >>> from zygote_nb.gradients import gradient
    >>> gradient(lambda ab: forwarddiff(lambda ab: ab[0] * ab[1], ab), np.array([2.0, 3.0]))
    (array([3., 2.]),)
    """
    if not callable(f):
        raise TypeError(f"forwarddiff(f, x) needs a function as its first argument, got {type(getval(f)).__name__}: "
                        f"pass the function first, e.g. forwarddiff(lambda x: x**2, x)")
    raw = getval(x)
    if isinstance(raw, (bool, numpy.bool_)) or not (isinstance(raw, (int, float, numpy.generic)) or array_library.is_array(raw)):
        raise TypeError(f"forwarddiff(f, x) needs x to be a number or an array, got {type(raw).__name__}: "
                        f"pack several values into one array, e.g. forwarddiff(f, np.stack([a, b]))")
    if int(chunk_threshold) < 1:
        raise ValueError(f"forwarddiff needs chunk_threshold >= 1, got {chunk_threshold}: "
                         f"pass a positive integer, e.g. chunk_threshold={DEFAULT_CHUNK_THRESHOLD}")
    return _forward_mode_call(x, f)
