"""hvp against the dense Hessian (the engine's batched forward-over-reverse sweep) and finite differences."""

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as np


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 1, 3)])
def test_hvp_of_an_array_of_any_shape_is_the_dense_hessian_times_v(shape):
    random = numpy.random.default_rng(0)
    x, v = random.standard_normal(shape), random.standard_normal(shape)
    f = lambda x: np.sum(np.sin(x) * np.cos(np.sum(x ** 2)))
    product = zn.hvp(f, x, v)
    assert numpy.shape(product) == shape
    dense = numpy.atleast_2d(zn.hessian_reverse(f, x))
    numpy.testing.assert_allclose(numpy.ravel(product), dense @ numpy.ravel(v), atol=1e-12)


def test_hvp_of_several_arguments_is_the_gradient_difference_quotient():
    random = numpy.random.default_rng(1)
    point = {"W": random.standard_normal((3, 2)), "b": random.standard_normal(2)}
    direction = {"W": random.standard_normal((3, 2)), "b": random.standard_normal(2)}
    f = lambda p: np.sum(np.tanh(numpy.ones((4, 3)) @ p["W"] + p["b"]) ** 2)
    product = zn.hvp(f, point, direction)
    step = 1e-5
    moved = [{key: point[key] + sign * step * direction[key] for key in point} for sign in (1, -1)]
    forward, backward = (zn.gradient(f, p)[0] for p in moved)
    for key in point:
        numpy.testing.assert_allclose(product[key], (forward[key] - backward[key]) / (2 * step), rtol=1e-6, atol=1e-8)


def test_a_direction_of_the_wrong_shape_gets_an_error_naming_the_expected_shape():
    with pytest.raises(ValueError, match=r"v must have the shape of x: expected \(3,\), got \(4,\)"):
        zn.hvp(lambda x: np.sum(x ** 2), numpy.ones(3), numpy.ones(4))


def test_a_non_scalar_function_is_refused_with_the_hessians_message():
    with pytest.raises(Exception, match="scalar"):
        zn.hvp(lambda x: x ** 2, numpy.ones(3), numpy.ones(3))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # sqrt's derivatives at 0, on purpose
def test_a_point_where_the_products_are_not_finite_gets_a_clear_error():
    with pytest.raises(FloatingPointError, match="not finite or not twice differentiable"):
        zn.hessian_spectrum(lambda x: np.sum(np.sqrt(x)), numpy.array([0.0, 1.0]), k=1)


def test_hvp_with_params_is_the_explicit_hvp_keyed_by_parameter():
    W, b = numpy.array([[0.1, -0.2], [0.05, 0.3]]), numpy.array([0.3, -0.1])
    loss = lambda: np.sum(np.tanh(W @ numpy.array([1.0, 2.0]) + b) ** 2)
    direction_W, direction_b = numpy.ones((2, 2)), numpy.array([1.0, -1.0])
    products = zn.hvp(loss, zn.Params([W, b]), [direction_W, direction_b])
    explicit = lambda p: np.sum(np.tanh(p[0] @ numpy.array([1.0, 2.0]) + p[1]) ** 2)
    dense = zn.hessian(lambda flat: explicit((np.reshape(flat[:4], (2, 2)), flat[4:])),
                       numpy.concatenate([W.ravel(), b]))
    expected = dense @ numpy.concatenate([direction_W.ravel(), direction_b])
    numpy.testing.assert_allclose(products[W].ravel(), expected[:4], atol=1e-12)
    numpy.testing.assert_allclose(products[b], expected[4:], atol=1e-12)
    spectrum = zn.hessian_spectrum(loss, zn.Params([W, b]), k=1, seed=0)
    numpy.testing.assert_allclose(spectrum.largest, numpy.linalg.eigvalsh(dense)[-1:], rtol=1e-8)
