"""Hessian-vector products: ``H(x)·v`` forward over reverse, without ever forming ``H``.

The gradient ``g(x) = ∇f(x)`` is a function of ``x``; its directional
derivative along ``v`` is ``H(x)·v``. Forward mode pushes ``v`` through one
evaluation of ``g`` (itself a reverse pass), so an HVP costs a small constant
number of gradients and memory of a few copies of ``x``, at any size.

>>> import zygote_nb.numpy as np
>>> hvp(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
array([ 6., 12.])
"""

from __future__ import annotations

from typing import Any, Callable

import numpy

from .. import validation
from ..errors import explained_errors
from ..forward import jvp
from ..gradients import withgradient
from ..hessians import gradient_function
from ..implicit import as_explicit
from ..grads import Grads
from ..params import IdDict, Params
from ..progress import Progress, wants_progress
from .point import FlatPoint


class HessianOperator:
    """``v ↦ H(x)·v`` on the flat vector of ``x``'s entries, counting the products it makes.

    ``f`` takes ``x`` (any number, array, or tuple/list/dict of them) and
    returns a real number. ``matvec`` is what the eigensolvers call.
    """

    def __init__(self, operator_name: str, f: Callable, x: Any):
        validation.require_callable(operator_name, f)
        self.params = None
        if isinstance(x, Params):  # implicit mode: a zero-argument loss of the parameters it reads
            self.params, explicit = as_explicit(f, x)
            f, x = (lambda values: explicit(*values)), tuple(self.params)
        self.function = f
        self.point = FlatPoint(x)
        self.size = self.point.size
        self.hvps = 0
        self._gradient_at = gradient_function(operator_name, lambda flat: f(self.point.rebuild(flat)),
                                               (self.point.vector,), 0)

    def matvec(self, vector: numpy.ndarray) -> numpy.ndarray:
        """``H·vector`` for a flat ``vector`` of the point's size."""
        with explained_errors():
            _, product = jvp(self._gradient_at, self.point.vector, numpy.asarray(vector, dtype=float))
        self.hvps += 1
        product = numpy.ravel(numpy.asarray(product, dtype=float))
        if not numpy.isfinite(product).all():
            raise FloatingPointError("the Hessian-vector product has NaN or Inf entries: f is not finite or not twice "
                                     "differentiable at this x (check f(x) and zn.gradient(f, x) there)")
        return product


class DenseOperator:
    """A symmetric matrix already in memory, behind the same ``matvec`` as :class:`HessianOperator`."""

    def __init__(self, matrix: numpy.ndarray):
        self.matrix = numpy.asarray(matrix)
        self.size = self.matrix.shape[0]
        self.hvps = 0

    def matvec(self, vector: numpy.ndarray) -> numpy.ndarray:
        """``matrix @ vector`` in the matrix's precision (a single-precision copy reads half the bytes)."""
        self.hvps += 1
        return (self.matrix @ vector.astype(self.matrix.dtype)).astype(float)


def hvp(f: Callable, x: Any, v: Any) -> Any:
    """``H(x)·v``, the Hessian of the real-valued ``f`` at ``x`` times ``v``, shaped like ``x``.

    ``x`` is a number, an array of any shape, or a tuple/list/dict of them
    (several arguments: pass them as one tuple and unpack inside ``f``);
    ``v`` has the same structure. With a :class:`~zygote_nb.Params` ``x`` and
    a zero-argument ``f`` (implicit mode), ``v`` maps each parameter to its
    direction (a ``Grads``, an ``IdDict``, or a list in order) and the
    result is a ``Grads``. Forward over reverse: one product costs a few
    gradients (see ``benchmarks/curvature.py``) and never forms ``H``.

    >>> import zygote_nb.numpy as np
    >>> f = lambda p: p["w"] ** 2 * p["b"]
    >>> hvp(f, {"w": 3.0, "b": 2.0}, {"w": 1.0, "b": 0.0})
    {'w': np.float64(4.0), 'b': np.float64(6.0)}
    >>> from zygote_nb import Params
    >>> w = np.array([1.0, 2.0])
    >>> hvp(lambda: np.sum(w ** 3), Params([w]), [np.ones(2)])[w]
    array([ 6., 12.])
    """
    operator = HessianOperator("hvp", f, x)
    if operator.params is not None:
        v = tuple(v) if isinstance(v, (list, tuple)) else tuple(v[param] for param in operator.params)
    product = operator.point.rebuild(operator.matvec(operator.point.flatten_like(v, "v")))
    if operator.params is not None:
        return Grads(operator.params, IdDict(zip(operator.params, product)))
    return product


def value_and_gradient_norm(f: Callable, x: Any) -> tuple[float, float]:
    """``f(x)`` and the norm of its gradient, the two numbers a curvature verdict needs besides ``H``."""
    with explained_errors():
        value, gradients = withgradient(f, x)
    point = FlatPoint(x)
    gradient = gradients[0]
    flat = point.flatten_like(gradient, "gradient") if gradient is not None else numpy.zeros(point.size)
    return float(value), float(numpy.linalg.norm(flat))


class HvpBar:
    """A progress bar counting HVPs (``tqdm.auto``) when ``progress`` wants one for ``total`` of them."""

    def __init__(self, progress: Progress, total: int, description: str):
        self._bar = None
        if wants_progress(progress, total):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=description, unit="HVP")

    def advance(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            if self._bar.n < self._bar.total:  # stopped early (converged): end full at what was done, not stuck at 86%
                self._bar.total = self._bar.n
                self._bar.refresh()
            self._bar.close()
