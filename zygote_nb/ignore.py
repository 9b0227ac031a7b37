"""``ignore_derivatives``: values that take part in the computation but carry no gradient.

As a function it returns its argument cut off from differentiation (JAX's
``stop_gradient``, PyTorch's ``detach``); as a context manager every value
computed inside the block is cut off.

>>> import zygote_nb as zn
>>> zn.gradient(lambda x: x * ignore_derivatives(x), 3.0)
(3.0,)
>>> def f(x):
...     with ignore_derivatives():
...         scale = x * 10
...     return scale * x
>>> zn.gradient(f, 3.0)
(30.0,)
"""

from __future__ import annotations

from typing import Any

import autograd.tracer
from autograd.tracer import getval

from . import structure

_NOTHING = object()


class _IgnoredBlock:
    """Inside the block, primitives hand back plain values instead of traced boxes."""

    def __enter__(self) -> None:
        self._new_box = autograd.tracer.new_box
        autograd.tracer.new_box = lambda value, trace, node: value

    def __exit__(self, *exc_info) -> None:
        autograd.tracer.new_box = self._new_box


def ignore_derivatives(value: Any = _NOTHING) -> Any:
    """``value`` with no derivative of any order; with no argument, a context manager for a block.

    ``value`` may be a number, an array or a container of them.

    >>> import zygote_nb as zn
    >>> zn.gradient(lambda x: x**2 + ignore_derivatives(x**3), 2.0)
    (4.0,)
    """
    if value is _NOTHING:
        return _IgnoredBlock()
    leaves, tree = structure.flatten(value)
    return tree.rebuild([getval(leaf) for leaf in leaves])
