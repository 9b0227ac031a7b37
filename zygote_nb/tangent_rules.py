"""Forward-mode (JVP) rules for the autograd primitives that ship with a reverse rule only.

autograd differentiates forward (``make_jvp``) only through primitives that have a
JVP rule. A Hessian computed forward-over-reverse pushes a tangent through the
function *and* through every operation of its backward pass, so one primitive
without a JVP rule, in either place, stops it. autograd 1.9 ships VJPs without
JVPs for its linear algebra, its FFTs, ``hypot``, ``astype``, the container
helpers behind ``tuple + tuple`` and ``dict(...)``, and ``fixed_point``.
Importing this module gives each of them a JVP in zygote_nb's own rule table
(:func:`zygote_nb.autograd_patches.define_own`), which zygote_nb's traces read
before autograd's; autograd's global table is left as it is, so plain
``autograd.make_jvp`` is unchanged. ``zygote_nb`` imports it at start-up, and
the test suite checks that no primitive is left without one.

Every rule is written in traceable NumPy, so it can itself be differentiated,
and the linear-algebra rules accept stacks of matrices (leading batch axes), as
autograd's VJPs do. Where autograd's VJP settles a convention (which part of a
symmetric matrix counts), the rule here is that VJP's exact adjoint, so
forward-over-reverse and reverse-over-reverse Hessians agree.

The derivative of ``det`` at ``A`` in the direction ``I`` is ``det(A) tr(A⁻¹)``:

>>> import autograd.numpy as anp
>>> from zygote_nb.forward import jvp
>>> A = anp.array([[2.0, 1.0], [0.0, 3.0]])
>>> value, derivative = jvp(anp.linalg.det, A, anp.eye(2))
>>> float(value), float(derivative)
(6.0, 5.0)
"""

import autograd.builtins as builtins
import autograd.numpy as anp
import autograd.numpy.fft as afft
import autograd.numpy.linalg as alinalg
from autograd.builtins import container_untake
from autograd.extend import def_linear, defjvp, defjvp_argnum, vspace
from autograd.misc.fixed_points import fixed_point
from autograd.numpy import numpy_wrapper
from autograd.tracer import getval

from .autograd_patches import define_own
from .forward import jvp

# ----- helpers on the last two axes, so that stacks of matrices work -----


def _conj_transpose(x):
    return anp.conj(anp.swapaxes(x, -1, -2))


def _diagonal(x):
    # axis1=-1, axis2=-2 is the one layout autograd's VJP of `diagonal` supports.
    return anp.diagonal(x, 0, -1, -2)


def _trace_of_product(x, y):
    return anp.einsum("...ij,...ji->...", x, y)


def _inverse_gaps(values):
    """``F[..., i, j] = 1 / (values[j] - values[i])`` off the diagonal, 0 on it."""
    identity = anp.eye(values.shape[-1])
    gaps = values[..., None, :] - values[..., :, None]
    return (1.0 - identity) / (gaps + identity)


def _hermitian_from_triangle(x, uplo):
    """The Hermitian matrix that LAPACK sees when it reads only the ``uplo`` triangle of ``x``."""
    strict = anp.tril(x, -1) if uplo == "L" else anp.triu(x, 1)
    return strict + _conj_transpose(strict) + anp.real(x) * anp.eye(x.shape[-1])


def _named_like(result, *parts):
    # linalg returns namedtuples (SlogdetResult, EighResult, ...); the tangent keeps the type.
    return type(getval(result))(*parts)


# ----- numpy -----

define_own(
    defjvp,
    anp.hypot,
    lambda tangent, value, x, y: tangent * x / value,
    lambda tangent, value, x, y: tangent * y / value,
)


def _astype_jvp(tangent, value, x, dtype, *args, **kwargs):
    """The tangent cast like the value; a cast to integers or bools is piecewise constant."""
    target = anp.result_type(value)
    if not anp.issubdtype(target, anp.inexact):
        return vspace(value).zeros()
    if not anp.issubdtype(target, anp.complexfloating):
        tangent = anp.real(tangent)
    return anp.astype(tangent, target)


# `ArrayBox.astype` calls `_astype`, which on NumPy 2 is `anp.astype` itself.
define_own(defjvp, numpy_wrapper._astype, _astype_jvp)

# ----- numpy.linalg -----


def _det_jvp(tangent, det, matrix):
    # d det(A) = det(A) tr(A⁻¹ dA)
    return det * _trace_of_product(alinalg.inv(matrix), tangent)


def _slogdet_jvp(tangent, result, matrix):
    # d log det(A) = tr(A⁻¹ dA); its real part moves log|det|, its imaginary part turns the sign.
    sign = result[0]
    change = _trace_of_product(alinalg.inv(matrix), tangent)
    if anp.iscomplexobj(sign):
        sign_tangent = sign * 1j * anp.imag(change)
    else:
        sign_tangent = vspace(sign).zeros()
    return _named_like(result, sign_tangent, anp.real(change))


def _inv_jvp(tangent, inverse, matrix):
    return -(inverse @ tangent @ inverse)


def _solve_jvp_matrix(tangent, solution, matrix, rhs):
    # A x = b  ⇒  A dx = -dA x; matmul treats a 1-d solution as a vector, as solve does.
    return alinalg.solve(matrix, -(tangent @ solution))


def _solve_jvp_rhs(tangent, solution, matrix, rhs):
    return alinalg.solve(matrix, tangent)


def _pinv_jvp(tangent, pseudo_inverse, matrix, rcond=None, hermitian=False, **kwargs):
    """Golub and Pereyra's derivative of the pseudo-inverse (valid while the rank is constant)."""
    if hermitian:
        tangent = _hermitian_from_triangle(tangent, "L")
    pinv_h = _conj_transpose(pseudo_inverse)
    tangent_h = _conj_transpose(tangent)
    rows, columns = matrix.shape[-2:]
    outside_range = anp.eye(rows) - matrix @ pseudo_inverse
    outside_row_space = anp.eye(columns) - pseudo_inverse @ matrix
    return (
        -(pseudo_inverse @ tangent @ pseudo_inverse)
        + pseudo_inverse @ pinv_h @ tangent_h @ outside_range
        + outside_row_space @ tangent_h @ pinv_h @ pseudo_inverse
    )


def _cholesky_jvp(tangent, factor, matrix, upper=False):
    """``dL = L Φ(L⁻¹ dA L⁻ᴴ)``, Φ keeping the lower triangle with its diagonal halved.

    autograd's VJP of cholesky treats ``A`` as symmetric and returns a symmetric
    gradient; to be its adjoint, this rule uses the symmetric part of ``dA``.
    (LAPACK reads only the lower triangle, so finite differences agree with
    both along symmetric directions.)
    """
    lower = _conj_transpose(factor) if upper else factor
    symmetric_tangent = (tangent + _conj_transpose(tangent)) / 2.0
    left_solved = alinalg.solve(lower, symmetric_tangent)
    middle = alinalg.solve(lower, _conj_transpose(left_solved))
    lower_tangent = lower @ (anp.tril(middle) / (1.0 + anp.eye(middle.shape[-1])))
    return _conj_transpose(lower_tangent) if upper else lower_tangent


def _eigh_jvp(tangent, result, matrix, UPLO="L"):
    """``dw = diag(Vᴴ dA V)``, ``dV = V (F ∘ Vᴴ dA V)`` for distinct eigenvalues.

    ``dA`` is read through the triangle that ``eigh`` reads, as autograd's VJP does,
    which makes this the true derivative of NumPy's function in every direction
    (``svd`` and ``pinv`` with ``hermitian=True`` read the lower triangle too).
    """
    values, vectors = result[0], result[1]
    rotated = _conj_transpose(vectors) @ _hermitian_from_triangle(tangent, UPLO) @ vectors
    value_tangent = anp.real(_diagonal(rotated))
    vector_tangent = vectors @ (_inverse_gaps(values) * rotated)
    return _named_like(result, value_tangent, vector_tangent)


def _eig_jvp(tangent, result, matrix):
    """``de = diag(V⁻¹ dA V)`` and ``dV = V (F ∘ V⁻¹ dA V)``, kept in NumPy's normalisation.

    ``eig`` returns eigenvectors of unit length whose largest entry is real; the
    rule removes the change of length and, for complex vectors, the change of
    phase of that entry, so it is the derivative of the vectors NumPy returns.
    Needs distinct eigenvalues.
    """
    values, vectors = result[0], result[1]
    rotated = alinalg.solve(vectors, tangent @ vectors)
    value_tangent = _diagonal(rotated)
    vector_tangent = vectors @ (_inverse_gaps(values) * rotated)
    stretch = anp.real(anp.sum(anp.conj(vectors) * vector_tangent, axis=-2, keepdims=True))
    vector_tangent = vector_tangent - vectors * stretch
    if anp.iscomplexobj(vectors):
        magnitudes = anp.abs(getval(vectors))
        largest = magnitudes == anp.max(magnitudes, axis=-2, keepdims=True)
        turn = anp.sum(anp.imag(vector_tangent) * largest, axis=-2, keepdims=True) / anp.sum(
            anp.real(vectors) * largest, axis=-2, keepdims=True
        )
        vector_tangent = vector_tangent - 1j * turn * vectors
    return _named_like(result, value_tangent, vector_tangent)


def _svd_jvp(tangent, result, matrix, full_matrices=True, compute_uv=True, hermitian=False):
    """Derivative of the thin SVD ``A = U diag(s) Vᴴ`` for distinct, non-zero singular values.

    With ``P = Uᴴ dA V``: ``ds = Re diag(P)``,
    ``dU = U (F ∘ (P S + S Pᴴ) + i Im diag(P) S⁻¹) + (I - U Uᴴ) dA V S⁻¹`` and
    ``dV = V (F ∘ (S P + Pᴴ S)) + (I - V Vᴴ) dAᴴ U S⁻¹``, ``F[i, j] = 1 / (s_j² - s_i²)``;
    the phase freedom of complex vectors is put on ``U``, as in autograd's VJP.
    """
    if hermitian:
        tangent = _hermitian_from_triangle(tangent, "L")
    rows, columns = matrix.shape[-2:]
    if compute_uv and full_matrices and rows != columns:
        raise NotImplementedError(
            "Forward derivative of svd with full_matrices=True is not defined for a "
            "non-square matrix (the extra singular vectors are not unique); "
            "pass full_matrices=False."
        )
    if compute_uv:
        left, values, right_h = result[0], result[1], result[2]
    else:
        left, values, right_h = alinalg.svd(matrix, full_matrices=False)
    right = _conj_transpose(right_h)
    projected = _conj_transpose(left) @ tangent @ right
    value_tangent = anp.real(_diagonal(projected))
    if not compute_uv:
        return value_tangent

    column_scale = values[..., None, :]
    row_scale = values[..., :, None]
    inverse_gaps = _inverse_gaps(values**2)
    scaled_right = projected * column_scale
    scaled_left = row_scale * projected
    phase = 0.5 * (projected - _conj_transpose(projected)) * anp.eye(values.shape[-1]) / column_scale
    left_tangent = left @ (inverse_gaps * (scaled_right + _conj_transpose(scaled_right)) + phase)
    right_tangent = right @ (inverse_gaps * (scaled_left + _conj_transpose(scaled_left)))
    if rows > columns:
        moved = tangent @ right
        left_tangent = left_tangent + (moved - left @ (_conj_transpose(left) @ moved)) / column_scale
    if columns > rows:
        moved = _conj_transpose(tangent) @ left
        right_tangent = right_tangent + (moved - right @ (right_h @ moved)) / column_scale
    return _named_like(result, left_tangent, value_tangent, _conj_transpose(right_tangent))


define_own(defjvp, alinalg.det, _det_jvp)
define_own(defjvp, alinalg.slogdet, _slogdet_jvp)
define_own(defjvp, alinalg.inv, _inv_jvp)
define_own(defjvp, alinalg.solve, _solve_jvp_matrix, _solve_jvp_rhs)
define_own(defjvp, alinalg.pinv, _pinv_jvp)
define_own(defjvp, alinalg.cholesky, _cholesky_jvp)
define_own(defjvp, alinalg.eigh, _eigh_jvp)
define_own(defjvp, alinalg.eig, _eig_jvp)
define_own(defjvp, alinalg.svd, _svd_jvp)

# ----- numpy.fft: every transform (and the padding helper of their VJPs) is linear -----

for _linear in (
    afft.fft, afft.ifft, afft.fft2, afft.ifft2, afft.fftn, afft.ifftn,
    afft.rfft, afft.irfft, afft.rfft2, afft.irfft2, afft.rfftn, afft.irfftn,
    afft.fftshift, afft.ifftshift, afft.truncate_pad,
):
    define_own(def_linear, _linear)
del _linear

# ----- containers: `tuple + tuple` on a traced tuple, and `dict(...)` -----


def _sequence_extend_right_jvp(argnum, tangent, value, args, kwargs):
    # value = seq + (elt_1, ..., elt_k): each argument's tangent lands in its own slots.
    seq, elts = args[0], args[1:]
    if argnum == 0:
        return builtins.sequence_extend_right(tangent, *[vspace(elt).zeros() for elt in elts])
    return container_untake(tangent, len(seq) + argnum - 1, vspace(value))


def _sequence_extend_left_jvp(argnum, tangent, value, args, kwargs):
    # value = (elt_1, ..., elt_k) + seq
    elts = args[1:]
    if argnum == 0:
        return builtins.sequence_extend_left(tangent, *[vspace(elt).zeros() for elt in elts])
    return container_untake(tangent, argnum - 1, vspace(value))


define_own(defjvp_argnum, builtins.sequence_extend_right, _sequence_extend_right_jvp)
define_own(defjvp_argnum, builtins.sequence_extend_left, _sequence_extend_left_jvp)
define_own(defjvp, builtins._make_dict, "same", argnums=(1,))

# ----- autograd.misc.fixed_points -----


def _fixed_point_jvp(tangent, solution, f, a, x0, distance, tol):
    """Implicit differentiation: ``x* = f(a)(x*)`` gives ``dx* = ∂ₓf dx* + ∂ₐf da``.

    That is itself a fixed point, found with the same iteration (it converges
    wherever the iteration that found ``x*`` does).
    """
    _, direct_effect = jvp(lambda parameters: f(parameters)(solution), a, tangent)

    def tangent_step(inputs):
        parameters, point, direct_effect = inputs
        step = f(parameters)
        return lambda point_tangent: vspace(point).add(jvp(step, point, point_tangent)[1], direct_effect)

    start = vspace(solution).zeros()
    return fixed_point(tangent_step, builtins.tuple((a, solution, direct_effect)), start, distance, tol)


define_own(defjvp, fixed_point, None, _fixed_point_jvp, None)

# ----- repairs of two forward rules that autograd has, but that fail -----


def _var_jvp(tangent, variance, x, axis=None, ddof=0, keepdims=False, **kwargs):
    """``d var = 2 Σ Re(conj(x - mean) dx) / (n - ddof)``.

    autograd's rule raises ``NameError`` for a tuple ``axis``.
    """
    count = anp.size(x) // anp.size(variance)
    centred = anp.conj(x - anp.mean(x, axis=axis, keepdims=True))
    return 2.0 * anp.sum(anp.real(tangent * centred), axis=axis, keepdims=keepdims) / (count - ddof)


def _norm_jvp(tangent, norm, x, ord=None, axis=None, keepdims=False):
    """autograd's rule, applied to the norm without ``keepdims`` and then given its kept axes.

    autograd's rule ignores ``keepdims`` and broadcasts to a wrong shape with it.
    """
    if not keepdims:
        return alinalg.norm_jvp(tangent, norm, x, ord, axis)
    reduced_axes = range(anp.ndim(x)) if axis is None else anp.atleast_1d(axis) % anp.ndim(x)
    reduced_shape = tuple(size for index, size in enumerate(anp.shape(norm)) if index not in reduced_axes)
    reduced_tangent = alinalg.norm_jvp(tangent, anp.reshape(norm, reduced_shape), x, ord, axis)
    return anp.reshape(reduced_tangent, anp.shape(norm))


define_own(defjvp, numpy_wrapper._primitive_var, _var_jvp)
define_own(defjvp, alinalg._primitive_norm, _norm_jvp)
