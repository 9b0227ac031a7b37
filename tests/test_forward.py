"""zygote_nb.forward.jvp: one tangent pushed through a function, checked against central differences."""

import numpy
import pytest

import zygote_nb.numpy as np
from zygote_nb.forward import jvp

STEP = 1e-6


def central_difference(f, x, direction):
    return (numpy.asarray(f(x + STEP * direction)) - numpy.asarray(f(x - STEP * direction))) / (2 * STEP)


# The fuzzer's programs of seeds 5824 and 8858: a Python-float tangent reached autograd's indexing rule
# through a primitive that leaves its tangent a float, and ``tangent[None]`` failed.
def program_5824(x):
    v0 = np.subtract(x, -0.76)
    v1 = np.squeeze(v0[None, ..., None])
    return v1 * x + np.sin(x) ** 2


def program_8858(x):
    v0 = np.trunc(x) + x
    return np.power(1.5 + v0[None] ** 2, 0.5)


@pytest.mark.parametrize("f, x", [(program_5824, -0.4245), (program_8858, 0.7135), (lambda x: np.exp(x)[None], 0.3)])
@pytest.mark.parametrize("tangent", [1.0, 1, -2.5])
def test_a_python_number_tangent_of_a_scalar_matches_central_differences(f, x, tangent):
    value, derivative = jvp(f, x, tangent)
    numpy.testing.assert_allclose(value, f(x))
    numpy.testing.assert_allclose(derivative, central_difference(f, x, tangent), rtol=1e-6, atol=1e-8)


def test_a_complex_tangent_stays_complex():
    value, derivative = jvp(lambda z: (z * z)[None], 0.5 + 0.5j, 1j)
    numpy.testing.assert_allclose(derivative, [2 * (0.5 + 0.5j) * 1j])
