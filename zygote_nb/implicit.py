"""Implicit parameters: differentiate a zero-argument loss with respect to a :class:`~zygote_nb.params.Params`.

The loss reads its parameters from wherever they live. :func:`implicit_pullback`
turns it into an ordinary function of the parameters — one that runs the loss
with each parameter's stand-in (an autograd box) put in its places by
:func:`~zygote_nb.substitution.substituted` — and hands that to
:func:`~zygote_nb.pullback.pullback`. The other operators here are the explicit
ones applied to that function, with the answer keyed by parameter in a
:class:`~zygote_nb.grads.Grads`.

>>> import numpy
>>> import autograd.numpy as np
>>> w = numpy.array([3.0])
>>> value, back = implicit_pullback(lambda: np.sum(w**2), Params([w]))
>>> value, back(1.0)[w]
(9.0, array([6.]))
"""

from __future__ import annotations

from typing import Any, Callable

from .gradients import WithGradient, withgradient
from .jacobians import WithJacobian, withjacobian
from .grads import Grads
from .params import IdDict, Params
from .progress import Progress
from .pullback import pullback
from .substitution import substituted

__all__ = ["implicit_pullback", "implicit_gradient", "implicit_withgradient", "implicit_jacobian",
           "implicit_withjacobian"]


def as_explicit(loss: Callable, params: Params) -> tuple[Params, Callable]:
    """``loss`` as a function of the parameters: called with one stand-in per parameter, in order."""
    if not isinstance(params, Params):
        raise TypeError(f"implicit differentiation needs a Params, got {type(params).__name__}: "
                        "wrap the arrays, e.g. gradient(loss, Params([w, b]))")
    if not callable(loss):
        raise TypeError(f"the loss must be a zero-argument function, got {type(loss).__name__}: "
                        "e.g. gradient(lambda: np.sum(w**2), Params([w]))")
    params = Params(params)

    def loss_of_parameters(*stand_ins: Any) -> Any:
        with substituted(loss, params, stand_ins) as found:
            if len(params) and not any(found):
                raise ValueError(
                    "none of the Params is reachable from the loss (through its globals, closure, "
                    "or attributes and items of the objects these hold, up to 6 levels deep): "
                    "pass the arrays as arguments instead, e.g. gradient(lambda w: ..., w)")
            return loss()

    return params, loss_of_parameters


def _grads(params: Params, gradients: tuple) -> Grads:
    return Grads(params, IdDict(zip(params, gradients)))


def implicit_pullback(loss: Callable, params: Params) -> tuple[Any, Callable]:
    """``(value, back)`` for a zero-argument ``loss``; ``back(cotangent)`` returns :class:`Grads`.

    A parameter the loss does not read — or that cannot be found from it —
    gets gradient ``None``. Every global, closure cell, attribute and item that
    held a parameter holds the very same array again once the forward pass ends,
    also when the loss raises.
    """
    params, explicit = as_explicit(loss, params)
    value, back = pullback(explicit, *params)
    return value, lambda cotangent: _grads(params, back(cotangent))


def implicit_withgradient(loss: Callable, params: Params) -> WithGradient:
    """``(val, grad)`` with ``grad`` a :class:`Grads`: Zygote's ``withgradient(loss, ::Params)``.

    >>> import numpy
    >>> import autograd.numpy as np
    >>> w = numpy.array([3.0])
    >>> res = implicit_withgradient(lambda: np.sum(w**2), Params([w]))
    >>> res.val, res.grad[w]
    (9.0, array([6.]))
    """
    params, explicit = as_explicit(loss, params)
    value, gradients = withgradient(explicit, *params)
    return WithGradient(value, _grads(params, gradients))


def implicit_gradient(loss: Callable, params: Params) -> Grads:
    """:class:`Grads` of the real scalar ``loss()``: Zygote's ``gradient(loss, ::Params)``."""
    return implicit_withgradient(loss, params).grad


def implicit_withjacobian(loss: Callable, params: Params, progress: Progress = False, engine: str = "batched",
                          memory_budget: int | None = None) -> WithJacobian:
    """``(val, grad)`` with ``grad`` a :class:`Grads` of Jacobians, ``J[k, i] = ∂y.ravel()[k] / ∂p.ravel()[i]``.

    >>> import numpy
    >>> xs, ys = numpy.array([[1, 2], [3, 4]]), numpy.array([5, 7, 9])
    >>> Jxy = implicit_withjacobian(lambda: ys[:2] + (xs**2).sum(), Params([xs, ys])).grad
    >>> Jxy[ys]
    array([[1., 0., 0.],
           [0., 1., 0.]])
    >>> Jxy[xs]
    array([[2., 4., 6., 8.],
           [2., 4., 6., 8.]])
    """
    params, explicit = as_explicit(loss, params)
    value, jacobians = withjacobian(explicit, *params, progress=progress, engine=engine,
                                    memory_budget=memory_budget)
    return WithJacobian(value, _grads(params, jacobians))


def implicit_jacobian(loss: Callable, params: Params, progress: Progress = False, engine: str = "batched",
                      memory_budget: int | None = None) -> Grads:
    """:class:`Grads` of Jacobians of ``loss()``: Zygote's ``jacobian(loss, ::Params)``."""
    return implicit_withjacobian(loss, params, progress=progress, engine=engine, memory_budget=memory_budget).grad
