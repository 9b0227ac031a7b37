"""gradient, withgradient, pullback and Params on real CuPy arrays: the cases the duck array runs on the CPU."""

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as np
from cupy_cases import assert_like_numpy, cupy, no_host_copies, run_both
from test_backend_duck import GRADIENT_CASES, V, W, X
from zygote_nb.array_library import using_backend

# A boolean mask makes CuPy read the selected count back; the indexing case syncs for that reason alone.
SYNCING_CASES = {"indexing"}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradient_on_cupy_arrays_equals_numpy(name):
    f, *args = GRADIENT_CASES[name]
    numbers = any(not isinstance(arg, numpy.ndarray) for arg in args)
    run_both(zn.gradient, f, *args, strict=not numbers and name not in SYNCING_CASES)


def test_withgradient_and_pullback_stay_on_the_device():
    run_both(zn.withgradient, lambda x: (np.sum(x**2), x * 2.0), X)
    value, back = zn.pullback(lambda x, w: np.tanh(x @ w), cupy.asarray(X), cupy.asarray(W))
    expected_value, expected_back = zn.pullback(lambda x, w: np.tanh(x @ w), X, W)
    with no_host_copies():
        gradients = back(cupy.asarray(X[:, ::-1]))
    assert_like_numpy(value, expected_value, cupy.cuda.Device())
    assert_like_numpy(gradients, expected_back(X[:, ::-1]), cupy.cuda.Device())


def test_params_of_cupy_arrays():
    w, v = cupy.asarray(W), cupy.asarray(V)
    with no_host_copies():
        gs = zn.gradient(lambda: np.sum(np.tanh(w @ v) ** 2), zn.Params([w, v]))
    expected = zn.gradient(lambda a, b: np.sum(np.tanh(a @ b) ** 2), W, V)
    assert_like_numpy(gs[w], expected[0], cupy.cuda.Device())
    assert_like_numpy(gs[v], expected[1], cupy.cuda.Device())


def test_mixing_numpy_and_cupy_is_one_clear_error():
    with pytest.raises(TypeError) as excinfo:
        zn.gradient(lambda x, y: np.sum(x * y), cupy.ones(2), numpy.ones(2))
    assert "cupy and numpy" in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_using_the_cupy_backend_uploads_numpy_inputs():
    with using_backend("cupy"):
        (g,) = zn.gradient(lambda x: np.sum(x**2), numpy.array([1.0, 2.0]))
    assert isinstance(g, cupy.ndarray) and g.get().tolist() == [2.0, 4.0]


def test_results_stay_on_the_inputs_device_when_several_gpus_exist():
    if cupy.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("one GPU")
    with cupy.cuda.Device(1):
        x = cupy.asarray(V)
        (g,) = zn.gradient(lambda x: np.sum(np.sin(x)), x)
        assert g.device == x.device
