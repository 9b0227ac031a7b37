"""Plain ``numpy`` calls on values traced by zygote_nb: the same derivatives as traced numpy.

(Plain autograd's own traces are left as autograd has them: tests/test_autograd_unchanged.py.)
"""

import warnings

import autograd.numpy as anp
import numpy
import pytest
from autograd.numpy.numpy_boxes import ArrayBox

import zygote_nb.numpy as tnp
from zygote_nb import dispatch, gradient, hessian
from zygote_nb.forward import jvp
from zygote_nb.errors import DifferentiationError

RNG = numpy.random.default_rng(0)
W = RNG.normal(size=(3, 3))
X = RNG.normal(size=3)
M = RNG.normal(size=(2, 3))

# name: (written with plain numpy, written with autograd.numpy, point)
PAIRS = {
    "dot": (lambda x: numpy.sum(numpy.dot(W, x)), lambda x: anp.sum(anp.dot(W, x)), X),
    "matmul": (lambda x: numpy.sum(numpy.matmul(W, x) ** 2), lambda x: anp.sum(anp.matmul(W, x) ** 2), X),
    "array @ box": (lambda x: numpy.sum((W @ x) ** 2), lambda x: anp.sum(anp.dot(W, x) ** 2), X),
    "sum axis=0": (lambda x: numpy.sum(x * M, axis=0)[1], lambda x: anp.sum(x * M, axis=0)[1], M),
    "mean": (lambda x: numpy.mean(x**2), lambda x: anp.mean(x**2), M),
    "linalg.det": (lambda x: numpy.linalg.det(W + x), lambda x: anp.linalg.det(W + x), W.T),
    "linalg.inv": (lambda x: numpy.sum(numpy.linalg.inv(x)), lambda x: anp.sum(anp.linalg.inv(x)), W),
    "linalg.norm": (lambda x: numpy.linalg.norm(x), lambda x: anp.linalg.norm(x), X),
    "fft.fft": (
        lambda x: numpy.sum(numpy.real(numpy.fft.fft(x * x))),
        lambda x: anp.sum(anp.real(anp.fft.fft(x * x))),
        X,
    ),
    "concatenate": (
        lambda x: numpy.sum(numpy.concatenate([x, W]) ** 2),
        lambda x: anp.sum(anp.concatenate([x, W]) ** 2),
        M,
    ),
    "stack": (lambda x: numpy.sum(numpy.stack([x, x * x], axis=1)), lambda x: anp.sum(anp.stack([x, x * x], axis=1)), X),
    "where": (
        lambda x: numpy.sum(numpy.where(x > 0, x**2, -x)),
        lambda x: anp.sum(anp.where(x > 0, x**2, -x)),
        X,
    ),
    "einsum": (
        lambda x: numpy.einsum("ij,j->", W, numpy.tanh(x)),
        lambda x: anp.einsum("ij,j->", W, anp.tanh(x)),
        X,
    ),
    "ufuncs and operators": (
        lambda x: numpy.sum(numpy.sin(x) * X + X * numpy.exp(x) - X / (2 + x)),
        lambda x: anp.sum(anp.sin(x) * X + X * anp.exp(x) - X / (2 + x)),
        X,
    ),
    "reshape and transpose": (
        lambda x: numpy.sum(numpy.transpose(numpy.reshape(x, (3, 2))) * M),
        lambda x: anp.sum(anp.transpose(anp.reshape(x, (3, 2))) * M),
        M,
    ),
    "vecdot (a gufunc)": (lambda x: numpy.sum(numpy.vecdot(W, x)), lambda x: anp.sum(anp.dot(W, x)), X),
    "linalg.vector_norm": (
        lambda x: numpy.linalg.vector_norm(x, ord=3),
        lambda x: anp.sum(anp.abs(x) ** 3) ** (1 / 3),
        X,
    ),
    "cumulative_sum": (
        lambda x: numpy.sum(numpy.cumulative_sum(x) * X),
        lambda x: anp.sum(anp.cumsum(x) * X),
        X,
    ),
    "shape queries": (
        lambda x: numpy.sum(x * numpy.size(x) * numpy.ndim(x) + numpy.zeros_like(x)) * numpy.shape(x)[0],
        lambda x: anp.sum(x * 3.0) * 3.0,
        X,
    ),
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_plain_numpy_call_has_the_traced_gradient(name):
    plain, traced, x = PAIRS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", dispatch.ObjectArrayWarning)
        numpy.testing.assert_allclose(gradient(plain, x), gradient(traced, x), rtol=1e-12, atol=1e-12)


def test_plain_numpy_call_is_traced_in_forward_mode():
    direction = numpy.array([1.0, -2.0, 0.5])
    _, tangent = jvp(lambda x: numpy.dot(W, numpy.tanh(x)), X, direction)
    numpy.testing.assert_allclose(tangent, W @ ((1 - numpy.tanh(X) ** 2) * direction))


def test_plain_numpy_second_derivative_matches_hand_derivation():
    # f(x) = sum((W x)**3) has Hessian W^T diag(6 W x) W.
    expected = W.T @ numpy.diag(6 * (W @ X)) @ W
    for engine in ("batched", "loop"):
        numpy.testing.assert_allclose(hessian(lambda x: numpy.sum(numpy.dot(W, x) ** 3), X, engine=engine), expected)


def test_large_dot_of_a_box_stays_a_float_array():
    big = numpy.random.default_rng(1).normal(size=(200, 200))
    seen = []

    def f(x):
        product = numpy.dot(big, x)
        seen.append(product)
        return numpy.sum(numpy.tanh(product))

    (result,) = gradient(f, numpy.ones(200))
    assert isinstance(seen[0], ArrayBox)
    assert seen[0]._value.dtype == numpy.float64 and seen[0].shape == (200,)
    assert result.dtype == numpy.float64
    numpy.testing.assert_allclose(result, big.T @ (1 - numpy.tanh(big @ numpy.ones(200)) ** 2))


def test_numpy_function_without_traced_version_raises_numpys_type_error():
    with pytest.raises(TypeError, match="no implementation found for 'numpy.lib.stride_tricks.sliding_window_view'"):
        gradient(lambda x: numpy.sum(numpy.lib.stride_tricks.sliding_window_view(x, 2)), X)


def test_asarray_of_a_box_warns_and_keeps_the_gradient():
    with pytest.warns(dispatch.ObjectArrayWarning, match="zygote_nb.numpy.asarray"):
        (result,) = gradient(lambda x: numpy.sum(numpy.asarray(x) ** 2), X)
    numpy.testing.assert_allclose(result, 2 * X)


def test_asarray_of_a_box_to_a_numeric_dtype_raises():
    with pytest.raises(TypeError, match="gradient would be lost"):
        gradient(lambda x: anp.sum(numpy.asarray(x, dtype=float)), X)


def test_traced_function_calling_numpy_on_boxes_again_gets_numpys_implementation():
    # autograd's ``block`` wrapper passes the list of boxes straight to numpy.block,
    # which dispatches back: that inner call runs NumPy's own code (object arrays).
    with pytest.warns(dispatch.ObjectArrayWarning):
        (result,) = gradient(lambda x: numpy.sum(numpy.block([x, x * x])), X)
    numpy.testing.assert_allclose(result, 1 + 2 * X)


def test_numpy_on_plain_arrays_is_untouched():
    assert numpy.dot(W, X).dtype == numpy.float64
    numpy.testing.assert_allclose(tnp.linalg.det(W), numpy.linalg.det(W))


def test_install_is_idempotent():
    dispatch.install()
    dispatch.install()
    numpy.testing.assert_allclose(gradient(lambda x: numpy.sum(numpy.dot(W, x)), X)[0], W.sum(axis=0))


def test_a_plain_array_indexed_by_an_integer_input_gives_the_one_clear_error_and_no_warning():
    table = numpy.arange(5.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DifferentiationError, match="an array used as an index must not be an input"):
            gradient(lambda index: numpy.sum(table[index]), numpy.array([0, 2]))
    assert [str(warning.message) for warning in caught] == []


def test_asarray_warning_points_at_the_line_that_asked():
    with pytest.warns(dispatch.ObjectArrayWarning) as caught:
        gradient(lambda x: numpy.sum(numpy.asarray(x) ** 2), X)
    assert [warning.filename for warning in caught] == [__file__]
