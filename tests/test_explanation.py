"""Origin.explanation: the discarded-branch (0 × inf) story, its rewrite in the user's terms, and its check.

Each claim the explanation makes about a rewrite ("with it every gradient is
finite", or not) is checked here by differentiating the rewritten program
afresh and comparing with finite differences or a hand-derived value.
"""

import warnings

import numpy
import pytest

import zygote_nb.numpy as np
from helpers import finite_difference_gradient
from zygote_nb import gradient, hook
from zygote_nb.flow import trace_gradient
from zygote_nb.hooks import scale

POINT = numpy.array([4.0, 0.0, 1.0])


def traced(f, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return trace_gradient(f, *args)


def fresh_gradient(f, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return gradient(f, x)[0]


def selected_sqrt(x):
    return np.sum(np.select([x > 0], [np.sqrt(x)], 0.0))


def selected_sqrt_rewritten(x):
    return np.sum(np.select([x > 0], [np.sqrt(np.where(x > 0, x, 1.0))], 0.0))


def test_select_is_named_as_written_and_its_rewrite_is_finite():
    story = traced(selected_sqrt, POINT).backward_origin.explanation
    assert "`np.sqrt(x)` is in the branch that `np.select(…)` discards at index 1 where x == 0" in story
    assert "`np.sqrt(np.where(keep, x, 1.0))`, where keep marks the entries `np.select(…)` keeps" in story
    assert "checked: with it every gradient is finite" in story
    fixed = fresh_gradient(selected_sqrt_rewritten, POINT)
    keep = POINT != 0
    assert fixed[1] == 0.0
    assert numpy.allclose(fixed[keep], finite_difference_gradient(selected_sqrt_rewritten, POINT)[keep], rtol=1e-5)


def two_guards(x):
    logarithm = np.where(x > 0, np.log(x), 0.0)
    return np.sum(np.where(x > 0, np.sqrt(x), 0.0) + logarithm)


def two_guards_first_rewritten(x):
    logarithm = np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), 0.0)
    return np.sum(np.where(x > 0, np.sqrt(x), 0.0) + logarithm)


def test_a_rewrite_that_is_not_enough_says_so():
    flow = traced(two_guards, POINT)
    assert flow.forward_origin.operation == "log" and flow.backward_origin.operation == "sqrt"
    story = flow.forward_origin.explanation
    assert "`np.log(np.where(x > 0, x, 1.0))`" in story and "still not finite" in story
    assert numpy.isnan(fresh_gradient(two_guards_first_rewritten, POINT)[1])  # the sqrt branch is still there


def test_the_check_leaves_the_flows_record_as_it_was():
    flow = traced(two_guards, POINT)
    expected = fresh_gradient(two_guards, POINT)
    assert numpy.array_equal(flow.gradients[0], expected, equal_nan=True)
    assert numpy.array_equal(flow.inputs[0].gradient_array, expected, equal_nan=True)
    sqrt = next(node for node in flow.operations if node.name == "sqrt")
    assert sqrt.gradient_array.tolist() == [1.0, 0.0, 1.0]  # where's cotangent: 1 where kept, 0 where discarded


def test_replay_after_a_hook_changed_keeps_the_story():
    factor = scale(2.0)
    flow = traced(lambda x: np.sum(np.where(x > 0, np.sqrt(hook(factor, x)), 0.0)), POINT)
    story = flow.backward_origin.explanation
    assert "`np.sqrt(np.where(x > 0, hook(factor, x), 1.0))`" in story
    factor.factor = 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        flow.replay()
    assert flow.backward_origin.explanation == story
    assert flow.gradients[0][0] == pytest.approx(3.0 * 0.25)  # d sqrt(x)/dx at 4, scaled by the hook


@pytest.mark.parametrize("f", [
    lambda x: np.sum(np.log(x)),                   # the gradient reaching log is 1, not 0
    lambda x: np.sum(np.where(x > 0, x, 0.0) ** 2),  # a where, but no NaN at all
])
def test_no_story_where_there_is_no_zero_times_infinity(f):
    flow = traced(f, POINT)
    assert all(origin is None or origin.explanation is None for origin in (flow.forward_origin, flow.backward_origin))


def test_a_dict_of_parameters_is_checked_leaf_by_leaf():
    def loss(params):
        root = np.where(params["w"] > 0, np.sqrt(params["w"]), 0.0)
        logarithm = np.where(params["v"] > 0, np.log(params["v"]), 0.0)
        return np.sum(root) + np.sum(logarithm)

    flow = traced(loss, {"w": POINT, "v": POINT})
    story = flow.backward_origin.explanation  # the log, the later line, is the first the backward pass meets
    assert '`np.log(np.where(params["v"] > 0, params["v"], 1.0))`' in story
    assert "still not finite" in story  # params["w"]'s gradient is NaN whatever is done to the log
    assert numpy.isnan(flow.gradients[0]["w"][1]) and numpy.isnan(flow.gradients[0]["v"][1])  # record untouched
