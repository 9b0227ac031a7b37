"""``hook``: replace the gradient of one use of a value by a function of it.

``hook(fn, x)`` returns ``x``; in the backward pass the cotangent that reaches
this use of ``x`` becomes ``fn(cotangent)``, and a ``fn`` that returns
``None`` drops it.  Hooks compose: the backward pass meets the outer one first,
so ``hook(f, hook(g, x))`` passes ``g(f(gradient))`` back to ``x``.  They keep
working inside ``jacobian``, ``hessian`` and ``checkpointed``.

>>> from zygote_nb.gradients import gradient
>>> gradient(lambda a, b: hook(lambda g: -g, a) * b, 2.0, 3.0)
(-3.0, 2.0)

The named transforms below are small objects whose parameters are plain
attributes, so that a notebook control can change them between runs; each has
an ``enabled`` flag that, when ``False``, lets the gradient pass unchanged.

>>> halve = scale(0.5)
>>> halve
scale(factor=0.5, enabled=True)
>>> gradient(lambda a: hook(halve, a) ** 2, 3.0)
(3.0,)
>>> halve.enabled = False
>>> gradient(lambda a: hook(halve, a) ** 2, 3.0)
(6.0,)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable

import autograd.numpy as traced_numpy
from autograd.extend import defjvp, defvjp, primitive
from autograd.tracer import getval, isbox

__all__ = ["hook", "GradientTransform", "clip", "scale", "zero", "normalize"]


class _Hook:
    """The transform of one ``hook`` call, applied only in the backward pass of the trace it was made in."""

    def __init__(self, transform: Callable, traced_value: Any):
        self.transform = transform
        # See showgrad._Site: identifies the node recorded for this hook's own trace, so that
        # an outer reverse pass (reverse over reverse) sees the hook as the identity it is.
        self.traced_value = traced_value


@primitive
def hook_primitive(x, hook_call):
    """The identity recorded in the trace for each ``hook``; the flow view finds hooks by it."""
    return x


def _transformed_cotangent(ans, x, hook_call):
    def vjp(cotangent):
        return hook_call.transform(cotangent) if x is hook_call.traced_value else cotangent
    return vjp


defvjp(hook_primitive, _transformed_cotangent)
defjvp(hook_primitive, lambda tangent, ans, x, hook_call: tangent)


def hook(fn: Callable, x: Any) -> Any:
    """Return ``x``; in the backward pass, the gradient for this use of ``x`` becomes ``fn(gradient)``.

    ``fn`` may return ``None`` to send no gradient back through this use.  The
    transforms :class:`clip`, :class:`scale`, :class:`zero` and
    :class:`normalize` are ready-made ``fn``\\ s.

    >>> import zygote_nb.numpy as np
    >>> from zygote_nb.gradients import gradient
    >>> gradient(lambda a: np.sum(hook(clip(1.0), a) * np.array([3.0, -0.5])), np.zeros(2))
    (array([ 1. , -0.5]),)
    >>> gradient(lambda a: hook(lambda g: None, a) * a, 2.0)
    (2.0,)
    """
    if not callable(fn):
        raise TypeError(
            f"hook(fn, x) needs a function of the gradient as its first argument, got "
            f"{type(getval(fn)).__name__}: pass the function first, e.g. hook(lambda g: 2 * g, x)")
    return hook_primitive(x, _Hook(fn, x._value if isbox(x) else None))


class GradientTransform:
    """A named gradient transform for :func:`hook`: parameters as attributes, an ``enabled`` switch.

    Subclasses are dataclasses that define ``apply(gradient)``; calling the
    transform applies it when ``enabled`` and returns the gradient unchanged
    otherwise.  ``parameters()`` lists the tunable fields and their values.

    >>> @dataclass
    ... class shift(GradientTransform):
    ...     offset: float = 1.0
    ...     enabled: bool = True
    ...
    ...     def apply(self, gradient):
    ...         return gradient + self.offset
    >>> shift(0.5)(2.0), shift(0.5).parameters()
    (2.5, {'offset': 0.5})
    """

    enabled: bool

    def __call__(self, gradient: Any) -> Any:
        return self.apply(gradient) if self.enabled else gradient

    def apply(self, gradient: Any) -> Any:
        raise NotImplementedError

    def parameters(self) -> dict:
        """The tunable parameters by name (``enabled`` excluded).

        >>> clip(0.5).parameters()
        {'threshold': 0.5}
        """
        return {field.name: getattr(self, field.name) for field in fields(self) if field.name != "enabled"}


@dataclass
class clip(GradientTransform):
    """Clip every gradient entry to ``[-threshold, threshold]``.

    >>> import numpy
    >>> clip(1.0)(numpy.array([-3.0, 0.5, 2.0]))
    array([-1. ,  0.5,  1. ])
    """

    threshold: float = 1.0
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.threshold < 0:
            raise ValueError(f"clip(threshold) needs threshold >= 0, got {self.threshold}: pass its absolute value")

    def apply(self, gradient: Any) -> Any:
        return traced_numpy.clip(gradient, -self.threshold, self.threshold)


@dataclass
class scale(GradientTransform):
    """Multiply the gradient by ``factor``.

    >>> scale(-2.0)(3.0)
    -6.0
    """

    factor: float = 1.0
    enabled: bool = True

    def apply(self, gradient: Any) -> Any:
        return gradient * self.factor


@dataclass
class zero(GradientTransform):
    """Replace the gradient by zeros of its shape (NaN and Inf included).

    >>> import numpy
    >>> zero()(numpy.array([1.0, numpy.nan]))
    array([0., 0.])
    """

    enabled: bool = True

    def apply(self, gradient: Any) -> Any:
        return traced_numpy.zeros_like(gradient)


@dataclass
class normalize(GradientTransform):
    """Divide the gradient by its Euclidean norm (a zero gradient stays zero).

    >>> import numpy
    >>> normalize()(numpy.array([3.0, 4.0]))
    array([0.6, 0.8])
    """

    enabled: bool = True

    def apply(self, gradient: Any) -> Any:
        norm = traced_numpy.sqrt(traced_numpy.sum(gradient * gradient))
        return gradient if getval(norm) == 0 else gradient / norm
