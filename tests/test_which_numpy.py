"""What docs/getting_started.md ("Which NumPy") says about plain numpy versus zygote_nb.numpy, checked.

Each plain-NumPy function the page lists must give the gradient of its zygote_nb.numpy twin; the calls
the page says need zygote_nb.numpy must warn or fail as it says.
"""

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as traced
from zygote_nb.dispatch import ObjectArrayWarning
from zygote_nb.errors import DifferentiationError

X = numpy.array([0.3, -0.7, 1.1])
W = numpy.arange(9.0).reshape(3, 3)


def listed(np):
    return {
        "ufuncs and operators": lambda x: np.sum(np.sin(x) * (W @ x)),
        "dot": lambda x: np.sum(np.dot(W, x)),
        "where": lambda x: np.sum(np.where(x > 0, x ** 2, 0.0)),
        "concatenate and stack": lambda x: np.sum(np.concatenate([x, x ** 2]) * np.stack([x, x]).ravel()),
        "einsum": lambda x: np.einsum("i,ij,j->", x, W, x),
        "sort and cumsum": lambda x: np.sum(np.sort(x) * np.cumsum(x)),
        "linalg.norm": lambda x: np.linalg.norm(x),
        "fft": lambda x: np.sum(np.real(np.fft.fft(x)) ** 2),
        "methods": lambda x: x.reshape(3, 1).T.sum() * x.mean(),
    }


@pytest.mark.parametrize("name", list(listed(numpy)))
def test_plain_numpy_gives_the_gradient_of_zygote_nb_numpy(name):
    (plain,) = zn.gradient(listed(numpy)[name], X)
    (expected,) = zn.gradient(listed(traced)[name], X)
    numpy.testing.assert_allclose(plain, expected)


def test_asarray_of_a_traced_value_needs_zygote_nb_numpy():
    with pytest.warns(ObjectArrayWarning):
        zn.gradient(lambda x: numpy.sum(numpy.asarray(x) ** 2), X)
    with pytest.raises(TypeError):
        zn.gradient(lambda x: numpy.sum(numpy.asarray(x, dtype=float)), X)
    numpy.testing.assert_allclose(zn.gradient(lambda x: traced.sum(traced.asarray(x) ** 2), X)[0], 2 * X)


def test_a_function_without_a_traced_version_is_a_one_line_error():
    with pytest.raises(DifferentiationError, match="apply_along_axis") as error:
        zn.gradient(lambda x: numpy.apply_along_axis(numpy.sum, 0, x), X)
    assert "\n" not in str(error.value)


def test_an_in_place_write_names_the_buffer_fix():
    def overwrite(x):
        x[0] = 1.0
        return x.sum()
    with pytest.raises(DifferentiationError, match="write into a zygote_nb.Buffer"):
        zn.gradient(overwrite, X.copy())
