"""The forward-mode rules of zygote_nb.tangent_rules.

Each rule is checked against central finite differences, and against autograd's
own reverse-mode rule (a JVP and a VJP of the same function are adjoint). The
Hessian tests run forward mode through autograd's backward pass, which is what
``zn.hessian`` does. The rules live in zygote_nb's own tables, so the
differentiations here are autograd's ``make_jvp`` / ``make_vjp`` / ``grad`` with
nodes that read those tables (:mod:`zygote_nb.autograd_patches`).
"""

import subprocess
import sys

import autograd.builtins as builtins
import autograd.numpy as anp
import numpy as np
import pytest
from autograd.core import vspace
from autograd.misc.fixed_points import fixed_point

import zygote_nb.tangent_rules  # noqa: F401  (registers the rules under test)
from zygote_nb.autograd_patches import own_make_vjp as make_vjp
from zygote_nb.forward import jvp

STEP = 1e-6


def make_jvp(fun, x):
    """autograd's ``make_jvp``, with zygote_nb's rules."""
    return lambda tangent: jvp(fun, x, tangent)


def grad(fun):
    """autograd's ``grad`` of a scalar function, with zygote_nb's rules."""
    return lambda x: make_vjp(fun, x)[0](1.0)


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


def random_like(rng, value):
    """A random value of the same structure, shapes and kinds as ``value``."""
    if isinstance(value, dict):
        return {key: random_like(rng, part) for key, part in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*[random_like(rng, part) for part in value])
    if isinstance(value, (tuple, list)):
        return type(value)(random_like(rng, part) for part in value)
    return same_kind(rng, value)


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
    ("var-tuple-axis", lambda x: anp.var(x, axis=(0, 2), ddof=1), plain(lambda rng: normal(rng, 3, 4, 2))),
    ("norm", anp.linalg.norm, plain(lambda rng: normal(rng, 5))),
    ("norm-p3-axis", lambda x: anp.linalg.norm(x, ord=3, axis=0), plain(lambda rng: normal(rng, 4, 3))),
    ("norm-nuc-batched", lambda x: anp.linalg.norm(x, "nuc", axis=(2, 0)), plain(lambda rng: normal(rng, 3, 2, 4))),
    ("norm-keepdims", lambda x: anp.linalg.norm(x, axis=1, keepdims=True), plain(lambda rng: normal(rng, 3, 4))),
    ("norm-fro-keepdims", lambda x: anp.linalg.norm(x, "fro", keepdims=True), plain(lambda rng: normal(rng, 3, 4))),
    ("tuple-extend-right", tuple_extended_right, plain(lambda rng: normal(rng, 3))),
    ("tuple-extend-left", tuple_extended_left, plain(lambda rng: normal(rng, 3))),
    ("make-dict", made_dict, plain(lambda rng: normal(rng, 3))),
    ("fixed-point", newton_square_root, plain(lambda rng: rng.uniform(1.0, 4.0, 3))),
]

CASE_IDS = [case[0] for case in CASES]


@pytest.mark.parametrize("case_id, function, make_input", CASES, ids=CASE_IDS)
def test_forward_derivative_matches_central_differences(case_id, function, make_input):
    x, direction = make_input(np.random.default_rng(CASE_IDS.index(case_id)))
    value, tangent = make_jvp(function, x)(direction)
    expected = central_difference(function, x, direction)
    np.testing.assert_allclose(flatten(value), flatten(function(x)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(flatten(tangent), expected, rtol=1e-6, atol=1e-7)


# Cases where autograd's own VJP fails or (checked against finite differences) is wrong,
# so there is no reverse rule to be the adjoint of.
NO_REVERSE_RULE = {
    "astype-int": "autograd's VJP passes the gradient straight through a cast to int",
    "slogdet-complex": "autograd's VJP differentiates log det, not log|det|, for complex matrices",
    "pinv-hermitian": "autograd's VJP of pinv does not take hermitian=",
    "cholesky-upper": "autograd's VJP of cholesky does not take upper=",
    "eig-complex-spectrum": "autograd's VJP does not follow NumPy's phase of complex eigenvectors",
    "eig-complex-matrix": "autograd's VJP does not follow NumPy's phase of complex eigenvectors",
    "svd-square-full": "autograd's VJP of svd refuses full_matrices=True",
    "svd-hermitian": "autograd's VJP of svd refuses full_matrices=True",
    "rfft-odd": "autograd's VJP of rfft refuses odd lengths",
    "rfft-n": "autograd's VJP of rfft ignores n=",
    "irfft-n": "autograd's VJP of irfft refuses odd lengths",
    "rfftn": "autograd's VJP of rfftn mis-scales norm='forward'",
    "norm-keepdims": "autograd's VJP of norm ignores keepdims=",
    "norm-fro-keepdims": "autograd's VJP of norm ignores keepdims=",
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
    cotangent = random_like(rng, value)
    forward = y_space.inner_prod(cotangent, tangent)
    reverse = x_space.inner_prod(direction, x_space.covector(vjp(y_space.covector(cotangent))))
    np.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-9)


def test_cast_to_single_precision_casts_the_tangent():
    x = np.array([1.0, 2.0, 3.0])
    direction = np.array([0.1, -0.2, 1.0 / 3.0])
    _, tangent = make_jvp(lambda x: x.astype(np.float32), x)(direction)
    assert tangent.dtype == np.float32
    np.testing.assert_array_equal(tangent, direction.astype(np.float32))


# ----- Hessians, forward-over-reverse through autograd's backward passes -----


def square_matrix(x):
    return anp.reshape(x[:9], (3, 3)) + 3.0 * anp.eye(3)


def positive_definite_of(x):
    factor = square_matrix(x)
    return factor @ factor.T + anp.eye(3)


def separated_symmetric_of(x):
    # eigenvalues near 0, 4, 8: distinct wherever the test looks
    return (square_matrix(x) + square_matrix(x).T) / 4.0 + anp.diag(anp.array([0.0, 4.0, 8.0]))


WEIGHTS = np.random.default_rng(7).standard_normal(12)

SCALAR_FUNCTIONS = {
    "det": lambda x: anp.linalg.det(square_matrix(x)) ** 2,
    "slogdet": lambda x: anp.linalg.slogdet(square_matrix(x))[1] ** 2,
    "inv": lambda x: anp.sum(anp.linalg.inv(square_matrix(x)) ** 3),
    "solve": lambda x: anp.sum(anp.linalg.solve(square_matrix(x), x[9:]) ** 3),
    "pinv": lambda x: anp.sum(anp.linalg.pinv(anp.reshape(x, (3, 4))) ** 3),
    "cholesky": lambda x: anp.sum(anp.linalg.cholesky(positive_definite_of(x)) ** 3),
    "eigh": lambda x: anp.sum(anp.linalg.eigh(separated_symmetric_of(x))[1] ** 4)
    + anp.sum(anp.linalg.eigh(separated_symmetric_of(x))[0] ** 3),
    "eig": lambda x: anp.sum(anp.real(anp.linalg.eig(square_matrix(x))[0]) ** 3),
    "svd": lambda x: anp.sum(anp.linalg.svd(anp.reshape(x, (3, 4)), full_matrices=False)[0] ** 4)
    + anp.sum(anp.linalg.svd(anp.reshape(x, (4, 3)), compute_uv=False) ** 3),
    "norm": lambda x: anp.linalg.norm(x) ** 3 + anp.linalg.norm(anp.reshape(x, (3, 4)), "nuc")
    + anp.sum(anp.linalg.norm(anp.reshape(x, (3, 4)), ord=3, axis=1) ** 2),
    "var": lambda x: anp.sum(anp.var(anp.reshape(x, (2, 2, 3)), axis=(0, 2)) ** 2),
    "hypot": lambda x: anp.sum(anp.hypot(x, 2.0 * x + 1.0) ** 3),
    "astype": lambda x: anp.sum(anp.abs(x.astype(complex) * (1.0 + 2.0j)) ** 3),
    "fft": lambda x: anp.sum(anp.abs(anp.fft.fft(x)) ** 3) + anp.sum(anp.abs(anp.fft.rfft2(anp.reshape(x, (3, 4)))) ** 3),
    "ifft": lambda x: anp.sum(anp.fft.irfft(x[:6] + 1j * x[6:]) ** 3)
    + anp.sum(anp.fft.fftshift(x) ** 3 * WEIGHTS),
    "containers": lambda x: anp.sum(anp.array(builtins.tuple((x[0], x[1] ** 2)) + (x[2],)) ** 3)
    + builtins.dict(a=x**2)["a"][3] ** 2,
    "fixed-point": lambda x: anp.sum(newton_square_root(x**2 + 1.0) ** 3),
}


@pytest.mark.parametrize("name", sorted(SCALAR_FUNCTIONS))
def test_forward_over_reverse_hessian_matches_finite_differences_of_the_gradient(name):
    f = SCALAR_FUNCTIONS[name]
    rng = np.random.default_rng(sorted(SCALAR_FUNCTIONS).index(name))
    x, direction = 0.5 * rng.standard_normal(12), rng.standard_normal(12)
    gradient = grad(f)
    forward_over_reverse = make_jvp(gradient, x)(direction)[1]
    step = 1e-5  # the gradient is itself a difference of rounded values; a wider step keeps it exact
    expected = (gradient(x + step * direction) - gradient(x - step * direction)) / (2 * step)
    np.testing.assert_allclose(forward_over_reverse, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())
    # The Hessian is symmetric, so reverse-over-reverse gives the same H v to rounding.
    reverse_over_reverse = make_vjp(gradient, x)[0](direction)
    np.testing.assert_allclose(forward_over_reverse, reverse_over_reverse, rtol=1e-9, atol=1e-12)
    # The rules are themselves differentiable: reverse-over-forward gives H v too.
    reverse_over_forward = grad(lambda x: make_jvp(f, x)(direction)[1])(x)
    np.testing.assert_allclose(reverse_over_forward, forward_over_reverse, rtol=1e-9, atol=1e-12)


# ----- nothing left out -----

MISSING_RULES = """
import autograd.builtins, autograd.numpy, autograd.numpy.fft, autograd.numpy.linalg
import autograd.misc.fixed_points
import zygote_nb.tangent_rules
from autograd.core import primitive_jvps, primitive_vjps
from zygote_nb.autograd_patches import own_jvps, own_vjps
reverse, forward = set(primitive_vjps) | set(own_vjps), set(primitive_jvps) | set(own_jvps)
print(sorted(getattr(fun, "__name__", repr(fun)) for fun in reverse - forward))
"""


def test_every_primitive_with_a_reverse_rule_has_a_forward_rule():
    # A fresh interpreter: other tests may register primitives of their own (checkpoints).
    result = subprocess.run([sys.executable, "-c", MISSING_RULES], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", f"primitives without a forward rule: {result.stdout}"
