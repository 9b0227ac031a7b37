"""Tests on real CuPy arrays: marked ``gpu``, skipped where CuPy or an NVIDIA device is missing."""

import pytest


def _gpu_missing() -> str | None:
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install 'zygote_nb[cupy]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device"
    except Exception as error:  # the CUDA driver itself may be missing
        return f"no usable CUDA device ({type(error).__name__})"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _gpu_missing()
    for item in items:
        if "tests/gpu/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.gpu)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
