"""Property tests: the batched engine equals the row-by-row loop on random programs.

Each program is a composition of operations that map an array of shape
(rows, cols) to one of the same shape, drawn from the primitives that have
batch rules (elementwise, broadcasting, reductions along axes, reshapes and
transposes, indexing, joining, products, linear algebra) and from a few that
do not (so that the per-row fallback runs).  The loop path, one backward pass
or one forward tangent per row, is the independent reference.
"""

import autograd.numpy as anp
import numpy
from autograd.numpy import _original_where, numpy_wrapper
from hypothesis import given, settings
from hypothesis import strategies as st

from programs import build_program as compose
import zygote_nb as zn
from zygote_nb.autograd_patches import getitem_primitive
from zygote_nb.engine import jacobian_matrices
from zygote_nb.engine.rules import COTANGENT_RULES
from zygote_nb.pullback import record


def _unary(fn):
    return lambda shape, rng: fn


def _with(make_constant, fn):
    def build(shape, rng):
        constant = make_constant(shape, rng)
        return lambda x: fn(x, constant)

    return build


def _row(shape, rng):
    return rng.uniform(-1, 1, size=shape[1])


def _column(shape, rng):
    return rng.uniform(-1, 1, size=(shape[0], 1))


def _full(shape, rng):
    return rng.uniform(-1, 1, size=shape)


def _square(shape, rng):
    return rng.uniform(-1, 1, size=(shape[1], shape[1]))


def _left(shape, rng):
    return rng.uniform(-1, 1, size=(shape[0], shape[0]))


def _rows_with_repeats(shape, rng):
    return rng.integers(0, shape[0], size=shape[0])


def _mask(shape, rng):
    return rng.uniform(-1, 1, size=shape) > 0


def _spd(x):
    return anp.dot(anp.transpose(x), x) + 2.0 * anp.eye(x.shape[1])


def _masked(x, mask):
    # x[mask] picks a varying number of entries; put them back with a scatter-free formula.
    return x + anp.sum(x[mask] ** 2) * 0.1


OPERATIONS = {
    # elementwise, one argument
    "sin": _unary(anp.sin), "cos": _unary(anp.cos), "tanh": _unary(anp.tanh),
    "exp": _unary(lambda x: anp.exp(0.5 * x)), "log": _unary(lambda x: anp.log(1.5 + x**2)),
    "sqrt": _unary(lambda x: anp.sqrt(1.0 + x**2)), "square": _unary(anp.square),
    "cube": _unary(lambda x: x**3), "arctan": _unary(anp.arctan), "sinh": _unary(lambda x: anp.sinh(0.5 * x)),
    "log1p": _unary(lambda x: anp.log1p(x**2)), "expm1": _unary(lambda x: anp.expm1(0.5 * x)),
    "reciprocal": _unary(lambda x: 1.0 / (2.0 + anp.sin(x))), "negative": _unary(anp.negative),
    "arcsinh": _unary(anp.arcsinh), "x_sin_x": _unary(lambda x: x * anp.sin(x)),
    # broadcasting binary operations
    "add_row": _with(_row, anp.add), "multiply_column": _with(_column, anp.multiply),
    "subtract_full": _with(_full, lambda x, c: c - x), "divide": _with(_column, lambda x, c: x / (1.5 + c)),
    "power": _with(_row, lambda x, c: (1.2 + x**2) ** (1.0 + 0.5 * c)),
    "power_of": _with(_row, lambda x, c: (1.5 + c) ** x),
    "maximum": _with(_full, anp.maximum), "minimum": _with(_row, anp.minimum),
    "arctan2": _with(_column, lambda x, c: anp.arctan2(x, 1.0 + c**2)),
    "hypot": _with(_full, lambda x, c: anp.hypot(x, 1.0 + c**2)),
    "logaddexp": _with(_row, anp.logaddexp),
    "where": _with(_full, lambda x, c: anp.where(c > 0, x, x**2)),
    "clip": _with(_full, lambda x, c: anp.clip(x, -0.5, 0.7) + 0.1 * x),
    # reductions along axes
    "sum_axis0": _unary(lambda x: x * anp.sum(x, axis=0, keepdims=True)),
    "sum_all": _unary(lambda x: x * anp.sum(x)),
    "mean_axis1": _unary(lambda x: x - anp.mean(x, axis=1, keepdims=True)),
    "max_axis1": _unary(lambda x: x + anp.max(x, axis=1, keepdims=True)),
    "min_axis0": _unary(lambda x: x * anp.min(x, axis=0)),
    "prod_axis1": _unary(lambda x: x + anp.prod(1.0 + 0.1 * x, axis=1, keepdims=True)),
    "sum_negative_axis": _unary(lambda x: x + anp.expand_dims(anp.sum(x**2, axis=-1), -1)),
    # shapes
    "transpose_reshape": _unary(lambda x: anp.reshape(anp.transpose(x), x.shape)),
    "ravel_reverse": _unary(lambda x: anp.reshape(anp.ravel(x)[::-1], x.shape)),
    "swapaxes": _unary(lambda x: anp.squeeze(anp.swapaxes(anp.expand_dims(x, 0), 0, 1), 1)),
    "moveaxis": _unary(lambda x: anp.moveaxis(anp.moveaxis(x[None], 0, 2), 2, 0)[0] * 1.5),
    "broadcast_to": _unary(lambda x: anp.sum(anp.broadcast_to(x[None], (2,) + x.shape), axis=0)),
    "method_reshape": _unary(lambda x: x.reshape(-1).reshape(x.shape) * x.T.T),
    # indexing and joining
    "reverse_rows": _unary(lambda x: x[::-1]),
    "rotate_columns": _unary(lambda x: anp.concatenate([x[:, 1:], x[:, :1]], axis=1)),
    "fancy_repeats": _with(_rows_with_repeats, lambda x, rows: x[rows] + x),
    "mask": _with(_mask, _masked),
    "element": _unary(lambda x: x * x[0, -1]),
    "stack": _unary(lambda x: anp.sum(anp.stack([x, 0.5 * x**2], axis=1), axis=1)),
    "array_literal": _unary(lambda x: x + anp.array([x[0, 0], x[-1, -1]])[1]),
    # products
    "matmul": _with(_square, lambda x, m: x @ m), "left_matmul": _with(_left, lambda x, m: m @ x),
    "dot": _with(_square, anp.dot), "einsum": _with(_square, lambda x, m: anp.einsum("ij,jk->ik", x, m)),
    "tensordot": _with(_square, lambda x, m: anp.tensordot(x, m, axes=1)),
    "gram": _unary(lambda x: x @ (anp.transpose(x) @ x) * 0.3),
    "matvec": _with(_row, lambda x, v: x + (x @ v)[:, None]),
    "vecmat": _with(_column, lambda x, v: x * (v[:, 0] @ x)),
    "einsum_trace": _unary(lambda x: x * anp.einsum("ij,ij->", x, x)),
    # linear algebra
    "inverse": _unary(lambda x: x @ anp.linalg.inv(_spd(x))),
    "determinant": _unary(lambda x: x * anp.log(anp.linalg.det(_spd(x)))),
    "solve_matrix": _unary(lambda x: anp.transpose(anp.linalg.solve(_spd(x), anp.transpose(x)))),
    "solve_vector": _unary(lambda x: x + anp.linalg.solve(_spd(x), x[0])),
    "cumsum": _unary(lambda x: anp.cumsum(x, axis=1) * 0.5),
    "roll": _unary(lambda x: anp.roll(x, 1, axis=0) * x),
    "tril": _unary(lambda x: x + anp.tril(x)),
    # no batch rule (some with tuple outputs): the per-row fallback
    "variance": _unary(lambda x: x * anp.var(x, axis=0)),
    "slogdet": _unary(lambda x: x * anp.linalg.slogdet(_spd(x))[1]),
    "cholesky": _unary(lambda x: x @ anp.linalg.cholesky(_spd(x))),
    "norm": _unary(lambda x: x * anp.linalg.norm(x, axis=1)[:, None]),
    "std": _unary(lambda x: x * anp.std(x)),
}


def build_program(names, shape, seed):
    return compose(names, shape, seed, OPERATIONS)


programs = st.tuples(
    st.lists(st.sampled_from(sorted(OPERATIONS)), min_size=1, max_size=3),
    st.tuples(st.integers(1, 3), st.integers(2, 4)),
    st.integers(0, 2**16),
)


def point(shape, seed):
    return numpy.random.default_rng(seed + 2).uniform(-1, 1, size=shape)


def scalar_of(program, shape, seed):
    weights = numpy.random.default_rng(seed + 1).uniform(-1, 1, size=shape)
    return lambda x: anp.sum(program(x) * weights)


def assert_same(batched, looped):
    """Equal to 1e-12 relative to the size of the result."""
    looped = numpy.asarray(looped, dtype=float)
    scale = max(1.0, float(numpy.max(numpy.abs(looped), initial=0.0)))
    numpy.testing.assert_allclose(batched, looped, rtol=1e-12, atol=1e-12 * scale)


def test_the_operations_reach_every_family_of_batch_rules_and_the_fallback():
    x = point((2, 3), 0)
    recorded = set()
    for name in OPERATIONS:
        recorded |= {node.fun for node in record(build_program([name], (2, 3), 0), x).nodes()}
    one_per_family = {
        anp.sin, anp.multiply, _original_where, anp.sum, numpy_wrapper._primitive_mean, anp.prod, anp.max,
        anp.reshape, anp.transpose, anp.broadcast_to, anp.roll, anp.cumsum, anp.tril, getitem_primitive,
        numpy_wrapper.concatenate_args, numpy_wrapper.array_from_args, anp.matmul, anp.einsum, anp.tensordot,
        anp.linalg.inv, anp.linalg.det, anp.linalg.solve,
    }
    assert one_per_family <= recorded
    assert recorded - set(COTANGENT_RULES) - {None}  # some primitives take the per-row fallback (roots have none)


@settings(max_examples=60, deadline=None)
@given(programs)
def test_jacobian_forward_and_reverse_sweeps_equal_the_loop(case):
    names, shape, seed = case
    program, x = build_program(names, shape, seed), point(shape, seed)
    looped = zn.jacobian(program, x, engine="loop")[0]
    recording = record(program, x)
    for mode in ("forward", "reverse"):
        assert_same(jacobian_matrices(recording, 1, mode=mode)[0], looped)
    assert_same(zn.jacobian(program, x)[0], looped)


@settings(max_examples=25, deadline=None)
@given(programs)
def test_hessians_and_diaghessian_equal_the_loop(case):
    names, shape, seed = case
    f, x = scalar_of(build_program(names, shape, seed), shape, seed), point(shape, seed)
    looped = zn.hessian(f, x, engine="loop")
    assert_same(zn.hessian(f, x), looped)
    assert_same(zn.hessian_reverse(f, x), looped)
    assert_same(zn.diaghessian(f, x)[0], zn.diaghessian(f, x, engine="loop")[0])


@settings(max_examples=20, deadline=None)
@given(programs, st.integers(1, 200))
def test_chunked_sweeps_equal_one_sweep(case, budget_in_floats):
    names, shape, seed = case
    program, x = build_program(names, shape, seed), point(shape, seed)
    budget = 8 * (x.size**2 + budget_in_floats)
    assert_same(zn.jacobian(program, x, memory_budget=budget)[0], zn.jacobian(program, x)[0])
    f = scalar_of(program, shape, seed)
    assert_same(zn.hessian(f, x, memory_budget=budget), zn.hessian(f, x, engine="loop"))


@settings(max_examples=20, deadline=None)
@given(programs)
def test_several_arguments_and_a_scalar_one(case):
    names, shape, seed = case
    program, x = build_program(names, shape, seed), point(shape, seed)
    y = numpy.random.default_rng(seed).uniform(-1, 1, size=shape[1])

    def f(x, label, y, s):
        return program(x * s) * anp.tanh(y) + s**2

    batched = zn.jacobian(f, x, "label", y, 0.7)
    looped = zn.jacobian(f, x, "label", y, 0.7, engine="loop")
    assert batched[1] is None and looped[1] is None
    for position in (0, 2, 3):
        assert batched[position].shape == looped[position].shape
        assert_same(batched[position], looped[position])


# ----- chains and stencils on vectors: slices, elementwise operations, sums -----

def _stencil(v):
    return v[2:] - 2.0 * v[1:-1] + v[:-2] * v[1:-1]


def _mixing(size):
    """A fixed dense matrix for vectors of ``size``: products that the banded batch must densify."""
    return numpy.cos(numpy.outer(numpy.arange(size), numpy.arange(size) + 1.0)) * 0.3


# Each step maps a vector to a vector, by how much it shortens it.
VECTOR_STEPS = {
    "mix": (0, lambda v: _mixing(v.shape[0]) @ v),
    "head_mix": (1, lambda v: (_mixing(v.shape[0] - 1) @ v[:-1]) * v[-1]),
    "sin": (0, anp.sin), "tanh": (0, anp.tanh), "cube": (0, lambda v: v**3),
    "exp": (0, lambda v: anp.exp(0.5 * v)), "x_sin_x": (0, lambda v: v * anp.sin(v)),
    "difference": (1, lambda v: v[1:] - v[:-1] ** 2), "stencil": (2, _stencil),
    "interior": (2, lambda v: v[1:-1] * 1.5), "tail": (1, lambda v: v[-(v.shape[0] - 1):] + v[1:] ** 2),
    "neighbours": (1, lambda v: anp.sin(v[:-1]) * anp.cos(v[1:])),
    "shifted_sum": (0, lambda v: v + anp.sum(v[1:] * v[:-1])),
    "every_other": (0, lambda v: v * anp.sum(v[::2] ** 2)),
    "reversed": (0, lambda v: v[::-1] * v),
}

vector_programs = st.tuples(
    st.lists(st.sampled_from(sorted(VECTOR_STEPS)), min_size=1, max_size=4),
    st.integers(9, 12),
    st.integers(0, 2**16),
)


def build_vector_program(names):
    def program(v):
        for name in names:
            v = VECTOR_STEPS[name][1](v)
        return v

    return program


@settings(max_examples=60, deadline=None)
@given(vector_programs)
def test_chain_programs_on_vectors_equal_the_loop(case):
    names, size, seed = case
    program, x = build_vector_program(names), point((size,), seed)
    length = size - sum(VECTOR_STEPS[name][0] for name in names)
    weights = numpy.random.default_rng(seed + 1).uniform(-1, 1, size=length)

    def f(x):
        return anp.sum(program(x) * weights)

    looped = zn.jacobian(program, x, engine="loop")[0]
    recording = record(program, x)
    for mode in ("forward", "reverse"):
        assert_same(jacobian_matrices(recording, 1, mode=mode)[0], looped)
    looped = zn.hessian(f, x, engine="loop")
    assert_same(zn.hessian(f, x), looped)
    assert_same(zn.hessian_reverse(f, x), looped)
    assert_same(zn.diaghessian(f, x)[0], zn.diaghessian(f, x, engine="loop")[0])
