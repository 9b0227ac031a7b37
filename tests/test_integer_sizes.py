"""A traced integer used as a size or count (np.zeros(n), np.arange(n), np.eye(n), range(n)) builds a constant.

SPEC section 2: an integer argument used as a shape or ``range`` bound still works, and that use carries no
gradient, so the integer's gradient is ``None`` when it is used only so.
"""

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as traced_numpy
from helpers import finite_difference_gradient
from zygote_nb.errors import DifferentiationError

X = numpy.array([0.5, -1.5, 2.0])


def uses(np):
    """Functions ``f(x, n)`` that use ``n`` only as a size, count or bound, written with the module ``np``."""
    return {
        "zeros": lambda x, n: np.sum(x * np.zeros(n)) + np.sum(x ** 2),
        "ones": lambda x, n: np.sum(x * np.ones(n)),
        "empty then full": lambda x, n: np.sum(x * np.full(n, 2.0)) + 0 * np.size(np.empty(n)),
        "eye": lambda x, n: np.sum(np.eye(n) @ x ** 3),
        "identity": lambda x, n: np.sum(np.identity(n) @ np.sin(x)),
        "linspace count": lambda x, n: np.sum(x * np.linspace(0.0, 1.0, n)),
        "range": lambda x, n: sum(x[i] * i for i in range(n)),
    }


CASES = [(namespace, name, f) for namespace, np in [("zygote_nb.numpy", traced_numpy), ("numpy", numpy)]
         for name, f in uses(np).items()]
CASES += [("zygote_nb.numpy", "arange", lambda x, n: traced_numpy.sum(x * traced_numpy.arange(n)))]


@pytest.mark.parametrize("namespace, name, f", CASES, ids=[f"{case[0]}-{case[1]}" for case in CASES])
def test_a_size_argument_gives_a_constant_and_no_gradient(namespace, name, f):
    gx, gn = zn.gradient(f, X, 3)
    numpy.testing.assert_allclose(gx, finite_difference_gradient(lambda x: f(x, 3), X), rtol=1e-6, atol=1e-8)
    assert gn is None


def test_a_size_argument_and_a_fill_value_keep_the_fill_values_gradient():
    (gx, gn) = zn.gradient(lambda x, n: traced_numpy.sum(traced_numpy.full(n, x[0] ** 2)), X, 3)
    numpy.testing.assert_allclose(gx, [3 * 2 * X[0], 0.0, 0.0])
    assert gn is None


def test_plain_numpy_arange_of_a_traced_integer_names_the_traced_version_and_int():
    with pytest.raises(DifferentiationError, match=r"zygote_nb.numpy's function .* or int\(n\)"):
        zn.gradient(lambda x, n: numpy.sum(x * numpy.arange(n)), X, 3)
    gx, gn = zn.gradient(lambda x, n: numpy.sum(x * numpy.arange(int(n))), X, 3)
    numpy.testing.assert_allclose(gx, [0.0, 1.0, 2.0])
    assert gn is None


@pytest.mark.parametrize("engine", ["batched", "loop"])
def test_jacobian_through_a_sized_constant_matches_the_closed_form(engine):
    def scaled(x, n):
        return x * traced_numpy.arange(n) + numpy.ones(n) @ numpy.eye(n)

    jx, _ = zn.jacobian(scaled, X, 3, engine=engine)
    numpy.testing.assert_allclose(jx, numpy.diag([0.0, 1.0, 2.0]))

