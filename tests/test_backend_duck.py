"""The API on device arrays, proved on the CPU with the duck array of ``duck.py``.

Every case runs twice: on NumPy arrays (autograd's own code path) and on the
same values uploaded as duck arrays, which refuse any conversion to NumPy.
The duck results must be duck arrays with the NumPy values, and
:attr:`DuckArray.host_transfers` must not move: nothing reached the host.
The duck type is registered exactly as CuPy is, so this is the CuPy code path.
"""

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as np
from duck import DuckArray, duck, host

rng = numpy.random.default_rng(7)
X = rng.uniform(-1.0, 1.0, size=(3, 4))
V = rng.uniform(0.5, 1.5, size=4)
W = rng.uniform(-1.0, 1.0, size=(4, 4))


def on_duck(value):
    """``value`` with every NumPy array in it (in tuples, lists, dicts) uploaded as a duck array."""
    if isinstance(value, numpy.ndarray):
        return duck(value)
    if isinstance(value, (tuple, list)):
        return type(value)(on_duck(item) for item in value)
    if isinstance(value, dict):
        return {key: on_duck(item) for key, item in value.items()}
    return value


def assert_like_numpy(duck_result, numpy_result):
    """Same structure; duck arrays where NumPy has arrays; equal values."""
    if isinstance(numpy_result, numpy.ndarray):
        assert isinstance(duck_result, DuckArray), f"expected a duck array, got {type(duck_result).__name__}"
        assert duck_result.dtype == numpy_result.dtype and duck_result.shape == numpy_result.shape
        numpy.testing.assert_allclose(host(duck_result), numpy_result, rtol=1e-12, atol=1e-14)
    elif isinstance(numpy_result, (tuple, list)):
        assert type(duck_result) is type(numpy_result) and len(duck_result) == len(numpy_result)
        for duck_part, numpy_part in zip(duck_result, numpy_result):
            assert_like_numpy(duck_part, numpy_part)
    elif isinstance(numpy_result, dict):
        assert duck_result.keys() == numpy_result.keys()
        for key in numpy_result:
            assert_like_numpy(duck_result[key], numpy_result[key])
    elif numpy_result is None:
        assert duck_result is None
    else:  # a number: a Python number for a Python-number argument, a 0-d duck array otherwise
        numpy.testing.assert_allclose(host(duck_result), numpy_result, rtol=1e-12)


def run_both(operator, f, *args, number_gradients=0, **options):
    """``operator(f, *args)`` on NumPy and on duck arrays; checks they agree and nothing reached the host.

    The gradient of a Python-number argument is a Python number: each of
    those ``number_gradients`` reads one scalar from the device, and nothing else may.
    """
    expected = operator(f, *args, **options)
    before = DuckArray.host_transfers
    result = operator(f, *on_duck(args), **options)
    assert DuckArray.host_transfers == before + number_gradients, "an array was copied to the host"
    assert_like_numpy(result, expected)
    return result


GRADIENT_CASES = {
    "elementwise": (lambda x: np.sum(np.sin(x) * np.cos(x) + np.exp(0.3 * x) + np.log(1.5 + x**2)
                                     + np.sqrt(1.0 + x**2) + np.tanh(x) + np.arctan(x) + np.abs(x)
                                     + 1.0 / (2.0 + np.sinh(x)) - np.cosh(0.5 * x)), X),
    "maximum_minimum_logaddexp": (lambda x: np.sum(np.maximum(x, 0.2) * np.minimum(x, -0.1)
                                                   + np.logaddexp(x, 0.5 * x)), X),
    "powers": (lambda x, v: np.sum(x**3 + v**v + 2.0**v + np.square(v) + x**0), X, V),
    "where_clip": (lambda x: np.sum(np.where(x > 0, x, x**2) + np.clip(x, -0.5, 0.5)), X),
    "where_with_arrays": (lambda x, c: np.sum(np.where(c > 0.3, x, 2.0 * x)), X, X[::-1]),
    "matmul_dot": (lambda x, w: np.sum(np.tanh(x @ w) + np.dot(x, w)), X, W),
    "dot_vector": (lambda w, v: np.dot(np.dot(w, v), v), W, V),
    "inner_outer_tensordot": (lambda v, w: np.inner(v, v) + np.sum(np.outer(v, v) * w)
                              + np.sum(np.tensordot(w, w, axes=1)), V, W),
    "einsum": (lambda x, w: np.sum(np.einsum("ij,jk->ik", x, w)) + np.einsum("ij->", x * x)
               + np.sum(np.einsum("ij,j->i", w, w[0])), X, W),
    "reductions": (lambda x: np.sum(np.sum(x, axis=0, keepdims=True) * np.mean(x, axis=1)[:, None])
                   + np.sum(np.max(x, axis=1)) - np.min(x) + np.sum(np.prod(1.0 + 0.1 * x, axis=0))
                   + np.var(x) + np.std(x, axis=1).sum() + np.sum(x, axis=(0, 1)), X),
    "shapes": (lambda x: np.sum(np.reshape(np.transpose(x), (2, 6)) ** 2) + np.sum(x.T[0] * 3.0)
               + np.sum(np.swapaxes(x[None], 0, 2)[0]) + np.sum(np.moveaxis(x, 0, 1) * np.ravel(x)[:3])
               + np.sum(np.squeeze(np.expand_dims(x, 0)) ** 3) + np.sum(np.broadcast_to(x[:1], (3, 4)) * x)
               + np.sum(np.cumsum(x, axis=1) * x), X),
    "indexing": (lambda x: x[0, 1] * x[2, 3] + np.sum(x[1:, ::2] ** 2) + np.sum(x[..., -1])
                 + np.sum(x[x > 0]) + np.sum(x[numpy.array([0, 0, 2])] ** 2) + np.sum(x[None, 1]), X),
    "joins": (lambda x, v: np.sum(np.concatenate([x, x**2], axis=1)) + np.sum(np.stack([v, v**3]) * v)
              + np.sum(np.hstack([v, x[0]]) ** 2) + np.sum(np.vstack([v, x]) ** 2)
              + np.sum(np.array([v[0] * v[1], v[2]]) ** 2), X, V),
    "scalar_arguments": (lambda x, a, b: np.sum(x * a) + b * np.sum(x**2), X, 2.5, numpy.float64(0.5)),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradient_on_duck_arrays_equals_numpy(name):
    f, *args = GRADIENT_CASES[name]
    run_both(zn.gradient, f, *args, number_gradients=sum(not isinstance(arg, numpy.ndarray) for arg in args))


def test_withgradient_keeps_auxiliary_outputs_on_the_device():
    run_both(zn.withgradient, lambda x: (np.sum(x**2), x * 2.0, {"mean": np.mean(x)}), X)


def test_pullback_with_an_array_cotangent_on_the_device():
    value, back = zn.pullback(lambda x, w: np.tanh(x @ w), duck(X), duck(W))
    expected_value, expected_back = zn.pullback(lambda x, w: np.tanh(x @ w), X, W)
    assert_like_numpy(value, expected_value)
    assert_like_numpy(back(duck(X[:, ::-1])), expected_back(X[:, ::-1]))


def test_containers_of_duck_arrays_get_gradients_of_the_same_structure():
    def f(pair, weights):
        return np.sum(pair[0] * pair[1]) + np.sum(weights["w"] ** 2) * weights["scale"]

    run_both(zn.gradient, f, (X[0], V), {"w": W, "scale": 3.0}, number_gradients=1)
    duck_gradient = zn.gradient(f, (duck(X[0]), duck(V)), {"w": duck(W), "scale": 3.0, "name": "w"})
    assert duck_gradient[1]["name"] is None and isinstance(duck_gradient[1]["scale"], float)


def test_integer_duck_arrays_are_differentiated_as_floats_and_float32_is_kept():
    run_both(zn.gradient, lambda x: np.sum(x[1:] * 0.5), numpy.array([1, 2, 3]))
    run_both(zn.gradient, lambda x: np.sum(np.sin(x) * 2.0), X.astype(numpy.float32))


def test_gradient_of_a_zero_dimensional_duck_array():
    run_both(zn.gradient, lambda x: np.sin(x) * x, numpy.array(0.7))


def test_params_and_grads_hold_duck_arrays():
    w, b = duck(W), duck(V)
    ps = zn.Params([w, b])
    before = DuckArray.host_transfers
    gs = zn.gradient(lambda: np.sum(np.tanh(w @ b) ** 2) + np.sum(b), ps)
    total = gs + gs
    assert DuckArray.host_transfers == before
    expected = zn.gradient(lambda x, y: np.sum(np.tanh(x @ y) ** 2) + np.sum(y), W, V)
    assert_like_numpy(gs[w], expected[0])
    assert_like_numpy(total[b], 2 * expected[1])
