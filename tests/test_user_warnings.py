"""Plain gradient, jacobian and hessian show NumPy's warnings at the user's line, both passes (never autograd's)."""

import warnings

import numpy
import pytest

import zygote_nb as zn


def loss(x):
    logarithm = numpy.log(x)  # forward: log(0) divides by zero
    root = numpy.sqrt(x)  # backward: sqrt's derivative at 0 divides by zero
    return numpy.sum(root) + numpy.sum(numpy.where(x > 0, logarithm, 0.0))


def vector_loss(x):
    return numpy.sqrt(x) * 2.0  # the derivative rule of sqrt divides by zero at 0


FIRST = loss.__code__.co_firstlineno
FORWARD = (__file__, FIRST + 1, "divide by zero encountered in log")
X = numpy.array([0.0, 1.0])


def warned(call, action="always"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter(action)
        call()
    return [(warning.filename, warning.lineno, str(warning.message)) for warning in caught]


@pytest.mark.parametrize("operator", [zn.gradient, zn.withgradient, zn.hessian, zn.hessian_reverse, zn.diaghessian])
def test_scalar_operators_point_both_passes_at_the_operations_lines(operator):
    places = warned(lambda: operator(loss, X))
    assert FORWARD in places
    assert any(line == FIRST + 2 and message.endswith("(in the backward pass)") for _, line, message in places)
    assert {filename for filename, _, _ in places} == {__file__}, places


@pytest.mark.parametrize("engine", ["batched", "loop"])
def test_jacobian_points_its_derivative_rules_warning_at_the_line(engine):
    places = warned(lambda: zn.jacobian(vector_loss, X, engine=engine))
    line = vector_loss.__code__.co_firstlineno + 1
    assert places and all(place[:2] == (__file__, line) for place in places), places
    assert any(message.endswith("(in the backward pass)") for _, _, message in places)


def test_a_warning_shown_once_per_place_is_shown_once_over_many_calls():
    once = warned(lambda: zn.gradient(loss, X), action="always")
    places = warned(lambda: [zn.gradient(loss, X) for _ in range(3)], action="default")
    assert sorted(places) == sorted(once) and FORWARD in places


def test_a_warning_the_user_raises_and_warnings_after_the_call_are_left_alone():
    def noisy(x):
        warnings.warn("my own warning", UserWarning)
        return numpy.sum(x * x)

    shown = warnings.showwarning
    places = warned(lambda: zn.gradient(noisy, X))
    assert places == [(__file__, noisy.__code__.co_firstlineno + 1, "my own warning")]
    with pytest.raises(ZeroDivisionError):
        zn.gradient(lambda x: 1 / 0, X)
    assert warnings.showwarning is shown


def test_an_ignore_filter_still_silences_them():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", RuntimeWarning)
        zn.gradient(loss, X)
    assert caught == []
