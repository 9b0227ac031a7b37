"""The ``ndarray`` methods a NumPy user writes without thinking, on traced arrays.

autograd's ``ArrayBox`` (the traced array) has most of ``ndarray``'s methods
but not ``x.copy()``, ``x.dot(y)``, ``x.conj()``, ``x.real``, ``x.imag`` or
``x // 2``, and some of its methods (``x.repeat``, ``x.diagonal``,
``x.prod``...) run autograd's wrong rules. Inside zygote_nb's traces it gets
(installed by :func:`zygote_nb.autograd_patches.install_array_methods`):

* the missing methods, each the function of the same name in
  :mod:`zygote_nb.numpy` (``x // y`` and ``divmod`` have a zero derivative, as
  the piecewise-constant functions they are);
* for ``x.item()``, ``x.tolist()``, ``float(x)``, ``int(x)`` and ``complex(x)``,
  which take the value out of the trace, a :class:`~zygote_nb.DifferentiationError`
  that names the call and the fix;
* ``x.repeat``, ``x.diagonal``, ``x.take``, ``x.trace``, ``x.ptp`` and the
  reductions from :mod:`zygote_nb.numpy`.

Code that uses autograd directly (``autograd.grad``, ``make_jvp``) sees
``ArrayBox`` as autograd made it: its own methods, and none of the added ones.
zygote_nb installs them on import.

>>> import numpy, zygote_nb as zn
>>> zn.gradient(lambda x: x.dot(x.copy()) + (x // 2).sum(), numpy.array([1.0, 3.0]))
(array([2., 6.]),)
"""

from __future__ import annotations

from typing import Callable

from . import numpy as traced_numpy
from .autograd_patches import install_array_methods
from .errors import DifferentiationError


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


_REPAIRED = ("repeat", "diagonal", "take", "trace", "ptp", "sum", "mean", "prod", "max", "min", "std", "var")

# Installed by autograd_patches, which keeps them to zygote_nb's traces.
install_array_methods({**_MISSING_METHODS, **{name: getattr(traced_numpy, name) for name in _REPAIRED}})
