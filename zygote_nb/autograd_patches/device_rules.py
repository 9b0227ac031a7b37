"""Device versions of autograd's primitives, run beside autograd's own code.

:mod:`zygote_nb.backends.autograd_rules` uses these only once a device array
type is registered; NumPy values keep autograd's code.
"""

from __future__ import annotations

from typing import Callable

from autograd.numpy import numpy_vjps


def replace_primitive_body(primitive_function: Callable, choose: Callable[[Callable], Callable]) -> None:
    """Make ``primitive_function`` run ``choose(original_body)`` instead of its original body.

    autograd's ``primitive`` keeps the function it wraps in a closure cell
    named ``f_raw``, and every derivative rule is registered against the
    wrapper; replacing the cell's content changes what runs while every
    registration stays valid.
    """
    cell = primitive_function.__closure__[primitive_function.__code__.co_freevars.index("f_raw")]
    cell.cell_contents = choose(cell.cell_contents)


def replace_vjp_helper(name: str, choose: Callable[[Callable], Callable]) -> None:
    """Replace the helper ``autograd.numpy.numpy_vjps.<name>`` (looked up at call time by the rules) with
    ``choose(original)``."""
    setattr(numpy_vjps, name, choose(getattr(numpy_vjps, name)))
