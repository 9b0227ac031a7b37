"""jacobian, hessian, diaghessian, forwarddiff, Buffer and checkpointed on real CuPy arrays."""

import copy

import pytest

import zygote_nb as zn
import zygote_nb.numpy as np
from cupy_cases import assert_like_numpy, cupy, no_host_copies, run_both
from test_backend_duck import V, W, X
from test_backend_duck_derivatives import ENGINES, HESSIAN_CASES, JACOBIAN_CASES
from zygote_nb.buffer import Buffer
from zygote_nb.checkpoint import checkpointed
from zygote_nb.forwarddiff import forwarddiff


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(JACOBIAN_CASES))
def test_jacobian_on_cupy_arrays_equals_numpy(name, engine):
    f, *args = JACOBIAN_CASES[name]
    run_both(zn.jacobian, f, *args, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("operator", [zn.hessian, zn.hessian_reverse])
@pytest.mark.parametrize("name", sorted(HESSIAN_CASES))
def test_hessians_on_cupy_arrays_equal_numpy(name, operator, engine):
    f, x = HESSIAN_CASES[name]
    run_both(operator, f, x, engine=engine)


def test_hessian_of_a_layer_with_device_weights():
    weights = cupy.asarray(W)
    expected = zn.hessian(lambda x: np.sum(np.tanh(W @ x) ** 2), V)
    with no_host_copies():
        result = zn.hessian(lambda x: np.sum(np.tanh(weights @ x) ** 2), cupy.asarray(V))
    assert_like_numpy(result, expected, cupy.cuda.Device())


@pytest.mark.parametrize("engine", ENGINES)
def test_diaghessian_on_cupy_arrays(engine):
    run_both(zn.diaghessian, lambda x, v: np.sum(x**3) * np.sum(np.sin(v) * v), X, V, engine=engine)


def test_forwarddiff_checkpointed_and_buffer_on_cupy_arrays():
    run_both(zn.gradient, lambda x: forwarddiff(lambda y: np.sum(np.sin(y) * y), x) * np.sum(x), V)
    run_both(zn.gradient, lambda x, w: np.sum(checkpointed(lambda a, b: np.tanh(b @ a), x, w) ** 2), V, W)

    def f(x):
        buffer = Buffer(x, 2, 4)
        buffer[0] = x * 2.0
        buffer[1, 1:] = x[:3] ** 2
        return np.sum(copy.copy(buffer) ** 2)

    run_both(zn.gradient, f, V, strict=False)  # Buffer's index bookkeeping is uploaded per read
