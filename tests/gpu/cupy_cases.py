"""Running one API case on NumPy and on CuPy arrays, and checking they agree with nothing sent to the host."""

import contextlib
import warnings

import numpy

cupy = __import__("pytest").importorskip("cupy")
import cupyx  # noqa: E402  (after the skip: only where CuPy is installed)


def on_gpu(value):
    """``value`` with every NumPy array in it (in tuples, lists, dicts) uploaded to the current device."""
    if isinstance(value, numpy.ndarray):
        return cupy.asarray(value)
    if isinstance(value, (tuple, list)):
        return type(value)(on_gpu(item) for item in value)
    if isinstance(value, dict):
        return {key: on_gpu(item) for key, item in value.items()}
    return value


@contextlib.contextmanager
def no_host_copies():
    """Raise on any ``.get()`` (every CuPy copy to the host declares a synchronisation), where CuPy can tell."""
    allow_synchronize = getattr(cupyx, "allow_synchronize", None)
    if allow_synchronize is None:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with allow_synchronize(False):
            yield


def assert_like_numpy(gpu_result, numpy_result, device):
    if isinstance(numpy_result, numpy.ndarray):
        assert isinstance(gpu_result, cupy.ndarray), f"expected a CuPy array, got {type(gpu_result).__name__}"
        assert gpu_result.device == device, "the result left the inputs' device"
        assert gpu_result.dtype == numpy_result.dtype and gpu_result.shape == numpy_result.shape
        numpy.testing.assert_allclose(gpu_result.get(), numpy_result, rtol=1e-9, atol=1e-12)
    elif isinstance(numpy_result, (tuple, list)):
        assert type(gpu_result) is type(numpy_result) and len(gpu_result) == len(numpy_result)
        for gpu_part, numpy_part in zip(gpu_result, numpy_result):
            assert_like_numpy(gpu_part, numpy_part, device)
    elif isinstance(numpy_result, dict):
        assert gpu_result.keys() == numpy_result.keys()
        for key in numpy_result:
            assert_like_numpy(gpu_result[key], numpy_result[key], device)
    elif numpy_result is None:
        assert gpu_result is None
    else:
        numpy.testing.assert_allclose(cupy.asnumpy(gpu_result), numpy_result, rtol=1e-9)


def run_both(operator, f, *args, strict=True, **options):
    """``operator(f, *args)`` on NumPy and on CuPy; equal values, CuPy results on the same device.

    ``strict`` also forbids any copy to the host during the CuPy run (leave it
    off where a Python-number argument gets a Python-number gradient, or where
    a boolean mask makes CuPy read a count back).
    """
    expected = operator(f, *args, **options)
    device = cupy.cuda.Device()
    with no_host_copies() if strict else contextlib.nullcontext():
        result = operator(f, *on_gpu(args), **options)
    assert_like_numpy(result, expected, device)
    return result
