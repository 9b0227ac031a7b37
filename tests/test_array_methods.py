"""Array methods on traced values (issue 14 item 16), checked in every operator against finite differences."""

import math

import numpy
import pytest
from autograd import grad as autograd_grad

import zygote_nb as zn
from fuzz.checks import operator_failures

v = numpy.array([0.3, -1.2, 0.8])
M = numpy.array([[0.3, -1.2, 0.8], [0.5, 0.1, -0.7]])

METHODS = [
    ("copy", lambda x: x.copy() ** 2, v),
    ("dot", lambda x: x.dot(x.T), M),
    ("conj", lambda x: x.conj() * x, v),
    ("conjugate", lambda x: x.conjugate() ** 3, v),
    ("real", lambda x: x.real * x, v),
    ("imag", lambda x: x.imag + x, v),
    ("floor division", lambda x: x // 2 + x, v),
    ("reflected floor division", lambda x: 2.0 // (x + 3.0) + x ** 2, v),
    ("divmod", lambda x: divmod(x, 0.7)[1] * x, v),
    ("repeat, negative axis", lambda x: x.repeat(2, axis=-1) * numpy.arange(6.0), v),
    ("diagonal of other axes", lambda x: x.diagonal(0, -1, 0) ** 2, M.T @ M),
    ("take", lambda x: x.take([0, 2, 2], axis=-1), M),
    ("min over a tuple of negative axes", lambda x: x.min(axis=(-2, 1)) * x, M),
    ("sum with keepdims", lambda x: x.sum(axis=-1, keepdims=True) * x, M),
]


@pytest.mark.parametrize("label, f, x", METHODS, ids=[method[0] for method in METHODS])
def test_array_method_agrees_with_finite_differences_in_every_operator(label, f, x):
    assert operator_failures(f, x) == []


@pytest.mark.parametrize("call, name", [
    (lambda x: x[0].item(), "x.item()"),
    (lambda x: x.tolist()[0], "x.tolist()"),
    (lambda x: float(x[0]), "float(x)"),
    (lambda x: int(x[0]), "int(x)"),
    (lambda x: complex(x[0]), "complex(x)"),
    (lambda x: math.sin(x[0]), "float(x)"),
])
def test_calls_that_leave_the_trace_name_the_call_and_the_fix(call, name):
    with pytest.raises(zn.DifferentiationError) as excinfo:
        zn.gradient(call, v)
    message = str(excinfo.value)
    assert name in message and "zygote_nb.numpy" in message and "ignore_derivatives" in message
    assert "\n" not in message


def test_autograds_own_reverse_mode_keeps_its_methods():
    """On a value traced by ``autograd.grad`` the repaired methods step aside: autograd's repeat rule runs."""
    f = lambda x: (x.repeat(2, axis=-1) * numpy.arange(6.0)).sum()  # noqa: E731
    (expected,) = zn.gradient(f, v)
    assert not numpy.allclose(autograd_grad(f)(v), expected)
