"""gradient and withgradient: the argument and output conventions of SPEC section 2."""

from collections import namedtuple

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as np
from helpers import finite_difference_gradient

Point = namedtuple("Point", "x y")


def test_array_gradient_matches_finite_differences():
    x = numpy.random.default_rng(1).normal(size=(3, 4))
    f = lambda x: np.sum(np.tanh(x) ** 2 * np.exp(0.3 * x))
    numpy.testing.assert_allclose(zn.gradient(f, x)[0], finite_difference_gradient(f, x), rtol=1e-6, atol=1e-9)


def test_gradient_has_the_shape_and_float_dtype_of_each_argument():
    grads = zn.gradient(lambda a, b, c: np.sum(a) * b + c, numpy.ones((2, 3), dtype=numpy.float32), 2, numpy.int64(4))
    assert grads[0].shape == (2, 3) and grads[0].dtype == numpy.float32
    assert grads[1] == 6.0 and isinstance(grads[1], float)
    assert grads[2] == 1.0


def test_integer_arrays_are_differentiated_as_floats():
    (g,) = zn.gradient(lambda x: np.sum(x[1:] * 0.5), numpy.array([1, 2, 3]))
    assert g.dtype == numpy.float64
    numpy.testing.assert_array_equal(g, [0.0, 0.5, 0.5])


def test_containers_get_gradients_of_the_same_structure():
    def f(t, lst, d, p):
        return t[0] * lst[1] + np.sum(d["w"]) * p.x

    grads = zn.gradient(f, (2.0, "label"), [1.0, 3.0], {"w": numpy.ones(2), "name": "w"}, Point(5.0, 7.0))
    assert grads[0] == (3.0, None)
    assert grads[1] == [None, 2.0]
    numpy.testing.assert_array_equal(grads[2]["w"], [5.0, 5.0])
    assert grads[2]["name"] is None
    assert grads[3] == Point(2.0, None) and type(grads[3]) is Point


def test_other_types_and_unused_arguments_get_none():
    grads = zn.gradient(lambda x, s, flag, unused, obj: x * len(s), 2.0, "ab", True, numpy.ones(3), object())
    assert grads == (2.0, None, None, None, None)


def test_output_independent_of_every_argument_gives_none():
    assert zn.gradient(lambda x: 3.0, 1.0) == (None,)


def test_integer_argument_used_as_index_axis_shape_and_range_bound():
    x = numpy.arange(6.0).reshape(2, 3)

    def f(x, n):
        total = np.sum(np.sum(x, n))  # axis
        total = total + x[n - 1, n] + np.sum(np.zeros((n, n)))  # index and shape
        for i in range(n):  # range bound
            total = total + x[0, i]
        return total * n  # and one differentiable use

    gx, gn = zn.gradient(f, x, 1)
    numpy.testing.assert_allclose(gx, finite_difference_gradient(lambda x: f(x, 1), x))
    assert gn == pytest.approx(f(x, 1) / 1)


def test_complex_arguments_follow_zygote_convention():
    # Zygote and PyTorch: the gradient of |z|^2 at z is 2z (steepest ascent), not its conjugate.
    (g,) = zn.gradient(lambda z: np.abs(z) ** 2, 1 + 2j)
    assert g == pytest.approx(2 + 4j)
    (garr,) = zn.gradient(lambda z: np.sum(np.real(z * np.conj(z))), numpy.array([1 + 1j, 2 - 1j]))
    numpy.testing.assert_allclose(garr, [2 + 2j, 4 - 2j])


def test_withgradient_of_dict_output_uses_first_value():
    val, grad = zn.withgradient(lambda x: {"loss": x**2, "aux": x**3}, 3.0)
    assert val == {"loss": 9.0, "aux": 27.0}
    assert grad == (6.0,)


def test_auxiliary_outputs_send_no_gradient_back():
    val, grad = zn.withgradient(lambda x, y: (x * 2.0, y * 5.0), 1.0, 1.0)
    assert grad == (2.0, None)


def test_pullback_with_a_vector_cotangent():
    value, back = zn.pullback(lambda x: x * numpy.array([1.0, 2.0]), 3.0)
    numpy.testing.assert_array_equal(value, [3.0, 6.0])
    assert back(numpy.array([1.0, 1.0])) == (3.0,)
    assert back(numpy.array([0.0, 1.0])) == (2.0,)


def test_gradient_of_gradient():
    f = lambda x: x**4
    assert zn.gradient(lambda x: zn.gradient(f, x)[0], 2.0) == (48.0,)


def test_ignore_derivatives_function_and_block():
    assert zn.gradient(lambda x: x * zn.ignore_derivatives(x), 3.0) == (3.0,)

    def f(x):
        with zn.ignore_derivatives():
            scale = np.exp(x)
        return scale * x

    assert zn.gradient(f, 0.0) == (1.0,)
    # the block is over: values computed afterwards are traced again
    assert zn.gradient(lambda x: x * x, 3.0) == (6.0,)


def test_ignore_derivatives_of_a_container():
    a, b = zn.ignore_derivatives((numpy.ones(2), "x"))
    numpy.testing.assert_array_equal(a, [1.0, 1.0])
    assert b == "x"


def test_gradients_are_arrays_of_their_own():
    # autograd hands one array to both operands of a + b; in-place edits must stay local.
    a, b = zn.gradient(lambda a, b: np.sum(a + b), numpy.ones(3), numpy.ones(3))
    a *= 10.0
    numpy.testing.assert_array_equal(b, [1.0, 1.0, 1.0])
    cotangent = numpy.array([1.0, 2.0])
    _, back = zn.pullback(lambda x: x + 1.0, numpy.zeros(2))
    (gradient,) = back(cotangent)
    gradient += 5.0
    numpy.testing.assert_array_equal(cotangent, [1.0, 2.0])
