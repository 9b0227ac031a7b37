"""Traceable numpy: the added names and the linear-time joins.

Every derivative is checked against central finite differences, every value
against NumPy itself.
"""

import numpy
import pytest

import zygote_nb
import zygote_nb.numpy as tnp
from zygote_nb.autograd_patches import own_make_vjp
from zygote_nb.forward import jvp

# autograd's differential operators, reading zygote_nb's rule tables (where the rules of the added names live).


def grad(f):
    return lambda x: own_make_vjp(f, x)[0](1.0)


def elementwise_grad(f):
    def gradient(x):
        vjp, value = own_make_vjp(f, x)
        return vjp(numpy.ones_like(value))

    return gradient


def hessian(f):
    return lambda x: zygote_nb.hessian(f, x)


def make_jvp(f):
    return lambda x: lambda direction: jvp(f, x, direction)


STEP = 1e-6


def finite_difference_gradient(f, x):
    """Central differences of the real scalar ``f`` at the array ``x``."""
    x = numpy.asarray(x, dtype=float)
    gradient = numpy.zeros_like(x)
    for index in numpy.ndindex(x.shape):
        step = numpy.zeros_like(x)
        step[index] = STEP
        gradient[index] = (f(x + step) - f(x - step)) / (2 * STEP)
    return gradient


def finite_difference_directional(f, x, direction):
    """Central difference of ``f`` (any output shape) at ``x`` along ``direction``."""
    return (numpy.asarray(f(x + STEP * direction)) - numpy.asarray(f(x - STEP * direction))) / (2 * STEP)


def random_array(*shape, seed=0):
    return numpy.random.default_rng(seed).normal(size=shape)


def assert_reverse_matches(f, x, rtol=1e-5, atol=1e-6):
    numpy.testing.assert_allclose(grad(f)(x), finite_difference_gradient(f, x), rtol=rtol, atol=atol)


def assert_forward_matches(f, x, rtol=1e-5, atol=1e-6):
    direction = random_array(*numpy.shape(x), seed=1)
    _, tangent = make_jvp(f)(x)(direction)
    numpy.testing.assert_allclose(tangent, finite_difference_directional(f, x, direction), rtol=rtol, atol=atol)


def weighted(f, seed=7):
    """``f`` followed by a fixed random weighting, so one scalar sees every output entry."""

    def scalar(x):
        y = f(x)
        return tnp.sum(y * random_array(*numpy.shape(y), seed=seed))

    return scalar


# ----- Added NumPy 2 / array-API names -----

X23 = random_array(2, 3)
X34 = random_array(3, 4, seed=2)
POSITIVE = numpy.abs(random_array(2, 3, seed=3)) + 0.5
IN_UNIT = numpy.tanh(random_array(2, 3, seed=4)) * 0.9

ADDED = {
    "vecdot": (lambda x: tnp.vecdot(x, X23[::-1]), lambda x: numpy.vecdot(x, X23[::-1]), X23),
    "vecdot axis=0": (lambda x: tnp.vecdot(x, X23, axis=0), lambda x: numpy.vecdot(x, X23, axis=0), X23),
    "vecdot broadcast": (lambda x: tnp.vecdot(x, X23[0]), lambda x: numpy.vecdot(x, X23[0]), X23),
    "matvec": (lambda x: tnp.matvec(x, X23[0]), lambda x: numpy.matvec(x, X23[0]), X23),
    "vecmat": (lambda x: tnp.vecmat(X23[1], x.T), lambda x: numpy.vecmat(X23[1], x.T), X23),
    "matrix_transpose": (tnp.matrix_transpose, numpy.matrix_transpose, random_array(2, 2, 3)),
    "cumulative_sum": (lambda x: tnp.cumulative_sum(x, axis=1), lambda x: numpy.cumulative_sum(x, axis=1), X23),
    "cumulative_sum initial": (
        lambda x: tnp.cumulative_sum(x, axis=0, include_initial=True),
        lambda x: numpy.cumulative_sum(x, axis=0, include_initial=True),
        X23,
    ),
    "cumulative_prod": (lambda x: tnp.cumulative_prod(x, axis=1), lambda x: numpy.cumulative_prod(x, axis=1), X34),
    "cumulative_prod initial": (
        lambda x: tnp.cumulative_prod(x, axis=-2, include_initial=True),
        lambda x: numpy.cumulative_prod(x, axis=-2, include_initial=True),
        X34,
    ),
    "cumulative_prod 1-d": (tnp.cumulative_prod, numpy.cumulative_prod, random_array(7)),
    "cumprod": (tnp.cumprod, numpy.cumprod, X23),
    "unstack": (lambda x: tnp.unstack(x, axis=1)[2], lambda x: numpy.unstack(x, axis=1)[2], X23),
    "permute_dims": (
        lambda x: tnp.permute_dims(x, (2, 0, 1)),
        lambda x: numpy.permute_dims(x, (2, 0, 1)),
        random_array(2, 3, 4),
    ),
    "concat": (lambda x: tnp.concat([x, 2 * x], axis=1), lambda x: numpy.concat([x, 2 * x], axis=1), X23),
    "pow": (lambda x: tnp.pow(x, 3.0), lambda x: numpy.pow(x, 3.0), X23),
    "acos": (tnp.acos, numpy.acos, IN_UNIT),
    "asin": (tnp.asin, numpy.asin, IN_UNIT),
    "atan": (tnp.atan, numpy.atan, X23),
    "atan2": (lambda x: tnp.atan2(x, POSITIVE), lambda x: numpy.atan2(x, POSITIVE), X23),
    "acosh": (tnp.acosh, numpy.acosh, POSITIVE + 1.0),
    "asinh": (tnp.asinh, numpy.asinh, X23),
    "atanh": (tnp.atanh, numpy.atanh, IN_UNIT),
    "select": (
        lambda x: tnp.select([x > 0.5, x < 0], [x**2, -x], default=x),
        lambda x: numpy.select([x > 0.5, x < 0], [x**2, -x], default=x),
        X23,
    ),
    "linalg.vecdot": (
        lambda x: tnp.linalg.vecdot(x, X23, axis=0),
        lambda x: numpy.linalg.vecdot(x, X23, axis=0),
        X23,
    ),
    "linalg.matrix_transpose": (tnp.linalg.matrix_transpose, numpy.linalg.matrix_transpose, X23),
    "linalg.svdvals": (tnp.linalg.svdvals, numpy.linalg.svdvals, X34),
    "linalg.diagonal": (
        lambda x: tnp.linalg.diagonal(x, offset=-1),
        lambda x: numpy.linalg.diagonal(x, offset=-1),
        random_array(2, 3, 3),
    ),
    "linalg.trace": (lambda x: tnp.linalg.trace(x, offset=1), lambda x: numpy.linalg.trace(x, offset=1), X34),
    "linalg.outer": (lambda x: tnp.linalg.outer(x, X23[1]), lambda x: numpy.linalg.outer(x, X23[1]), X23[0]),
    "linalg.cross": (lambda x: tnp.linalg.cross(x, X23), lambda x: numpy.linalg.cross(x, X23), X23[::-1]),
    "linalg.matmul": (lambda x: tnp.linalg.matmul(x, X34), lambda x: numpy.linalg.matmul(x, X34), X23),
    "linalg.tensordot": (
        lambda x: tnp.linalg.tensordot(x, X23, axes=1),
        lambda x: numpy.linalg.tensordot(x, X23, axes=1),
        X34.T[:2, :2],
    ),
    "linalg.multi_dot": (
        lambda x: tnp.linalg.multi_dot([X23[0], x, X34, X34[0]]),
        lambda x: numpy.linalg.multi_dot([X23[0], x, X34, X34[0]]),
        random_array(3, 3),
    ),
}

# Composition-defined rules and new primitives are checked in forward mode too.
FORWARD = [
    "vecdot",
    "vecdot axis=0",
    "vecdot broadcast",
    "matvec",
    "vecmat",
    "cumulative_sum",
    "cumulative_sum initial",
    "cumulative_prod",
    "cumulative_prod initial",
    "cumulative_prod 1-d",
    "cumprod",
    "matrix_transpose",
    "unstack",
    "concat",
    "select",
    "linalg.diagonal",
    "linalg.trace",
]


@pytest.mark.parametrize("name", list(ADDED))
def test_added_name_has_numpy_value(name):
    traced, reference, x = ADDED[name]
    numpy.testing.assert_allclose(traced(x), reference(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(ADDED))
def test_added_name_reverse_mode_matches_finite_differences(name):
    traced, _, x = ADDED[name]
    assert_reverse_matches(weighted(traced), x)


@pytest.mark.parametrize("name", FORWARD)
def test_added_name_forward_mode_matches_finite_differences(name):
    traced, _, x = ADDED[name]
    assert_forward_matches(traced, x)


def test_cumulative_prod_derivative_is_exact_where_entries_are_zero():
    x = numpy.array([2.0, 0.0, 3.0, 0.0, 5.0])
    # d/dx_i sum_j prod_{k<=j} x_k, worked out by hand: only the first zero's
    # neighbours see a non-zero product.
    expected = numpy.array([1.0, 2.0 + 2.0 * 3.0, 0.0, 0.0, 0.0])
    numpy.testing.assert_allclose(grad(lambda x: tnp.sum(tnp.cumulative_prod(x)))(x), expected)
    numpy.testing.assert_allclose(grad(lambda x: tnp.sum(tnp.cumprod(x)))(x), expected)


def test_cumulative_prod_second_derivative_matches_hand_derivation():
    # y = sum(cumulative_prod([a, b, c])) = a + ab + abc
    a, b, c = 2.0, 3.0, 5.0
    expected = numpy.array([[0.0, 1.0 + c, b], [1.0 + c, 0.0, a], [b, a, 0.0]])
    numpy.testing.assert_allclose(hessian(lambda x: tnp.sum(tnp.cumulative_prod(x)))(numpy.array([a, b, c])), expected)


@pytest.mark.parametrize(
    "options",
    [{}, {"ord": 1}, {"ord": 3}, {"ord": 0.5}, {"ord": numpy.inf}, {"ord": -numpy.inf}, {"axis": 1}, {"axis": (0, 2), "keepdims": True}, {"axis": -1, "ord": 1, "keepdims": True}],
    ids=str,
)
def test_vector_norm(options):
    x = random_array(2, 3, 4)
    numpy.testing.assert_allclose(tnp.linalg.vector_norm(x, **options), numpy.linalg.vector_norm(x, **options))
    assert_reverse_matches(weighted(lambda x: tnp.linalg.vector_norm(x, **options)), x)


def test_vector_norm_zero_order_counts_non_zeros_and_has_no_derivative():
    x = numpy.array([0.0, 2.0, -1.0])
    assert tnp.linalg.vector_norm(x, ord=0) == numpy.linalg.vector_norm(x, ord=0) == 2.0
    with pytest.warns(UserWarning, match="independent"):
        assert numpy.all(grad(lambda x: tnp.linalg.vector_norm(x, ord=0))(x) == 0)


@pytest.mark.parametrize("order", ["fro", "nuc", 1, -1, 2, -2, numpy.inf, -numpy.inf])
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norm(order, keepdims):
    x = random_array(2, 3, 4)
    numpy.testing.assert_allclose(
        tnp.linalg.matrix_norm(x, ord=order, keepdims=keepdims), numpy.linalg.matrix_norm(x, ord=order, keepdims=keepdims)
    )
    assert_reverse_matches(weighted(lambda x: tnp.linalg.matrix_norm(x, ord=order, keepdims=keepdims)), x)


def test_matrix_norm_rejects_an_unknown_order():
    with pytest.raises(ValueError, match="Invalid norm order"):
        tnp.linalg.matrix_norm(numpy.eye(2), ord=3)


def test_vecdot_conjugates_its_first_argument_like_numpy():
    x1, x2 = numpy.array([1 + 2j, 3j]), numpy.array([2 - 1j, 1 + 1j])
    assert tnp.vecdot(x1, x2) == numpy.vecdot(x1, x2)


def test_conversions_and_copies_pass_the_derivative_through():
    x = random_array(3)
    for conversion in (tnp.asarray, tnp.asanyarray, tnp.ascontiguousarray, tnp.asfortranarray, tnp.copy, tnp.positive):
        numpy.testing.assert_allclose(elementwise_grad(lambda x: conversion(x) * 3.0)(x), 3.0)
        assert_forward_matches(lambda x: conversion(x) * 3.0, x)


def test_astype_has_a_forward_rule():
    assert_forward_matches(lambda x: x.astype(numpy.float64) ** 2, random_array(3))


def test_missing_numpy_names_are_present():
    for name in ["newaxis", "pi", "e", "inf", "nan", "float32", "int64", "complex128", "dtype", "s_", "index_exp"]:
        assert hasattr(tnp, name), name
    assert tnp.dtype is numpy.dtype
    assert tnp.zeros(2, dtype=tnp.int64).dtype == numpy.int64
    assert tnp.ones((1, 2))[tnp.newaxis].shape == (1, 1, 2)


def test_submodules_are_the_traceable_ones():
    assert tnp.linalg.__name__ == "zygote_nb.numpy.linalg"
    assert tnp.fft.__name__ == "zygote_nb.numpy.fft"
    assert tnp.random.__name__ == "zygote_nb.numpy.random"


# ----- Joins -----

A = random_array(2, 3, seed=5)
B = random_array(2, 3, seed=6)
ROW = random_array(3, seed=8)

JOINS = {
    "concatenate axis 0": (lambda x: tnp.concatenate([x, B, 2 * x]), lambda x: numpy.concatenate([x, B, 2 * x])),
    "concatenate axis -1": (
        lambda x: tnp.concatenate([B, x**2], axis=-1),
        lambda x: numpy.concatenate([B, x**2], axis=-1),
    ),
    "concatenate axis None": (
        lambda x: tnp.concatenate([x, ROW], axis=None),
        lambda x: numpy.concatenate([x, ROW], axis=None),
    ),
    "concatenate list input": (
        lambda x: tnp.concatenate([[[1.0, 2.0, 3.0]], x]),
        lambda x: numpy.concatenate([[[1.0, 2.0, 3.0]], x]),
    ),
    "stack axis 0": (lambda x: tnp.stack([x, B, x * B]), lambda x: numpy.stack([x, B, x * B])),
    "stack axis 2": (lambda x: tnp.stack([B, x], axis=2), lambda x: numpy.stack([B, x], axis=2)),
    "stack axis -2": (lambda x: tnp.stack([x, B], axis=-2), lambda x: numpy.stack([x, B], axis=-2)),
    "stack of 0-d": (
        lambda x: tnp.stack([x[0, 0], 1.0, x[1, 2] * x[0, 1]]),
        lambda x: numpy.stack([x[0, 0], 1.0, x[1, 2] * x[0, 1]]),
    ),
    "hstack 2-d": (lambda x: tnp.hstack([x, B]), lambda x: numpy.hstack([x, B])),
    "hstack 1-d and 0-d": (
        lambda x: tnp.hstack([x[0], ROW, x[1, 1]]),
        lambda x: numpy.hstack([x[0], ROW, x[1, 1]]),
    ),
    "vstack": (lambda x: tnp.vstack([x, ROW, x[0]]), lambda x: numpy.vstack([x, ROW, x[0]])),
    "row_stack": (lambda x: tnp.row_stack([x[1], x]), lambda x: numpy.vstack([x[1], x])),
    "dstack": (lambda x: tnp.dstack([x, B, x * x]), lambda x: numpy.dstack([x, B, x * x])),
    "dstack 1-d": (lambda x: tnp.dstack([x[0], ROW]), lambda x: numpy.dstack([x[0], ROW])),
    "column_stack": (
        lambda x: tnp.column_stack([x[0], ROW, x.T]),
        lambda x: numpy.column_stack([x[0], ROW, x.T]),
    ),
    "array of traced": (
        lambda x: tnp.array([x[0], ROW, x[1] ** 2]),
        lambda x: numpy.array([x[0], ROW, x[1] ** 2]),
    ),
}


@pytest.mark.parametrize("name", list(JOINS))
def test_join_has_numpy_value(name):
    traced, reference = JOINS[name]
    result = traced(A)
    numpy.testing.assert_allclose(result, reference(A))
    assert numpy.shape(result) == numpy.shape(reference(A))


@pytest.mark.parametrize("name", list(JOINS))
def test_join_reverse_mode_matches_finite_differences(name):
    assert_reverse_matches(weighted(JOINS[name][0]), A)


@pytest.mark.parametrize("name", list(JOINS))
def test_join_forward_mode_matches_finite_differences(name):
    assert_forward_matches(JOINS[name][0], A)


def test_join_promotes_dtypes_like_numpy():
    low = numpy.ones(2, dtype=numpy.float32)
    assert tnp.concatenate([low, ROW]).dtype == numpy.concatenate([low, ROW]).dtype == numpy.float64
    assert tnp.stack([low, low]).dtype == numpy.float32
    assert tnp.stack([low, low], dtype=numpy.float64).dtype == numpy.float64
    gradient = grad(lambda x: tnp.sum(tnp.concatenate([x, numpy.ones(2, dtype=numpy.float32)])))(ROW)
    numpy.testing.assert_allclose(gradient, numpy.ones(3))


def test_join_with_complex_array_gives_real_input_a_real_gradient():
    def f(x):
        joined = tnp.stack([x, 1j * ROW])
        return tnp.sum(tnp.real(joined * (1 - 2j)))

    gradient = grad(f)(ROW)
    assert not numpy.iscomplexobj(gradient)
    numpy.testing.assert_allclose(gradient, numpy.ones(3))


def test_join_second_derivative_matches_hand_derivation():
    x = random_array(4)
    # sum(x**2 + x**3) has Hessian diag(2 + 6x), through stack and concatenate.
    for join in (tnp.stack, tnp.concatenate):
        numpy.testing.assert_allclose(hessian(lambda x: tnp.sum(join([x**2, x**3])))(x), numpy.diag(2 + 6 * x))


def test_join_of_many_traced_values_has_the_plain_derivative():
    k = 300
    x = random_array(k)
    numpy.testing.assert_allclose(grad(lambda x: tnp.sum(tnp.stack([x[i] * 2 for i in range(k)])))(x), 2.0)
    parts = lambda x: [x[i : i + 1] * (i + 1) for i in range(k)]  # noqa: E731
    numpy.testing.assert_allclose(grad(lambda x: tnp.sum(tnp.concatenate(parts(x))))(x), numpy.arange(1, k + 1))
    _, tangent = make_jvp(lambda x: tnp.concatenate(parts(x)))(x)(numpy.ones(k))
    numpy.testing.assert_allclose(tangent, numpy.arange(1, k + 1))


def test_join_errors_are_numpys():
    with pytest.raises(ValueError, match="need at least one array"):
        tnp.stack([])
    with pytest.raises(ValueError):
        tnp.stack([A, ROW])
    with pytest.raises(numpy.exceptions.AxisError):
        tnp.concatenate([A, B], axis=2)
