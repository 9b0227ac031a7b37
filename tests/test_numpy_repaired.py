"""The repros of issue 14 (and the fuzzer's later finds), each checked in every operator.

Every case runs through ``gradient``, ``jacobian`` (both engines), ``pullback``,
forward mode and the three Hessians (:func:`fuzz.checks.operator_failures`),
all against central finite differences of NumPy's own values; each is run
with ``zygote_nb.numpy`` and with plain ``numpy`` calls on traced values.
"""

import warnings

import numpy
import pytest
from autograd import grad as autograd_grad

import autograd.numpy as anp
import zygote_nb as zn
import zygote_nb.numpy as znp
from fuzz.checks import operator_failures
from helpers import finite_difference_gradient

v = numpy.array([0.3, -1.2, 0.8])
M = numpy.array([[0.3, -1.2, 0.8], [0.5, 0.1, -0.7]])
S = numpy.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [0.3, 0.2, 0.1]])
A = numpy.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [0.2, 0.4, 1.1], [1.0, 0.0, 0.3]])
MASK = numpy.array([True, False, True])

# (label, program of (np, x), input): the issue's item numbers first.
CASES = [
    ("1 tile with short reps", lambda np, x: np.tile(x, 2) * numpy.arange(12.0).reshape(2, 6), M),
    ("1 tile, other shapes", lambda np, x: np.tile(x, 3), M),
    ("1 tile, reps shorter by two", lambda np, x: np.tile(x, (2, 2)), M[None]),
    ("2 repeat, negative axis", lambda np, x: np.repeat(x, 2, axis=-1) * numpy.arange(6.0), v),
    ("2 repeat, array of repeats", lambda np, x: np.repeat(x, [1, 0, 3], axis=-1), M),
    ("3 norm with keepdims", lambda np, x: np.linalg.norm(2.0 * x, axis=1, keepdims=True), M),
    ("3 norm of the input itself", lambda np, x: np.linalg.norm(x, axis=1, keepdims=True), M),
    ("4 where, a 0-d traced branch", lambda np, x: np.where(MASK, x, np.sin(np.sum(x))), v),
    ("4 where, an indexed branch", lambda np, x: np.where(MASK, x, x[0]), v),
    ("5 outer of a scalar", lambda np, x: np.outer(numpy.array([1.0, 2.0]) * x, x * x) ** 2, 1.446),
    ("5 outer of a matrix", lambda np, x: np.outer(x, x[0]) ** 2, M),
    ("6 flip", lambda np, x: np.flip(x, axis=0) * numpy.arange(6.0).reshape(2, 3), M),
    ("7 norm ord=1", lambda np, x: np.linalg.norm(x, 1), v),
    ("7 norm ord=inf", lambda np, x: np.linalg.norm(x, numpy.inf), v),
    ("7 norm ord=-inf", lambda np, x: np.linalg.norm(x, -numpy.inf), M),
    ("7 norm ord='nuc'", lambda np, x: np.linalg.norm(x, "nuc"), M),
    ("7 norm ord=2 of a matrix", lambda np, x: np.linalg.norm(x, 2), M),
    ("8 diagonal of the first two axes", lambda np, x: np.diagonal(x) * numpy.arange(3.0), S),
    ("8 diagonal, offset and reversed axes", lambda np, x: np.diagonal(x, -1, 1, 0), S),
    ("9 einsum 'ii->i'", lambda np, x: np.einsum("ii->i", x) * numpy.arange(3.0), S),
    ("9 einsum 'ii' (trace)", lambda np, x: np.einsum("ii", x * x), S),
    ("10 broadcast_to a new leading axis", lambda np, x: np.broadcast_to(x, (2, 3)) * M, v),
    ("fuzz: sort of a matrix", lambda np, x: np.sort(x, axis=0) ** 2, M),
    ("fuzz: min over a tuple of negative axes", lambda np, x: np.min(x ** 2, axis=(-2, 1)), M),
    ("fuzz: sinc at zero", lambda np, x: np.sinc(x * numpy.array([0.0, 1.0, 1.0])), v),
    ("fuzz: trace of other axes", lambda np, x: np.trace(x, axis1=-1, axis2=0), S),
    ("fuzz: roll by a tuple", lambda np, x: np.roll(x, (1, 2), axis=(0, 1)) * numpy.arange(6.0).reshape(2, 3), M),
    ("fuzz: pad with the default mode", lambda np, x: np.pad(x, 1) * numpy.arange(5.0), v),
    ("fuzz: pad mode='reflect'", lambda np, x: np.pad(x, (1, 2), mode="reflect") * numpy.arange(6.0), v),
    ("fuzz: average with weights", lambda np, x: np.average(x, axis=1, weights=numpy.array([1.0, 2.0, 3.0])), M),
    ("fuzz: vdot", lambda np, x: np.vdot(x, x ** 2), M),
    ("fuzz: cbrt", lambda np, x: np.cbrt(1.5 + x ** 2), v),
    ("fuzz: heaviside", lambda np, x: np.heaviside(x, 0.5) * x, v),
    ("fuzz: take", lambda np, x: np.take(x, [0, 2, 2], axis=-1), M),
    ("fuzz: qr", lambda np, x: np.linalg.qr(x)[0] * np.linalg.qr(x)[1][0, 0], A),
    ("fuzz: svd of a square matrix", lambda np, x: np.linalg.svd(x @ x.T + 3.0 * numpy.eye(2))[1], M),
    ("fuzz: matrix_power", lambda np, x: np.linalg.matrix_power(x + 3.0 * numpy.eye(3), -2), S),
    ("fuzz: norm of a zero row", lambda np, x: np.linalg.norm(np.tril(x, -1), axis=-1), S),
    ("fuzz: prod with a zero entry", lambda np, x: np.prod(np.triu(x), axis=0), S),
    ("fuzz: kron of three-axis arrays", lambda np, x: np.kron(x[:, :, None], x[:, None, :2]), M),
    ("fuzz: diag of a non-square matrix", lambda np, x: np.diag(x, 1) ** 2, M),
    ("fuzz: nanmean", lambda np, x: np.nanmean(np.where(MASK, x, numpy.nan) ** 2, axis=-1), M),
    ("fuzz: nanvar", lambda np, x: np.nanvar(np.where(numpy.eye(4, 3) > 0, numpy.nan, x), axis=0), A),
    ("fuzz: quantile", lambda np, x: np.quantile(x, [0.2, 0.7], axis=-1), M),
    ("fuzz: median", lambda np, x: np.median(x, axis=0), S),
    ("fuzz: cov and corrcoef", lambda np, x: np.cov(x) + np.corrcoef(x.T)[:2, :2], M),
    ("fuzz: convolve 'same'", lambda np, x: np.convolve(x, numpy.array([1.0, -2.0, 0.5, 3.0]), "same"), v),
    ("fuzz: correlate 'valid'", lambda np, x: np.correlate(numpy.array([1.0, -2.0, 0.5, 3.0, 1.0]), x), v),
    ("fuzz: convolve 'same' with the longer kernel", lambda np, x: np.convolve(x[:2], numpy.array([-0.7, 0.6, 0.3]), "same"), v),
    ("fuzz: take_along_axis", lambda np, x: np.take_along_axis(x, numpy.argsort(x, axis=1), axis=1) ** 2, M),
    ("fuzz: meshgrid and vander", lambda np, x: np.meshgrid(x, x ** 2)[1] * np.vander(x, 3), v),
    ("fuzz: float_power and fmod", lambda np, x: np.float_power(1.5 + x ** 2, 1.5) + np.fmod(x, 0.7), v),
    ("fuzz: eigvalsh", lambda np, x: np.linalg.eigvalsh(x @ x.T + numpy.eye(3)), S),
]


@pytest.mark.parametrize("namespace", [znp, numpy], ids=["zygote_nb.numpy", "numpy"])
@pytest.mark.parametrize("label, program, x", CASES, ids=[case[0] for case in CASES])
def test_every_operator_agrees_with_finite_differences(label, program, x, namespace):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert operator_failures(lambda x: program(namespace, x), x) == []


def test_the_issues_silently_wrong_numbers_are_now_those_of_finite_differences():
    """Items 1, 2, 3 and 5 returned plausible wrong numbers; the issue gives the right ones too."""
    tile_objective = lambda x: znp.sum(znp.tile(x, 2) * numpy.arange(12.0).reshape(2, 6))  # noqa: E731
    (tile_gradient,) = zn.gradient(tile_objective, M)
    numpy.testing.assert_allclose(tile_gradient, finite_difference_gradient(tile_objective, M), atol=1e-6)
    numpy.testing.assert_allclose(tile_gradient, [[3, 5, 7], [15, 17, 19]])
    repeat_objective = lambda x: znp.sum(znp.repeat(x, 2, axis=-1) * numpy.arange(6.0))  # noqa: E731
    numpy.testing.assert_allclose(zn.gradient(repeat_objective, v)[0], [1, 5, 9])
    norm_objective = lambda x: znp.sum(znp.linalg.norm(2.0 * x, axis=1, keepdims=True))  # noqa: E731
    numpy.testing.assert_allclose(zn.gradient(norm_objective, M)[0],
                                  finite_difference_gradient(norm_objective, M), atol=1e-6)
    outer_objective = lambda x: znp.sum(znp.outer(numpy.array([1.0, 2.0]) * x, x * x) ** 2)  # noqa: E731
    (outer_gradient,) = zn.gradient(outer_objective, 1.446)
    assert outer_gradient == pytest.approx(finite_difference_gradient(outer_objective, 1.446), rel=1e-6)
    assert outer_gradient == pytest.approx(189.654, abs=1e-3)


@pytest.mark.parametrize("s", [0.4, numpy.array(0.4)], ids=["float", "0-d array"])
def test_where_gives_a_broadcast_branch_its_summed_gradient(s):
    def f(x, s):
        return znp.sum(znp.where(MASK, x, s) ** 2)

    gradient_x, gradient_s = zn.gradient(f, v, s)
    numpy.testing.assert_allclose(gradient_x, finite_difference_gradient(lambda x: f(x, s), v), atol=1e-6)
    assert float(gradient_s) == pytest.approx(float(finite_difference_gradient(lambda s: f(v, s), s)), rel=1e-6)


def test_a_scalar_output_of_where_takes_a_number_as_its_seed():
    assert zn.gradient(lambda x: znp.where(x > 0.1, x ** 2, 0.25), 0.3) == pytest.approx((0.6,))
    value, back = zn.pullback(lambda x: znp.where(x > 0.1, x ** 2, 0.25), numpy.array(0.3))
    assert float(back(1.0)[0]) == pytest.approx(0.6)
    f = lambda x: -0.48 * znp.where(znp.sum(x) > -0.88, znp.sum(x) ** 2, 0.25)  # noqa: E731
    value, back = zn.pullback(f, v)
    numpy.testing.assert_allclose(back(0.9)[0], 0.9 * finite_difference_gradient(f, v), rtol=1e-6)


def _sum_used_twice(x):
    total = znp.sum(x)
    return znp.sum(total[None]) + total * total


@pytest.mark.parametrize("operator", [zn.gradient, zn.hessian, zn.hessian_reverse])
def test_a_sparse_cotangent_accumulates_into_a_scalar(operator):
    """Item 11: autograd scattered the cotangent of ``total[None]`` into a NumPy scalar, in place."""
    result = numpy.asarray(operator(_sum_used_twice, v)[0] if operator is zn.gradient else operator(_sum_used_twice, v))
    gradient = lambda x: zn.gradient(_sum_used_twice, x)[0]  # noqa: E731
    if operator is zn.gradient:
        expected = finite_difference_gradient(_sum_used_twice, v)
    else:
        expected = numpy.stack([finite_difference_gradient(lambda x: gradient(x)[i], v) for i in range(3)])
    numpy.testing.assert_allclose(result, expected, atol=1e-5)


def test_buffer_written_with_a_list_inside_hessian():
    """Item 14: ``numpy.result_type`` read the list as a dtype description."""
    from copy import copy

    def f(x):
        buffer = zn.Buffer(numpy.array([0, 0]))
        buffer[:] = [1, 2]
        return znp.sum(copy(buffer) * x ** 3)

    x = numpy.array([0.5, -1.5])
    gradient = lambda x: zn.gradient(f, x)[0]  # noqa: E731
    expected = numpy.stack([finite_difference_gradient(lambda x: gradient(x)[i], x) for i in range(2)])
    numpy.testing.assert_allclose(zn.hessian(f, x), expected, atol=1e-5)


def test_plain_autograd_keeps_its_own_rules():
    """zygote_nb repairs its namespace, not ``autograd.numpy``: autograd's tile rule is still its own."""
    f = lambda x: anp.sum(anp.tile(x, 2) * numpy.arange(12.0).reshape(2, 6))  # noqa: E731
    assert not numpy.allclose(autograd_grad(f)(M), finite_difference_gradient(f, M))


@pytest.mark.parametrize("f, x, message", [
    (lambda x: znp.sum(znp.pad(x, 1, mode="mean")), v, "mode='mean'"),
    (lambda x: znp.sum(znp.linalg.qr(x)[1]), M, "wide matrix"),
    (lambda x: znp.sum(znp.linalg.qr(x, mode="complete")[1]), A, "mode='complete'"),
])
def test_forms_without_a_derivative_say_so_in_one_line(f, x, message):
    numpy.asarray(f(x))  # NumPy computes them
    with pytest.raises(NotImplementedError) as excinfo:
        zn.gradient(f, x)
    assert message in str(excinfo.value) and "\n" not in str(excinfo.value)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_and_correlate_compute_numpys_values_for_every_pair_of_lengths(mode):
    rng = numpy.random.default_rng(0)
    for length_a in range(1, 6):
        for length_v in range(1, 6):
            a = rng.normal(size=length_a) + 1j * rng.normal(size=length_a)
            kernel = rng.normal(size=length_v) + 1j * rng.normal(size=length_v)
            numpy.testing.assert_allclose(znp.convolve(a, kernel, mode), numpy.convolve(a, kernel, mode))
            numpy.testing.assert_allclose(znp.correlate(a, kernel, mode), numpy.correlate(a, kernel, mode))


@pytest.mark.parametrize("f, x", [
    (lambda x: znp.pad(znp.where(znp.sum(x) > 0.0, znp.sum(x) ** 2, 0.25), 1), v),
    (lambda x: znp.sinc(znp.sum(x)), v),
    (lambda x: znp.sinc(znp.cos(x)) / 1.5, 0.5725),
    (lambda x: (znp.pad(x, 1) // 2 + znp.pad(x, 1)) / 1.5, 0.6665),
])
def test_a_scalar_output_is_pulled_back_from_a_number(f, x):
    """``back(0.9)`` on a 0-d output: autograd's rules for pad and where read the seed's shape."""
    _, back = zn.pullback(f, x)
    numpy.testing.assert_allclose(back(0.9)[0], 0.9 * finite_difference_gradient(lambda x: float(f(x)), x), rtol=1e-6)
