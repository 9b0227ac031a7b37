"""check_gradient: agreement with hand-derived gradients, and failures where the gradient is wrong."""

import math

import numpy
import pytest
from autograd.extend import defvjp, primitive

import zygote_nb.numpy as np
from zygote_nb.checking import check_gradient, relative_errors


def test_correct_gradient_passes_and_differences_match_hand_values():
    x = numpy.array([0.3, -1.2, 2.0])
    report = check_gradient(lambda v: np.sum(np.sin(v) * v), x)
    assert report.passed
    assert report.worst_error < 1e-7
    numpy.testing.assert_allclose(report.finite_differences[0], numpy.sin(x) + x * numpy.cos(x), rtol=1e-8)


def test_wrong_derivative_rule_fails():
    cube = primitive(lambda v: v ** 3)
    defvjp(cube, lambda ans, v: lambda g: g * 2 * v ** 2)  # should be 3 v²
    report = check_gradient(lambda v: np.sum(cube(v)), numpy.array([1.0, 2.0]))
    assert not report.passed
    assert report.worst_error == pytest.approx(1 / 3, rel=1e-5)


def test_containers_numbers_and_static_arguments():
    params = {"w": numpy.array([1.0, 2.0]), "b": 0.5, "name": "layer"}
    report = check_gradient(lambda p, scale: scale * (np.sum(p["w"] ** 2) + p["b"]), params, 3)
    assert report.passed
    differences = report.finite_differences
    numpy.testing.assert_allclose(differences[0]["w"], [6.0, 12.0], rtol=1e-8)
    assert differences[0]["b"] == pytest.approx(3.0)
    assert differences[0]["name"] is None
    assert differences[1] == pytest.approx(5.5)


def test_tuple_output_checks_its_first_element():
    report = check_gradient(lambda v: (np.sum(v ** 2), "aux"), numpy.array([1.0, -2.0]))
    assert report.passed
    numpy.testing.assert_allclose(report.finite_differences[0], [2.0, -4.0], rtol=1e-8)


def test_entries_without_dependence_do_not_fail_next_to_a_large_value():
    report = check_gradient(lambda v: 1e6 + v[0] ** 2, numpy.array([1.0, 5.0, 7.0]))
    assert report.passed


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_gradient_fails():
    report = check_gradient(lambda v: np.sum(np.sqrt(v)), numpy.array([0.0, 1.0]))
    assert not report.passed
    assert math.isnan(report.worst_error)


def test_arguments_are_not_modified():
    x = numpy.array([1.0, 2.0])
    check_gradient(lambda v: np.sum(v ** 2), x)
    numpy.testing.assert_array_equal(x, [1.0, 2.0])


def test_argument_without_numbers_has_no_error():
    report = check_gradient(lambda v, label: np.sum(v), numpy.ones(2), "label")
    assert report.errors[1] is None and report.errors[0] < 1e-8


def test_relative_error_of_equal_arrays_is_zero():
    assert relative_errors(numpy.array([1.0, -3.0]), numpy.array([1.0, -3.0]), 1e-5).max() == 0.0
