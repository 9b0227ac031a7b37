"""Jacobians, Hessians, forwarddiff, Buffer and checkpointed on duck arrays: device results, NumPy values.

As in ``test_backend_duck.py``, each case runs on NumPy arrays and on duck
arrays (CuPy's manners on the CPU), and nothing may reach the host.
"""

import copy

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as np
from duck import DuckArray, duck
from test_backend_duck import X, V, W, assert_like_numpy, run_both
from zygote_nb.buffer import Buffer
from zygote_nb.checkpoint import checkpointed
from zygote_nb.forwarddiff import forwarddiff

ENGINES = ["batched", "loop"]

JACOBIAN_CASES = {
    "tanh_layer": (lambda x, w: np.tanh(w @ x), V, W),
    "cumsum": (np.cumsum, V),
    "integer_input_slice": (lambda a: 100 * a[:3] ** 2, numpy.arange(1, 8)),
    "scalar_output": (lambda x: np.sum(np.exp(x)), V),
    "joins_and_reductions": (lambda x: np.concatenate([np.max(x, axis=0), np.mean(x**2, axis=1)]), X),
}

HESSIAN_CASES = {
    "cubes": (lambda x: np.sum(x**3), X),
    "product": (lambda x: x[0] * x[1], V),
    "where_einsum_index": (lambda x: np.sum(np.where(x > 0.7, x**2, np.sin(x)))
                           + np.einsum("i,i->", x, x[::-1]) + x[1] * x[2] ** 2, V),
    "joins_reductions": (lambda x: np.sum(np.concatenate([x, x**2]) ** 2) + np.sum(np.stack([x, x**3]) * x)
                         + np.mean(x) * np.max(x) + np.sum(np.array([x[0] * x[1], x[2]]) ** 2), V),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(JACOBIAN_CASES))
def test_jacobian_on_duck_arrays_equals_numpy(name, engine):
    f, *args = JACOBIAN_CASES[name]
    run_both(zn.jacobian, f, *args, engine=engine)


def test_withjacobian_and_a_scalar_argument():
    # The Python-number argument's gradient is a Python number: one scalar read per Jacobian row.
    result = run_both(zn.withjacobian, lambda a, s: a**2 * s, V, 1.5, number_gradients=len(V), engine="loop")
    assert isinstance(result.grad[1], DuckArray) and result.grad[1].shape == (4,)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("operator", [zn.hessian, zn.hessian_reverse])
@pytest.mark.parametrize("name", sorted(HESSIAN_CASES))
def test_hessians_on_duck_arrays_equal_numpy(name, operator, engine):
    f, x = HESSIAN_CASES[name]
    run_both(operator, f, x, engine=engine)


@pytest.mark.parametrize("operator", [zn.hessian, zn.hessian_reverse])
def test_hessian_of_a_layer_with_device_weights(operator):
    weights = duck(W)
    expected = operator(lambda x: np.sum(np.tanh(W @ x) ** 2), V)
    before = DuckArray.host_transfers
    result = operator(lambda x: np.sum(np.tanh(weights @ x) ** 2), duck(V))
    assert DuckArray.host_transfers == before
    assert_like_numpy(result, expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_diaghessian_on_duck_arrays_equals_numpy(engine):
    run_both(zn.diaghessian, lambda x, v: np.sum(x**3) * np.sum(np.sin(v) * v), X, V, engine=engine)


def test_forwarddiff_inside_a_gradient_on_duck_arrays():
    run_both(zn.gradient, lambda x: forwarddiff(lambda y: np.sum(np.sin(y) * y), x) * np.sum(x), V)


def test_checkpointed_inside_a_gradient_on_duck_arrays():
    run_both(zn.gradient, lambda x, w: np.sum(checkpointed(lambda a, b: np.tanh(b @ a), x, w) ** 2), V, W)


def test_buffer_inside_a_gradient_on_duck_arrays():
    def f(x):
        buffer = Buffer(x, 2, 4)
        buffer[0] = x * 2.0
        buffer[1, 1:] = x[:3] ** 2
        buffer[1, 0] = buffer[0, 3]
        return np.sum(copy.copy(buffer) ** 2)

    run_both(zn.gradient, f, V)


def test_jacobian_with_respect_to_params_of_duck_arrays():
    w, v = W.copy(), V.copy()
    expected = zn.jacobian(lambda: np.tanh(w @ v), zn.Params([w]))[w]
    device_w, device_v = duck(W), duck(V)
    result = zn.jacobian(lambda: np.tanh(device_w @ device_v), zn.Params([device_w]))[device_w]
    assert_like_numpy(result, expected)
