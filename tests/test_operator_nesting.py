"""Every operator is differentiable with respect to what it closes over (issue 14, items 12 and 13).

Each derivative is checked against central finite differences of the operator
itself, evaluated at shifted points outside any differentiation (where the
batched engine runs), so the nested result (where the loop engine runs) is
tested against an independent path.
"""

import numpy
import pytest
from autograd.tracer import getval

import zygote_nb as zn
import zygote_nb.numpy as np

v = numpy.array([0.3, -1.2, 0.8])
STEP = 1e-5

OPERATORS = {
    "jacobian": lambda a, engine: zn.jacobian(lambda x: a * x ** 2 + np.sin(a * x), v, engine=engine)[0],
    "withjacobian": lambda a, engine: zn.withjacobian(lambda x: np.cumsum(a * x ** 3), v, engine=engine).grad[0],
    "hessian": lambda a, engine: zn.hessian(lambda x: np.sum(np.tanh(a * x) ** 2), v, engine=engine),
    "hessian_reverse": lambda a, engine: zn.hessian_reverse(lambda x: np.sum(np.tanh(a * x) ** 2), v,
                                                            engine=engine),
    "diaghessian": lambda a, engine: zn.diaghessian(lambda x: np.sum(np.exp(a * x) * x), v, engine=engine)[0],
    "scalar hessian": lambda a, engine: zn.hessian(lambda x: np.sin(a * x) * x, 0.7, engine=engine),
}


def summed(operator, a, engine):
    """A weighted sum of the operator's entries, so that each entry's derivative counts differently."""
    flat = np.ravel(operator(a, engine))
    return np.sum(flat * numpy.arange(1.0, 1.0 + numpy.size(getval(flat))))


@pytest.mark.parametrize("engine", ["batched", "loop"])
@pytest.mark.parametrize("name", list(OPERATORS))
def test_an_operator_is_differentiable_in_what_it_closes_over(name, engine):
    operator, a = OPERATORS[name], 1.3
    (derivative,) = zn.gradient(lambda a: summed(operator, a, engine), a)
    expected = (summed(operator, a + STEP, engine) - summed(operator, a - STEP, engine)) / (2 * STEP)
    assert derivative == pytest.approx(expected, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("engine", ["batched", "loop"])
def test_a_jacobian_has_second_derivatives_in_what_it_closes_over(engine):
    def operator(a):
        return np.sum(zn.jacobian(lambda x: a ** 3 * np.sin(x), v, engine=engine)[0])

    second = zn.hessian(operator, 0.9)
    step = 1e-4
    expected = (operator(0.9 + step) - 2 * operator(0.9) + operator(0.9 - step)) / step ** 2
    assert second == pytest.approx(expected, rel=1e-5)


def test_the_loop_hessian_takes_a_python_float():
    # The tangent of a Python float is a NumPy scalar, which rules may index (x[None]).
    for engine in ("loop", "batched"):
        assert zn.hessian(lambda x: np.sum((x ** 3)[None]), 1.476, engine=engine) == pytest.approx(6 * 1.476)


def test_pullback_takes_params_and_hessians_refuse_them_naming_the_fix():
    w = numpy.array([1.0, 2.0])
    value, back = zn.pullback(lambda: np.sum(w ** 2), zn.Params([w]))
    assert value == 5.0
    numpy.testing.assert_allclose(back(1.0)[w], 2 * w)
    for operator in (zn.hessian, zn.hessian_reverse, zn.diaghessian):
        with pytest.raises(TypeError, match=rf"{operator.__name__} does not take Params.*pass the array itself"):
            operator(lambda: np.sum(w ** 2), zn.Params([w]))
