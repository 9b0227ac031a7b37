"""Every example of Zygote's Utilities page, in Python form (C order), asserting what the page says."""

from collections import namedtuple

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as np


def test_jacobian_first_index_is_output():
    J = zn.jacobian(lambda a: 100 * a[:3] ** 2, numpy.arange(1, 8))[0]
    expected = numpy.zeros((3, 7))
    expected[[0, 1, 2], [0, 1, 2]] = [200, 400, 600]
    numpy.testing.assert_array_equal(J, expected)


def test_jacobian_scalar_argument_has_vector_jacobian():
    Ja, Jx = zn.jacobian(lambda a, x: a**2 * x, numpy.array([1, 2, 3]), 1)
    numpy.testing.assert_array_equal(Ja, numpy.diag([2.0, 4.0, 6.0]))
    numpy.testing.assert_array_equal(Jx, [1.0, 4.0, 9.0])


def test_jacobian_of_prod_along_a_dimension_given_as_an_integer_argument():
    a = numpy.array([[1, 2], [3, 4], [5, 6]])
    Ja, Jd = zn.jacobian(lambda a, d: np.prod(a, axis=d), a, 1)
    # C order: y[k] = a[k, 0] * a[k, 1]; column i of Ja is a.ravel()[i].
    expected = numpy.array([[2, 1, 0, 0, 0, 0], [0, 0, 4, 3, 0, 0], [0, 0, 0, 0, 6, 5]], dtype=float)
    numpy.testing.assert_array_equal(Ja, expected)
    numpy.testing.assert_array_equal(Jd, [0.0, 0.0, 0.0])


def test_jacobian_of_a_non_number_argument_is_none():
    Ja, Js = zn.jacobian(lambda a, s: a ** len(s), numpy.array([1, 2, 3]), "str")
    numpy.testing.assert_array_equal(Ja, numpy.diag([3.0, 12.0, 27.0]))
    assert Js is None


def test_jacobian_gives_none_for_a_tuple_that_gradient_understands():
    f = lambda a, t: np.sum(a * t[0]) + t[1]
    Ja, Jt = zn.jacobian(f, numpy.array([1, 2, 3]), (4, 5))
    numpy.testing.assert_array_equal(Ja, [[4.0, 4.0, 4.0]])
    assert Jt is None
    ga, gt = zn.gradient(f, numpy.array([1, 2, 3]), (4, 5))
    numpy.testing.assert_array_equal(ga, [4.0, 4.0, 4.0])
    assert gt == (6.0, 1.0)


def test_jacobian_with_params():
    xs = numpy.array([[1, 2], [3, 4]])
    ys = numpy.array([5, 7, 9])
    Jxy = zn.jacobian(lambda: ys[:2] + np.sum(xs**2), zn.Params([xs, ys]))
    numpy.testing.assert_array_equal(Jxy[ys], [[1, 0, 0], [0, 1, 0]])
    numpy.testing.assert_array_equal(Jxy[xs], [[2, 4, 6, 8], [2, 4, 6, 8]])


def test_hessian_of_a_product():
    H = zn.hessian(lambda x: x[0] * x[1], numpy.random.default_rng(0).normal(size=2))
    numpy.testing.assert_array_equal(H, [[0.0, 1.0], [1.0, 0.0]])


def test_hessian_uses_linear_indexing_in_c_order():
    H = zn.hessian(lambda x: np.sum(x**3), numpy.array([[1, 2], [3, 4]]))
    numpy.testing.assert_array_equal(H, numpy.diag([6.0, 12.0, 18.0, 24.0]))


def test_hessian_of_a_scalar_function_is_a_scalar():
    assert zn.hessian(np.sin, numpy.pi / 2) == pytest.approx(-1.0)


def test_hessian_reverse_agrees():
    f = lambda x: np.sum(x**3)
    x = numpy.array([[1, 2], [3, 4]])
    numpy.testing.assert_allclose(zn.hessian_reverse(f, x), zn.hessian(f, x))


def test_diaghessian_examples():
    d = zn.diaghessian(lambda x: np.sum(x**3), numpy.array([[1, 2], [3, 4]]))[0]
    numpy.testing.assert_array_equal(d, [[6.0, 12.0], [18.0, 24.0]])
    numpy.testing.assert_array_equal(numpy.diag(d.ravel()), zn.hessian(lambda x: np.sum(x**3), numpy.array([[1, 2], [3, 4]])))
    x, y = numpy.array([[1, 22], [333, 4]]), numpy.array([0.5, 0.666])
    # Julia's y' is a row: x .* y .* y' multiplies x[i, j] by y[i] * y[j].
    dx, dy = zn.diaghessian(lambda x, y: np.sum(x * y[:, None] * y[None, :]), x, y)
    numpy.testing.assert_array_equal(dx, numpy.zeros((2, 2)))
    numpy.testing.assert_allclose(dy, [2.0, 8.0])
    numpy.testing.assert_allclose(zn.diaghessian(np.arctan2, 1, 2), (-0.16, 0.16))


def test_full_hessian_of_atan_is_not_diagonal():
    H = zn.hessian(lambda xy: np.arctan2(xy[0], xy[1]), numpy.array([1, 2]))
    numpy.testing.assert_allclose(H, [[-0.16, -0.12], [-0.12, 0.16]])


def test_withgradient_of_division():
    y, grad = zn.withgradient(lambda a, b: a / b, 1, 2)
    assert y == 0.5 and grad == (0.5, -0.25)
    assert grad == zn.gradient(lambda a, b: a / b, 1, 2)


def test_withgradient_with_an_auxiliary_output():
    def f(x):
        z = 1 / x
        return np.sum(z), z

    val, grad = zn.withgradient(f, numpy.array([1, 2, 4]))
    assert val[0] == 1.75
    numpy.testing.assert_array_equal(val[1], [1.0, 0.5, 0.25])
    numpy.testing.assert_array_equal(grad[0], [-1.0, -0.25, -0.0625])


def test_withgradient_of_a_namedtuple_output():
    DivMul = namedtuple("DivMul", "div mul")
    val, grad = zn.withgradient(lambda x, y: DivMul(x / y, x * y), 3.0, 4.0)
    assert val == DivMul(0.75, 12.0)
    assert grad == (0.25, -0.1875)


def test_withgradient_with_params():
    w = numpy.array([3.0])
    res = zn.withgradient(lambda: np.sum(w**2), zn.Params([w]))
    assert res.val == 9.0
    numpy.testing.assert_array_equal(res.grad[w], [6.0])


def test_withjacobian_of_cumsum():
    val, grad = zn.withjacobian(np.cumsum, numpy.array([1, 2, 3]))
    numpy.testing.assert_array_equal(val, [1, 3, 6])
    numpy.testing.assert_array_equal(grad[0], [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
