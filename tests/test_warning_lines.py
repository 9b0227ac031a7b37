"""Warnings of a traced computation point at the user's line: the forward pass at the line that ran,
the backward pass at the line of the operation whose derivative rule warned (never autograd's files)."""

import warnings

import numpy
import pytest

import zygote_nb.numpy as np
from zygote_nb.flow import trace_gradient
from zygote_nb.flow.warning_lines import warnings_at_user_lines


def loss(x):
    logarithm = np.log(x)  # forward: log(0) divides by zero
    root = np.sqrt(x)  # backward: sqrt's derivative at 0 divides by zero
    return np.sum(root) + np.sum(np.where(x > 0, logarithm, 0.0))


def warned(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return {(warning.filename, warning.lineno, str(warning.message)) for warning in caught}


def test_trace_gradient_points_both_passes_at_the_operations_lines():
    places = warned(lambda: trace_gradient(loss, numpy.array([0.0, 1.0])))
    first = loss.__code__.co_firstlineno
    assert (__file__, first + 1, "divide by zero encountered in log") in places
    assert (__file__, first + 2, "divide by zero encountered in power (in the backward pass)") in places
    assert all(filename == __file__ for filename, _, _ in places), places


def test_a_warning_the_user_raises_stays_where_it_was_raised():
    def noisy(x):
        warnings.warn("my own warning", UserWarning, stacklevel=1)
        return np.sum(x * x)

    with warnings_at_user_lines():
        places = warned(lambda: trace_gradient(noisy, numpy.array([1.0])))
    assert places == {(__file__, noisy.__code__.co_firstlineno + 1, "my own warning")}


def test_an_error_filter_still_raises_at_once():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match="divide by zero"):
            trace_gradient(loss, numpy.array([0.0, 1.0]))
