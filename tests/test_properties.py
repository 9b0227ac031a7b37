"""Property tests: random compositions of NumPy primitives, checked against independent paths."""

import numpy
from hypothesis import given, settings
from hypothesis import strategies as st

import zygote_nb as zn
import zygote_nb.numpy as np
from helpers import finite_difference_gradient, finite_difference_jacobian
from programs import OPERATIONS, build_program

programs = st.tuples(
    st.lists(st.sampled_from(sorted(OPERATIONS)), min_size=1, max_size=3),
    st.tuples(st.integers(1, 3), st.integers(2, 4)),
    st.integers(0, 2**16),
)


def scalar_of(program, shape, seed):
    weights = numpy.random.default_rng(seed + 1).uniform(-1, 1, size=shape)
    return lambda x: np.sum(program(x) * weights)


def point(shape, seed):
    return numpy.random.default_rng(seed + 2).uniform(-1, 1, size=shape)


def test_at_least_thirty_primitives_are_exercised():
    assert len(OPERATIONS) >= 30


@settings(max_examples=60, deadline=None)
@given(programs)
def test_gradient_matches_finite_differences(case):
    names, shape, seed = case
    f = scalar_of(build_program(names, shape, seed), shape, seed)
    x = point(shape, seed)
    numpy.testing.assert_allclose(zn.gradient(f, x)[0], finite_difference_gradient(f, x), rtol=1e-5, atol=1e-7)


@settings(max_examples=30, deadline=None)
@given(programs)
def test_jacobian_rows_are_gradients(case):
    names, shape, seed = case
    program = build_program(names, shape, seed)
    x = point(shape, seed)
    J = zn.jacobian(program, x)[0]
    assert J.shape == (x.size, x.size)
    for k in range(x.size):
        row = zn.gradient(lambda x: np.ravel(program(x))[k], x)[0]
        numpy.testing.assert_allclose(J[k], numpy.zeros(x.size) if row is None else row.ravel(), rtol=1e-12, atol=1e-12)
    numpy.testing.assert_allclose(J, finite_difference_jacobian(program, x), rtol=1e-5, atol=1e-7)


@settings(max_examples=30, deadline=None)
@given(programs)
def test_hessian_forward_over_reverse_equals_reverse_over_reverse_and_finite_differences(case):
    names, shape, seed = case
    f = scalar_of(build_program(names, shape, seed), shape, seed)
    x = point(shape, seed)
    H = zn.hessian(f, x)
    numpy.testing.assert_allclose(H, zn.hessian_reverse(f, x), rtol=1e-10, atol=1e-10)
    gradient_of = lambda x: zn.gradient(f, x)[0]
    numpy.testing.assert_allclose(H, finite_difference_jacobian(gradient_of, x), rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(zn.diaghessian(f, x)[0].ravel(), numpy.diag(H), rtol=1e-12, atol=1e-12)
