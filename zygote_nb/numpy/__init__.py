"""Traceable NumPy: the functions differentiated code calls in place of ``numpy``.

This is everything of ``autograd.numpy`` (NumPy's functions, wrapped so autograd
can record them), the NumPy constants and dtypes that ``import *`` leaves out,
and what autograd lacks:

* the NumPy 2 / array-API names, differentiable in reverse and forward mode:
  :func:`vecdot`, :func:`matvec`, :func:`vecmat`, :func:`matrix_transpose`,
  :func:`cumulative_sum`, :func:`cumulative_prod` (and a derivative for
  :func:`cumprod`), :func:`unstack`, ``permute_dims``, :func:`concat`, ``pow``,
  ``acos``, ``asin``, ``atan``, ``atan2``, ``acosh``, ``asinh``, ``atanh``, and in
  :mod:`zygote_nb.numpy.linalg` ``vector_norm``, ``matrix_norm``, ``vecdot``,
  ``matrix_transpose`` and the other array-API aliases;
* joins (:func:`concatenate`, :func:`stack`, :func:`hstack`, :func:`vstack`,
  :func:`dstack`, :func:`column_stack`) whose derivative costs time linear in
  the number of joined arrays. autograd's own ``concatenate`` recomputes every
  argument's position for every argument, so joining ``k`` traced arrays costs
  ``O(k**2)`` in the backward pass.

Each new function is, where possible, a composition of differentiable
functions, so both modes come for free. A few keep NumPy's own (faster or
exact) value and take their derivatives from such a composition; the joins are
new primitives with their own rules.

The rules zygote_nb gives autograd's own functions are read by zygote_nb's
traces only (:mod:`zygote_nb.autograd_patches`), so differentiate with
zygote_nb (``autograd.grad`` sees autograd's rules):

>>> import zygote_nb, zygote_nb.numpy as np
>>> zygote_nb.gradient(lambda x: np.sum(np.stack([x[0] * x[1], np.cbrt(x[1])])), np.array([2.0, 8.0]))
(array([8.        , 2.08333333]),)
"""

import numpy as _numpy
from autograd.extend import def_linear as _def_linear
from autograd.extend import defvjp as _defvjp
from autograd.extend import defjvp_argnums as _defjvp_argnums
from autograd.extend import defvjp_argnums as _defvjp_argnums
from autograd.extend import primitive as _primitive
from autograd.numpy import *  # noqa: F403 (re-exported on purpose)
from autograd.numpy.numpy_vjps import match_complex as _match_complex
from autograd.tracer import getval as _getval
from autograd.builtins import tuple as _autograd_tuple
from autograd.util import subvals as _subvals
from ..autograd_patches import define_own as _define_own
from ..autograd_patches import own_make_vjp as _own_make_vjp
from ..forward import jvp as _jvp
from numpy import (  # noqa: F401 (non-differentiable names that ``import *`` misses)
    False_,
    ScalarType,
    True_,
    dtype,
    dtypes,
    exceptions,
    index_exp,
    little_endian,
    mgrid,
    ogrid,
    s_,
    sctypeDict,
    typecodes,
)

# ----- Derivatives taken from an equivalent composition -----


def _differentiate_as(numpy_function, definition):
    """Give autograd's wrapper ``numpy_function`` the derivatives of ``definition``, in zygote_nb's rule tables.

    NumPy keeps computing the value; the reverse and forward rules differentiate
    ``definition``, a composition of differentiable functions that computes the
    same thing. Used where the wrapper must stay the one autograd calls (a
    ufunc reached through ``__array_ufunc__``) or where NumPy's value is faster.
    The rules live in zygote_nb's own tables (:func:`~zygote_nb.autograd_patches.define_own`),
    so plain autograd keeps its own behaviour for these functions.
    """

    def along(argnums, args, kwargs):
        return lambda inputs: definition(*_subvals(args, zip(argnums, inputs)), **kwargs)

    def vjp_maker(argnums, result, args, kwargs):
        def vjp(cotangent):
            pull, _ = _own_make_vjp(along(argnums, args, kwargs), tuple(args[argnum] for argnum in argnums))
            return pull(cotangent)

        return vjp

    def jvp_maker(argnums, tangents, result, args, kwargs):
        inputs = tuple(args[argnum] for argnum in argnums)
        return _jvp(along(argnums, args, kwargs), inputs, tuple(tangents))[1]

    _define_own(_defvjp_argnums, numpy_function, vjp_maker)
    _define_own(_defjvp_argnums, numpy_function, jvp_maker)


def _vecdot_definition(x1, x2, /, *, axis=-1):
    return sum(conj(moveaxis(x1, axis, -1)) * moveaxis(x2, axis, -1), axis=-1)


def _matvec_definition(x1, x2, /):
    return sum(x1 * expand_dims(x2, -2), axis=-1)


def _vecmat_definition(x1, x2, /):
    return sum(expand_dims(conj(x1), -1) * x2, axis=-2)


def _prefix_scan_product(running):
    # A doubling (Hillis-Steele) scan along the last axis: log2(n) vectorised
    # multiplications, exact where x has zeros, unlike ``cumsum(g * y) / x`` rules.
    span = 1
    while span < shape(running)[-1]:
        running = concatenate([running[..., :span], running[..., span:] * running[..., :-span]], axis=-1)
        span *= 2
    return running


def _cumulative_definition(running_total, initial):
    """The array-API ``cumulative_*`` function of ``running_total`` (along the last axis)."""

    def definition(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        axis = 0 if axis is None else axis
        running = running_total(moveaxis(x, axis, -1))
        if include_initial:
            running = concatenate([_numpy.full(shape(running)[:-1] + (1,), initial), running], axis=-1)
        return moveaxis(running, -1, axis)

    return definition


_cumulative_prod_definition = _cumulative_definition(_prefix_scan_product, 1.0)


def _cumprod_definition(a, axis=None, dtype=None, out=None):
    if axis is None:
        return _cumulative_prod_definition(ravel(a), axis=0)
    return _cumulative_prod_definition(a, axis=axis)


_differentiate_as(vecdot, _vecdot_definition)
_differentiate_as(matvec, _matvec_definition)
_differentiate_as(vecmat, _vecmat_definition)
_differentiate_as(cumulative_sum, _cumulative_definition(lambda running: cumsum(running, axis=-1), 0.0))
_differentiate_as(cumulative_prod, _cumulative_prod_definition)
_differentiate_as(cumprod, _cumprod_definition)
# Ufuncs that autograd wraps without a rule (``numpy.cbrt(x)`` on a traced ``x`` reaches them too).
_differentiate_as(cbrt, lambda x: sign(x) * abs(x) ** (1.0 / 3.0))
_differentiate_as(heaviside, lambda x1, x2: where(x1 == 0, x2, where(x1 > 0, 1.0, 0.0)))
_differentiate_as(fmod, lambda x1, x2: x1 - x2 * trunc(x1 / x2))
_differentiate_as(float_power, lambda x1, x2: power(astype(x1, float), x2))
_differentiate_as(divmod, lambda x1, x2: _autograd_tuple((floor_divide(x1, x2), mod(x1, x2))))
_differentiate_as(copysign, lambda x1, x2: abs(x1) * where(_numpy.signbit(_getval(x2)), -1.0, 1.0))

# autograd gives ``astype`` (and so ``ArrayBox.astype``) a reverse rule only.
_define_own(_def_linear, astype)

# Conversions and copies return their input's values: the derivative passes through.
for _conversion in (asarray, asanyarray, ascontiguousarray, asfortranarray, copy, positive):
    _define_own(_defvjp, _conversion, lambda result, x, *args, **kwargs: lambda cotangent: cotangent)
    _define_own(_def_linear, _conversion)

# ----- Joins with linear-time derivatives -----

from .joins import concatenate_along as _concatenate  # noqa: E402
from .joins import stack_along as _stack  # noqa: E402


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """``numpy.concatenate``, differentiable with a linear-time derivative.

    ``axis=None`` flattens the arrays first, as NumPy does.

    >>> concatenate([[1.0, 2.0], [3.0]]).tolist()
    [1.0, 2.0, 3.0]
    """
    if axis is None:
        arrays, axis = [ravel(array) for array in arrays], 0
    return _concatenate(axis, *arrays, out=out, dtype=dtype, casting=casting)


concat = concatenate


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """``numpy.stack``, differentiable with a linear-time derivative.

    >>> stack([[1.0, 2.0], [3.0, 4.0]], axis=-1).tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    return _stack(axis, *arrays, out=out, dtype=dtype, casting=casting)


def hstack(tup, *, dtype=None, casting="same_kind"):
    """``numpy.hstack``: join along the second axis (the first for 1-d arrays).

    >>> hstack([1.0, [2.0, 3.0]]).tolist()
    [1.0, 2.0, 3.0]
    """
    arrays = [atleast_1d(array) for array in tup]
    axis = 0 if arrays and ndim(arrays[0]) == 1 else 1
    return concatenate(arrays, axis=axis, dtype=dtype, casting=casting)


def vstack(tup, *, dtype=None, casting="same_kind"):
    """``numpy.vstack``: join along the first axis, 1-d arrays as rows.

    >>> vstack([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    """
    return concatenate([atleast_2d(array) for array in tup], axis=0, dtype=dtype, casting=casting)


row_stack = vstack


def dstack(tup):
    """``numpy.dstack``: join along the third axis.

    >>> dstack([[1.0, 2.0], [3.0, 4.0]]).shape
    (1, 2, 2)
    """
    return concatenate([atleast_3d(array) for array in tup], axis=2)


def column_stack(tup):
    """``numpy.column_stack``: 1-d arrays become columns, then join along the second axis.

    >>> column_stack([[1.0, 2.0], [[3.0], [4.0]]]).tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    return concatenate([reshape(array, (-1, 1)) if ndim(array) < 2 else array for array in tup], axis=1)


def select(condlist, choicelist, default=0):
    """``numpy.select`` as nested :func:`where` (autograd's goes through object arrays).

    >>> select([array([True, False]), array([True, True])], [1.0, 2.0], default=0.0).tolist()
    [1.0, 2.0]
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    chosen = default
    for condition, choice in zip(reversed(condlist), reversed(choicelist)):
        chosen = where(condition, choice, chosen)
    return chosen


# ----- NumPy 2 / array-API names that are compositions -----


def matrix_transpose(x, /):
    """Swap the last two axes (``numpy.matrix_transpose``).

    >>> matrix_transpose(ones((2, 3, 4))).shape
    (2, 4, 3)
    """
    if ndim(x) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return swapaxes(x, -1, -2)


def unstack(x, /, *, axis=0):
    """Split ``x`` along ``axis`` into a tuple of arrays (``numpy.unstack``).

    >>> [part.tolist() for part in unstack(array([[1.0, 2.0], [3.0, 4.0]]), axis=1)]
    [[1.0, 3.0], [2.0, 4.0]]
    """
    moved = moveaxis(x, axis, 0)
    return tuple(moved[index] for index in range(shape(moved)[0]))


# Functions whose autograd rule is wrong or missing, rebuilt as compositions of sound ones.
from .repaired import REDUCTIONS as _REDUCTIONS  # noqa: E402
from .repaired import (  # noqa: E402,F811
    average, broadcast_to, diagonal, einsum, flip, outer, pad, repeat, roll, sinc, sort, take, tile, trace, vdot,
    where,
)

globals().update(_REDUCTIONS)

# Functions autograd has no rule for, written in differentiable ones.
from .added import (  # noqa: E402,F811
    broadcast_arrays, convolve, corrcoef, correlate, cov, diag, diagflat, kron, median, meshgrid, nanmax, nanmean,
    nanmin, nanprod, nanstd, nansum, nanvar, percentile, ptp, quantile, take_along_axis, trapezoid, vander,
)

# ``import *`` bound these names to autograd's submodules; ``from . import`` would keep them.
del fft, linalg, random  # noqa: F821
from . import fft, linalg, random  # noqa: E402 (they import names defined above)
