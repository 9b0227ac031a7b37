"""Choosing the array library: from the inputs, or forced; mixing refused; unsupported rules named."""

import importlib.util

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as np
from duck import DuckArray, duck, host, namespace
from helpers import finite_difference_gradient
from zygote_nb import array_library
from zygote_nb.array_library import current_backend, set_backend, using_backend
from zygote_nb.backends import NoDeviceRule


def assert_one_line(excinfo, *words):
    message = str(excinfo.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_registered_types_are_device_arrays_and_give_their_namespace():
    assert array_library.is_device_array(duck([1.0])) and not array_library.is_device_array(numpy.ones(1))
    assert array_library.array_namespace(duck([1.0]), 2.0, numpy.float64(3.0)) is namespace
    assert array_library.array_namespace(numpy.ones(1), 2.0) is numpy
    assert array_library.array_namespace(1.0) is numpy


def test_mixing_numpy_and_device_arrays_is_one_clear_error():
    with pytest.raises(TypeError) as excinfo:
        zn.gradient(lambda x, y: np.sum(x * y), duck(numpy.ones(2)), numpy.ones(2))
    assert_one_line(excinfo, "duck and numpy", "using_backend('duck')")


def test_a_numpy_constant_meeting_a_device_array_raises_instead_of_copying():
    before = DuckArray.host_transfers
    with pytest.raises(TypeError):
        zn.gradient(lambda x: np.sum(x * numpy.ones(2)), duck(numpy.ones(2)))
    assert DuckArray.host_transfers == before


def test_using_a_backend_moves_the_inputs_to_it_and_restores_the_choice_after():
    with using_backend("duck"):
        assert current_backend() == "duck"
        (g,) = zn.gradient(lambda x: np.sum(x**2), numpy.array([1.0, 2.0]))
        grads = zn.gradient(lambda x, y: np.sum(x * y), duck(numpy.ones(2)), numpy.array([3.0, 4.0]))
    assert current_backend() is None
    assert isinstance(g, DuckArray) and host(g).tolist() == [2.0, 4.0]
    assert host(grads[0]).tolist() == [3.0, 4.0] and isinstance(grads[1], DuckArray)


def test_forcing_numpy_copies_device_inputs_to_the_host_explicitly():
    with using_backend("numpy"):
        (g,) = zn.gradient(lambda x: np.sum(x**2), duck(numpy.array([1.0, 2.0])))
    assert isinstance(g, numpy.ndarray) and g.tolist() == [2.0, 4.0]


def test_set_backend_forces_until_reset():
    set_backend("duck")
    try:
        assert isinstance(zn.gradient(lambda x: np.sum(x), numpy.ones(2))[0], DuckArray)
    finally:
        set_backend(None)
    assert isinstance(zn.gradient(lambda x: np.sum(x), numpy.ones(2))[0], numpy.ndarray)


def test_an_unknown_backend_name_is_one_clear_error():
    with pytest.raises(ValueError) as excinfo:
        set_backend("tensorflow")
    assert_one_line(excinfo, "'tensorflow'", "'numpy'", "'cupy'")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_the_cupy_backend_without_cupy_says_how_to_install_it():
    with pytest.raises(ImportError) as excinfo:
        set_backend("cupy")
    assert_one_line(excinfo, "zygote_nb[cupy]")


def test_rules_without_a_device_version_name_the_primitive():
    with pytest.raises(NoDeviceRule) as excinfo:
        zn.gradient(lambda x: np.sum(np.partition(x[0], 1)), duck(numpy.eye(2)))
    assert_one_line(excinfo, "partition", "ignore_derivatives")


@pytest.mark.parametrize("f", [
    lambda x: np.sum(np.sort(x[0] * x[1]) ** 3),
    lambda x: np.sum(np.diagonal(x, 0, -1, -2) ** 3),
    lambda x: np.trace(x * x),
])
def test_sort_diagonal_and_trace_are_differentiated_on_a_device_as_on_numpy(f):
    """zygote_nb.numpy's sort, diagonal and trace are integer indexing, which has device rules."""
    x = numpy.array([[1.0, -2.0], [3.0, 0.5]])
    (on_device,) = zn.gradient(f, duck(x))
    numpy.testing.assert_allclose(host(on_device), finite_difference_gradient(lambda x: float(f(x)), x), rtol=1e-6)


def test_numpy_values_still_take_autograds_own_rules():
    x = numpy.array([[1.0, -2.0], [3.0, 0.5]])
    (g,) = zn.gradient(lambda x: np.trace(x) + np.sum(np.where(x > 0, x**2, 0.0)), x)
    numpy.testing.assert_array_equal(g, numpy.eye(2) + numpy.where(x > 0, 2 * x, 0.0))


def test_an_array_from_a_module_named_cupy_registers_cupy_on_first_sight(monkeypatch):
    """The lazy CuPy path, with a stand-in ``cupy`` module: seeing its array imports and registers it."""
    import sys
    import types

    fake_cupy = types.ModuleType("cupy")
    fake_cupy.ndarray = type("ndarray", (DuckArray,), {"__module__": "cupy"})
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setattr(array_library, "_libraries", dict(array_library._libraries))
    array = fake_cupy.ndarray(numpy.ones(2))
    assert array_library.is_device_array(array)
    assert array_library.library_of(array).name == "cupy" and array_library.array_namespace(array) is fake_cupy
