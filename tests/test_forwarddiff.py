"""zygote_nb.forwarddiff: forward mode inside a reverse pass, against plain reverse mode."""

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from programs import OPERATIONS, build_program

import zygote_nb.numpy as np
from zygote_nb import gradient, hessian, jacobian
from zygote_nb.forwarddiff import forwarddiff

RANDOM = numpy.random.default_rng(7)
W = RANDOM.standard_normal((3, 7))


def power(x, n):
    result = 1.0
    for _ in range(n):
        result = result * x
    return result


def test_utilities_page_power_example():
    assert gradient(lambda x: forwarddiff(lambda x: power(x, 2), x), 5) == (10.0,)


def test_utilities_page_closed_over_values_get_no_gradient():
    assert gradient(lambda a, b: forwarddiff(lambda a: a * b, a), 2, 3) == (3.0, None)


def test_utilities_page_passing_values_through_gives_them_gradient():
    pair = gradient(lambda ab: forwarddiff(lambda ab: ab[0] * ab[1], ab), numpy.array([2.0, 3.0]))[0]
    numpy.testing.assert_array_equal(pair, [3.0, 2.0])


INNER_FUNCTIONS = {
    "array to array": lambda x: np.tanh(W @ x) * np.sum(x**2),
    "array to scalar": lambda x: np.sum(np.exp(np.sin(x)) * x),
    "array to matrix": lambda x: np.outer(x[:3], np.cos(x)),
}


@pytest.mark.parametrize("name", INNER_FUNCTIONS)
@pytest.mark.parametrize("chunk_threshold", [1, 3, 12])
def test_gradient_equals_reverse_mode(name, chunk_threshold):
    inner = INNER_FUNCTIONS[name]
    x = RANDOM.standard_normal(7)
    forward = gradient(lambda x: np.sum(np.sin(forwarddiff(inner, x, chunk_threshold)) ** 2), x)[0]
    reverse = gradient(lambda x: np.sum(np.sin(inner(x)) ** 2), x)[0]
    numpy.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(sorted(OPERATIONS)), min_size=1, max_size=3),
       st.tuples(st.integers(1, 3), st.integers(2, 4)), st.integers(0, 2**16))
def test_property_test_programs_equal_reverse_mode(names, shape, seed):
    program = build_program(names, shape, seed)
    weights = numpy.random.default_rng(seed + 1).uniform(-1, 1, size=shape)
    x = numpy.random.default_rng(seed + 2).uniform(-1, 1, size=shape)
    forward = gradient(lambda x: np.sum(forwarddiff(program, x, 2) * weights), x)[0]
    reverse = gradient(lambda x: np.sum(program(x) * weights), x)[0]
    if reverse is None:  # the output does not depend on x
        numpy.testing.assert_array_equal(forward, numpy.zeros(shape))
    else:
        numpy.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-12)


def test_scalar_input_equals_reverse_mode():
    inner = lambda t: np.array([np.sin(t), t**3, np.exp(-t)])  # noqa: E731
    forward = gradient(lambda t: np.sum(forwarddiff(inner, t) * np.array([1.0, 2.0, 3.0])), 0.4)[0]
    reverse = gradient(lambda t: np.sum(inner(t) * np.array([1.0, 2.0, 3.0])), 0.4)[0]
    assert forward == pytest.approx(reverse, rel=1e-12)


def test_matrix_input_jacobian_equals_reverse_mode():
    inner = lambda m: np.tanh(m @ m.T)  # noqa: E731
    m = RANDOM.standard_normal((2, 3))
    numpy.testing.assert_allclose(jacobian(lambda m: forwarddiff(inner, m), m)[0], jacobian(inner, m)[0],
                                  rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("engine", ["loop", "batched"])
def test_hessian_through_forwarddiff_equals_plain_hessian(engine):
    inner = INNER_FUNCTIONS["array to array"]
    x = RANDOM.standard_normal(7)
    numpy.testing.assert_allclose(hessian(lambda x: np.sum(forwarddiff(inner, x) ** 2), x, engine=engine),
                                  hessian(lambda x: np.sum(inner(x) ** 2), x), rtol=1e-10, atol=1e-10)


def test_outside_differentiation_it_is_the_call():
    x = RANDOM.standard_normal(7)
    numpy.testing.assert_array_equal(forwarddiff(INNER_FUNCTIONS["array to array"], x),
                                     INNER_FUNCTIONS["array to array"](x))


def test_non_callable_is_a_one_line_error_naming_the_fix():
    with pytest.raises(TypeError) as error:
        gradient(lambda x: forwarddiff(x, np.sin), 1.0)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("forwarddiff(f, x) needs a function as its first argument, got float")


def test_non_array_input_is_a_one_line_error_naming_the_fix():
    with pytest.raises(TypeError, match=r"pack several values into one array"):
        forwarddiff(lambda ab: ab[0] * ab[1], (2.0, 3.0))


def test_chunk_threshold_below_one_is_a_one_line_error_naming_the_fix():
    with pytest.raises(ValueError, match=r"got 0: pass a positive integer, e.g. chunk_threshold=12$"):
        forwarddiff(np.sin, 1.0, 0)
