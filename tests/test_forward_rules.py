"""The forward-mode rules of zygote_nb.forward_rules.

Each rule is checked against central finite differences, and against autograd's
own reverse-mode rule (a JVP and a VJP of the same function are adjoint). The
Hessian tests run forward mode through autograd's backward pass, which is what
``zn.hessian`` does.
"""

import subprocess
import sys

import autograd
import autograd.builtins as builtins
import autograd.numpy as anp
import numpy as np
import pytest
from autograd.core import make_jvp, make_vjp, vspace
from autograd.misc.fixed_points import fixed_point

import zygote_nb.forward_rules  # noqa: F401  (registers the rules under test)

STEP = 1e-6


def flatten(value):
    """Any nest of tuples, lists, dicts and arrays as one 1-d array."""
    if isinstance(value, dict):
        return flatten([value[key] for key in sorted(value)])
    if isinstance(value, (tuple, list)):
        return np.concatenate([flatten(part) for part in value])
    return np.ravel(np.asarray(value))


def central_difference(f, x, direction, step=STEP):
    return (flatten(f(x + step * direction)) - flatten(f(x - step * direction))) / (2 * step)


# ----- inputs -----


def normal(rng, *shape):
    return rng.standard_normal(shape)


def complex_normal(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def well_conditioned(rng, n, batch=(), dtype=float):
    noise = complex_normal(rng, *batch, n, n) if dtype is complex else normal(rng, *batch, n, n)
    return noise + 2 * n**0.5 * np.eye(n)


def symmetric(matrix):
    return (matrix + np.conj(np.swapaxes(matrix, -1, -2))) / 2


def positive_definite(rng, n, batch=()):
    factor = normal(rng, *batch, n, n)
    return factor @ np.swapaxes(factor, -1, -2) + n * np.eye(n)


def spread_spectrum(rng, n, batch=(), dtype=float):
    """A Hermitian matrix with eigenvalues 1, 2, ..., n (well separated)."""
    noise = complex_normal(rng, *batch, n, n) if dtype is complex else normal(rng, *batch, n, n)
    basis = np.linalg.qr(noise)[0]
    return symmetric((basis * np.arange(1.0, n + 1)) @ np.conj(np.swapaxes(basis, -1, -2)))


def real_spectrum(rng, n):
    """A non-symmetric real matrix with eigenvalues 1, 2, ..., n."""
    basis = well_conditioned(rng, n)
    return basis @ np.diag(np.arange(1.0, n + 1)) @ np.linalg.inv(basis)


def same_kind(rng, x):
    return complex_normal(rng, *np.shape(x)) if np.iscomplexobj(x) else normal(rng, *np.shape(x))


def plain(make):
    """An input maker whose direction is a random array like the input."""

    def make_pair(rng):
        x = make(rng)
        return x, same_kind(rng, x)

    return make_pair


def along_symmetric(make):
    """An input maker whose direction is symmetric, as the input is."""

    def make_pair(rng):
        x = make(rng)
        return x, symmetric(same_kind(rng, x))

    return make_pair


def gauge_free_eigh(matrix):
    # A complex eigenvector is unique only up to a phase; |V|² is not.
    values, vectors = anp.linalg.eigh(matrix)
    return anp.concatenate([values, anp.ravel(anp.abs(vectors) ** 2)])


def gauge_free_eig(matrix):
    values, vectors = anp.linalg.eig(matrix)
    return anp.concatenate([values, anp.ravel(anp.abs(vectors) ** 2)])


def gauge_free_svd(matrix):
    # U and V share one free phase per column; s, |U|² and U Vᴴ do not depend on it.
    left, values, right_h = anp.linalg.svd(matrix, full_matrices=False)
    product = anp.ravel(left @ right_h)
    return anp.concatenate([values, anp.ravel(anp.abs(left) ** 2), anp.real(product), anp.imag(product)])


def newton_square_root(a):
    """sqrt(a) as the fixed point of Newton's iteration, a traced `fixed_point` call."""
    step = lambda a: lambda x: 0.5 * (x + a / x)
    distance = lambda x, y: anp.max(anp.abs(x - y))
    return fixed_point(step, a, anp.ones(anp.shape(a)), distance, 1e-15)


def tuple_extended_right(x):
    pair = builtins.tuple((x[0], 2.0 * x[1]))
    return pair + (x[2] ** 2, x[0] * x[1])


def tuple_extended_left(x):
    pair = builtins.tuple((x[0], 2.0 * x[1]))
    return (x[2] ** 2,) + pair


def made_dict(x):
    return builtins.dict(first=x[0] ** 2, second=anp.sin(x[1:]))


A3 = well_conditioned(np.random.default_rng(100), 3)
A4 = well_conditioned(np.random.default_rng(101), 4)
B4 = normal(np.random.default_rng(102), 4)
B42 = normal(np.random.default_rng(103), 4, 2)
B232 = normal(np.random.default_rng(104), 2, 3, 2)
linalg = anp.linalg
fft = anp.fft

# (id, function, maker of (input, direction))
CASES = [
    ("hypot", lambda z: anp.hypot(z[0], z[1]), plain(lambda rng: normal(rng, 2, 5))),
    ("hypot-broadcast-x", lambda x: anp.hypot(x, 2.0), plain(lambda rng: normal(rng, 3))),
    ("hypot-broadcast-y", lambda y: anp.hypot(B4, y), plain(lambda rng: normal(rng, 2, 1))),
    ("astype-complex", lambda x: x.astype(complex), plain(lambda rng: normal(rng, 4))),
    ("astype-real-of-complex", lambda z: anp.astype(anp.real(z), np.float64) + anp.imag(z),
     plain(lambda rng: complex_normal(rng, 4))),
    ("astype-int", lambda x: x.astype(int) * 1.0 + x, plain(lambda rng: normal(rng, 4) + 0.5)),
    ("det", linalg.det, plain(lambda rng: well_conditioned(rng, 4))),
    ("det-batched", linalg.det, plain(lambda rng: well_conditioned(rng, 3, (2,)))),
    ("det-complex", linalg.det, plain(lambda rng: well_conditioned(rng, 3, dtype=complex))),
    ("slogdet", linalg.slogdet, plain(lambda rng: -well_conditioned(rng, 3))),
    ("slogdet-batched", linalg.slogdet, plain(lambda rng: well_conditioned(rng, 3, (2,)))),
    ("slogdet-complex", linalg.slogdet, plain(lambda rng: well_conditioned(rng, 3, dtype=complex))),
    ("inv", linalg.inv, plain(lambda rng: well_conditioned(rng, 4))),
    ("inv-batched", linalg.inv, plain(lambda rng: well_conditioned(rng, 3, (2,)))),
    ("solve-matrix-vector-rhs", lambda a: linalg.solve(a, B4), plain(lambda rng: well_conditioned(rng, 4))),
    ("solve-matrix-matrix-rhs", lambda a: linalg.solve(a, B42), plain(lambda rng: well_conditioned(rng, 4))),
    ("solve-matrix-batched", lambda a: linalg.solve(a, B232), plain(lambda rng: well_conditioned(rng, 3, (2,)))),
    ("solve-rhs-vector", lambda b: linalg.solve(A4, b), plain(lambda rng: normal(rng, 4))),
    ("solve-rhs-matrix", lambda b: linalg.solve(A4, b), plain(lambda rng: normal(rng, 4, 3))),
    ("solve-both", lambda z: linalg.solve(z[:, :3], z[:, 3]), plain(lambda rng: normal(rng, 3, 4) + np.eye(3, 4) * 3)),
    ("pinv-tall", linalg.pinv, plain(lambda rng: normal(rng, 5, 3))),
    ("pinv-wide", linalg.pinv, plain(lambda rng: normal(rng, 3, 5))),
    ("pinv-batched", linalg.pinv, plain(lambda rng: normal(rng, 2, 4, 3))),
    ("pinv-hermitian", lambda a: linalg.pinv(a, hermitian=True), plain(lambda rng: spread_spectrum(rng, 4))),
    ("cholesky", linalg.cholesky, along_symmetric(lambda rng: positive_definite(rng, 4))),
    ("cholesky-batched", linalg.cholesky, along_symmetric(lambda rng: positive_definite(rng, 3, (2,)))),
    ("cholesky-upper", lambda a: linalg.cholesky(a, upper=True), along_symmetric(lambda rng: positive_definite(rng, 3))),
    ("eigh", linalg.eigh, plain(lambda rng: spread_spectrum(rng, 4))),
    ("eigh-upper", lambda a: linalg.eigh(a, UPLO="U"), plain(lambda rng: spread_spectrum(rng, 4))),
    ("eigh-batched", linalg.eigh, plain(lambda rng: spread_spectrum(rng, 3, (2,)))),
    ("eigh-complex", gauge_free_eigh, plain(lambda rng: spread_spectrum(rng, 3, dtype=complex))),
    ("eig-real-spectrum", linalg.eig, plain(lambda rng: real_spectrum(rng, 4))),
    ("eig-complex-spectrum", linalg.eig, plain(lambda rng: normal(rng, 4, 4))),
    ("eig-complex-matrix", linalg.eig, plain(lambda rng: complex_normal(rng, 3, 3))),
    ("eig-complex-spectrum-gauge-free", gauge_free_eig, plain(lambda rng: normal(rng, 4, 4))),
    ("eig-complex-matrix-gauge-free", gauge_free_eig, plain(lambda rng: complex_normal(rng, 3, 3))),
    ("svd-tall", lambda a: linalg.svd(a, full_matrices=False), plain(lambda rng: normal(rng, 5, 3))),
    ("svd-wide", lambda a: linalg.svd(a, full_matrices=False), plain(lambda rng: normal(rng, 3, 5))),
    ("svd-square-full", linalg.svd, plain(lambda rng: normal(rng, 4, 4))),
    ("svd-batched", lambda a: linalg.svd(a, full_matrices=False), plain(lambda rng: normal(rng, 2, 4, 3))),
    ("svd-values", lambda a: linalg.svd(a, compute_uv=False), plain(lambda rng: normal(rng, 3, 5))),
    ("svd-hermitian", lambda a: linalg.svd(a, hermitian=True), plain(lambda rng: spread_spectrum(rng, 3))),
    ("svd-complex-tall", gauge_free_svd, plain(lambda rng: complex_normal(rng, 4, 3))),
    ("svd-complex-wide", gauge_free_svd, plain(lambda rng: complex_normal(rng, 3, 4))),
    ("fft", fft.fft, plain(lambda rng: complex_normal(rng, 6))),
    ("fft-n", lambda x: fft.fft(x, n=8), plain(lambda rng: normal(rng, 5))),
    ("ifft-axis", lambda x: fft.ifft(x, axis=0, norm="ortho"), plain(lambda rng: complex_normal(rng, 4, 3))),
    ("fft2", lambda x: fft.fft2(x, s=(3, 5)), plain(lambda rng: normal(rng, 4, 4))),
    ("ifft2", fft.ifft2, plain(lambda rng: complex_normal(rng, 3, 4))),
    ("fftn", lambda x: fft.fftn(x, axes=(0, 2)), plain(lambda rng: normal(rng, 3, 2, 4))),
    ("ifftn", fft.ifftn, plain(lambda rng: complex_normal(rng, 2, 3, 4))),
    ("rfft-odd", fft.rfft, plain(lambda rng: normal(rng, 7))),
    ("rfft-n", lambda x: fft.rfft(x, n=6, axis=0), plain(lambda rng: normal(rng, 5, 2))),
    ("irfft", fft.irfft, plain(lambda rng: complex_normal(rng, 5))),
    ("irfft-n", lambda x: fft.irfft(x, n=7), plain(lambda rng: complex_normal(rng, 4))),
    ("rfft2", fft.rfft2, plain(lambda rng: normal(rng, 4, 6))),
    ("irfft2", fft.irfft2, plain(lambda rng: complex_normal(rng, 4, 4))),
    ("rfftn", lambda x: fft.rfftn(x, norm="forward"), plain(lambda rng: normal(rng, 2, 3, 4))),
    ("irfftn", fft.irfftn, plain(lambda rng: complex_normal(rng, 2, 4, 3))),
    ("fftshift", lambda x: fft.fftshift(x, axes=1), plain(lambda rng: normal(rng, 3, 5))),
    ("ifftshift", fft.ifftshift, plain(lambda rng: complex_normal(rng, 4, 5))),
    ("truncate-pad", lambda x: fft.truncate_pad(x, (2, 6)), plain(lambda rng: normal(rng, 3, 4))),
    ("tuple-extend-right", tuple_extended_right, plain(lambda rng: normal(rng, 3))),
    ("tuple-extend-left", tuple_extended_left, plain(lambda rng: normal(rng, 3))),
    ("make-dict", made_dict, plain(lambda rng: normal(rng, 3))),
    ("fixed-point", newton_square_root, plain(lambda rng: rng.uniform(1.0, 4.0, 3))),
]

CASE_IDS = [case[0] for case in CASES]


def case_input(case_id):
    seed = CASE_IDS.index(case_id)
    return dict((case[0], case[2]) for case in CASES)[case_id](np.random.default_rng(seed))


@pytest.mark.parametrize("case_id, function, make_input", CASES, ids=CASE_IDS)
def test_forward_derivative_matches_central_differences(case_id, function, make_input):
    x, direction = make_input(np.random.default_rng(CASE_IDS.index(case_id)))
    value, tangent = make_jvp(function, x)(direction)
    expected = central_difference(function, x, direction)
    np.testing.assert_allclose(flatten(value), flatten(function(x)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(flatten(tangent), expected, rtol=1e-6, atol=1e-7)


# autograd's own VJP is missing or fails for these cases, so there is nothing to be adjoint to.
NO_REVERSE_RULE = {
    "rfft-odd": "autograd's VJP of rfft refuses odd lengths",
    "irfft-n": "autograd's VJP of irfft refuses odd lengths",
    "svd-square-full": "autograd's VJP of svd refuses full_matrices=True",
    "svd-hermitian": "autograd's VJP of svd refuses full_matrices=True",
    "cholesky-upper": "autograd's VJP of cholesky does not take upper=",
}


@pytest.mark.parametrize("case_id, function, make_input", CASES, ids=CASE_IDS)
def test_forward_rule_is_adjoint_of_autograds_reverse_rule(case_id, function, make_input):
    if case_id in NO_REVERSE_RULE:
        pytest.skip(NO_REVERSE_RULE[case_id])
    rng = np.random.default_rng(CASE_IDS.index(case_id))
    x, direction = make_input(rng)
    vjp, value = make_vjp(function, x)
    _, tangent = make_jvp(function, x)(direction)
    x_space, y_space = vspace(x), vspace(value)
    cotangent = y_space.randn()
    forward = y_space.inner_prod(cotangent, tangent)
    reverse = x_space.inner_prod(direction, x_space.covector(vjp(y_space.covector(cotangent))))
    np.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-9)
