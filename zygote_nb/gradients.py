"""``gradient`` and ``withgradient``: :func:`~zygote_nb.pullback.pullback` seeded with one.

>>> import zygote_nb.numpy as np
>>> gradient(lambda a, b: np.sum(a * b), np.array([1.0, 2.0]), 3)
(array([3., 3.]), 3.0)
>>> withgradient(lambda x: (np.sum(1 / x), 1 / x), np.array([1.0, 2.0, 4.0]))
WithGradient(val=(1.75, array([1.  , 0.5 , 0.25])), grad=(array([-1.    , -0.25  , -0.0625]),))
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from . import validation
from .errors import explained_errors
from .params import Params
from .pullback import pullback
from .user_warnings import warnings_at_operations

# What to do when the differentiated output is not one real number.
ARRAY_OUTPUT_FIX = "use jacobian(f, ...) for an array output, or reduce it (np.sum)"


class WithGradient(NamedTuple):
    """``(val, grad)``: the function's whole output, and the gradient tuple of its objective."""

    val: Any
    grad: Any


def objective_cotangent(value: Any) -> tuple[Any, Any]:
    """The objective (first element of a tuple/list/dict output) and the cotangent that seeds it."""
    if isinstance(value, dict):
        first = next(iter(value))
        return value[first], {key: (1.0 if key == first else None) for key in value}
    if isinstance(value, (tuple, list)):
        seed = [1.0] + [None] * (len(value) - 1)
        return value[0], type(value)(*seed) if hasattr(type(value), "_fields") else type(value)(seed)
    return value, 1.0


def withgradient(f: Callable, *args: Any) -> WithGradient:
    """Return ``(val, grad)``: ``f(*args)`` and its gradient with respect to each argument.

    If ``f`` returns a tuple, list, dict or namedtuple, ``grad`` is the gradient
    of its first element and ``val`` is the whole output, so that auxiliary
    outputs can ride along (Zygote's ``withgradient``).  ``withgradient(loss, ps)``
    with a :class:`~zygote_nb.params.Params` gives ``grad`` as :class:`~zygote_nb.grads.Grads`.

    >>> withgradient(lambda x, y: {"div": x / y, "mul": x * y}, 3.0, 4.0)
    WithGradient(val={'div': 0.75, 'mul': 12.0}, grad=(0.25, -0.1875))
    """
    if len(args) == 1 and isinstance(args[0], Params):
        from .implicit import implicit_withgradient  # here: implicit mode is built on this module

        return implicit_withgradient(f, args[0])
    validation.require_callable("withgradient", f)
    with explained_errors(), warnings_at_operations():
        value, back = pullback(f, *args)
        objective, cotangent = objective_cotangent(value)
        validation.require_real_scalar("withgradient", objective, ARRAY_OUTPUT_FIX)
        return WithGradient(value, back(cotangent))


def gradient(f: Callable, *args: Any) -> tuple:
    """The gradient of the real scalar ``f(*args)`` with respect to each argument.

    One entry per argument: an array or number gets a gradient of its own
    shape (integers are differentiated as floats); tuples, lists, dicts and
    namedtuples get gradients of the same structure; anything else, and
    anything the output does not depend on, gets ``None``.

    With a zero-argument ``f`` and a :class:`~zygote_nb.params.Params`,
    ``gradient(loss, ps)`` returns :class:`~zygote_nb.grads.Grads` keyed by
    the parameter arrays themselves (Zygote's implicit mode).

    >>> import zygote_nb.numpy as np
    >>> gradient(lambda a, b: a / b, 1, 2)
    (0.5, -0.25)
    >>> gradient(lambda a, t: np.sum(a * t[0]) + t[1], np.array([1.0, 2.0, 3.0]), (4.0, 5.0))
    (array([4., 4., 4.]), (6.0, 1.0))
    """
    if len(args) == 1 and isinstance(args[0], Params):
        from .implicit import implicit_gradient  # here: implicit mode is built on this module

        return implicit_gradient(f, args[0])
    validation.require_callable("gradient", f)
    with explained_errors(), warnings_at_operations():
        value, back = pullback(f, *args)
        validation.require_real_scalar("gradient", value, ARRAY_OUTPUT_FIX)
        return back(1.0)
