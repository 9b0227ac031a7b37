"""hessian, hessian_reverse and diaghessian on both engines: edge cases the property tests do not reach."""

import numpy
import pytest

import zygote_nb as zn

OPERATORS = [zn.hessian, zn.hessian_reverse]


@pytest.mark.parametrize("engine", ["batched", "loop"])
@pytest.mark.parametrize("operator", OPERATORS)
def test_a_function_that_ignores_its_argument_has_a_zero_hessian(operator, engine):
    numpy.testing.assert_array_equal(operator(lambda x: 3.0, numpy.ones(2), engine=engine), numpy.zeros((2, 2)))
    assert zn.diaghessian(lambda x, y: 2.0 * x, 1.0, 2.0, engine=engine) == (0.0, 0.0)


@pytest.mark.parametrize("engine", ["batched", "loop"])
@pytest.mark.parametrize("operator", OPERATORS)
def test_a_scalar_argument_gives_a_number(operator, engine):
    assert operator(lambda x: x**3, 2.0, engine=engine) == pytest.approx(12.0)  # d²/dx² x³ = 6x


@pytest.mark.parametrize("engine", ["batched", "loop"])
@pytest.mark.parametrize("operator", OPERATORS + [zn.diaghessian])
def test_an_array_output_names_the_operator_and_points_to_jacobian(operator, engine):
    with pytest.raises(TypeError, match=f"^{operator.__name__} needs a real scalar output.*jacobian"):
        operator(lambda x: x * 2.0, numpy.ones(3), engine=engine)
