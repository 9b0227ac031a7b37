"""The ``ndarray`` methods a NumPy user writes without thinking, on traced arrays.

autograd's ``ArrayBox`` (the traced array) has most of ``ndarray``'s methods
but not ``x.copy()``, ``x.dot(y)``, ``x.conj()``, ``x.real``, ``x.imag`` or
``x // 2``, and some of its methods (``x.repeat``, ``x.diagonal``,
``x.prod``...) run autograd's wrong rules. :func:`install_array_methods` gives it:

* the missing methods, each the function of the same name in
  :mod:`zygote_nb.numpy` (``x // y`` and ``divmod`` have a zero derivative, as
  the piecewise-constant functions they are);
* for ``x.item()``, ``x.tolist()``, ``float(x)``, ``int(x)`` and ``complex(x)``,
  which take the value out of the trace, a :class:`~zygote_nb.DifferentiationError`
  that names the call and the fix;
* ``x.repeat``, ``x.diagonal``, ``x.take``, ``x.trace``, ``x.ptp`` and the
  reductions from :mod:`zygote_nb.numpy`, on the values zygote_nb traces; a
  value traced by autograd's own reverse mode (``autograd.grad``) keeps
  autograd's methods.

Methods that ``ArrayBox`` lacked only raised before, so adding them changes no
working autograd program. zygote_nb installs them on import.

>>> import numpy, zygote_nb as zn
>>> zn.gradient(lambda x: x.dot(x.copy()) + (x // 2).sum(), numpy.array([1.0, 3.0]))
(array([2., 6.]),)
"""

from __future__ import annotations

from typing import Any, Callable

from autograd.core import VJPNode
from autograd.numpy.numpy_boxes import ArrayBox

from . import numpy as traced_numpy
from .errors import DifferentiationError
from .pullback import RecordedNode


def _leaves_the_trace(call: str) -> Callable:
    def refuse(self, *args, **kwargs):
        raise DifferentiationError(
            f"{call} takes a traced value out of the trace, so its gradient would be lost: keep it an array and "
            f"compute with zygote_nb.numpy (x[i] rather than x.item(), np.sin(x) rather than math.sin(x)), "
            f"or wrap that part in ignore_derivatives")

    return refuse


def _divmod(self, other):
    return traced_numpy.floor_divide(self, other), traced_numpy.mod(self, other)


def _reflected_divmod(self, other):
    return traced_numpy.floor_divide(other, self), traced_numpy.mod(other, self)


_MISSING_METHODS = {
    "copy": lambda self, order="C": traced_numpy.copy(self, order=order),
    "dot": lambda self, other: traced_numpy.dot(self, other),
    "conj": lambda self: traced_numpy.conj(self),
    "conjugate": lambda self: traced_numpy.conj(self),
    "real": property(lambda self: traced_numpy.real(self)),
    "imag": property(lambda self: traced_numpy.imag(self)),
    "__floordiv__": lambda self, other: traced_numpy.floor_divide(self, other),
    "__rfloordiv__": lambda self, other: traced_numpy.floor_divide(other, self),
    "__divmod__": _divmod,
    "__rdivmod__": _reflected_divmod,
    "item": _leaves_the_trace("x.item()"),
    "tolist": _leaves_the_trace("x.tolist()"),
    "__float__": _leaves_the_trace("float(x)"),
    "__int__": _leaves_the_trace("int(x)"),
    "__complex__": _leaves_the_trace("complex(x)"),
}


class _RepairedMethod:
    """A method that runs zygote_nb's function on zygote_nb's traces and autograd's on autograd's reverse traces."""

    def __init__(self, repaired: Callable, original: Callable):
        self.repaired, self.original = repaired, original

    def __get__(self, box: Any, owner: type | None = None) -> Any:
        if box is None:
            return self
        plain_autograd = isinstance(box._node, VJPNode) and not isinstance(box._node, RecordedNode)
        return (self.original if plain_autograd else self.repaired).__get__(box, owner)


def install_array_methods() -> None:
    """Give autograd's ``ArrayBox`` the methods above (done on import; repeating it is harmless).

    >>> install_array_methods()
    >>> isinstance(vars(ArrayBox)["repeat"], _RepairedMethod)
    True
    """
    for name, method in _MISSING_METHODS.items():
        setattr(ArrayBox, name, method)
    for name in ("repeat", "diagonal", "take", "trace", "ptp", "sum", "mean", "prod", "max", "min", "std", "var"):
        current = vars(ArrayBox)[name]
        original = current.original if isinstance(current, _RepairedMethod) else current
        setattr(ArrayBox, name, _RepairedMethod(getattr(traced_numpy, name), original))


install_array_methods()
