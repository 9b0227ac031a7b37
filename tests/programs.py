"""Random differentiable programs for property tests: compositions of NumPy primitives.

Each operation maps an array of shape (rows, cols) to an array of the same
shape, so any sequence of them composes.  Constants come from a seeded
generator so that a failing example is reproducible from its seed.
"""

import numpy

import zygote_nb.numpy as np


def _unary(name, fn):
    return name, lambda shape, rng: fn


def _with_constant(name, fn):
    def build(shape, rng):
        constant = rng.uniform(-1.0, 1.0, size=shape)
        return lambda x: fn(x, constant)

    return name, build


def _with_matrix(name, fn):
    def build(shape, rng):
        matrix = rng.uniform(-1.0, 1.0, size=(shape[1], shape[1]))
        return lambda x: fn(x, matrix)

    return name, build


def _reverse_rows(x):
    return x[::-1]


def _swap_halves(x):
    cut = x.shape[1] // 2
    return np.concatenate([x[:, cut:], x[:, :cut]], axis=1)


OPERATIONS = dict([
    _unary("sin", np.sin),
    _unary("cos", np.cos),
    _unary("tanh", np.tanh),
    _unary("exp", lambda x: np.exp(0.5 * x)),
    _unary("log", lambda x: np.log(1.5 + x**2)),
    _unary("sqrt", lambda x: np.sqrt(1.0 + x**2)),
    _unary("square", np.square),
    _unary("cube", lambda x: x**3),
    _unary("arctan", np.arctan),
    _unary("sinh", lambda x: np.sinh(0.5 * x)),
    _unary("cosh", lambda x: np.cosh(0.5 * x)),
    _unary("log1p", lambda x: np.log1p(x**2)),
    _unary("expm1", lambda x: np.expm1(0.5 * x)),
    _unary("reciprocal", lambda x: 1.0 / (2.0 + np.sin(x))),
    _unary("negative", np.negative),
    _with_constant("add", np.add),
    _with_constant("subtract", lambda x, c: np.subtract(c, x)),
    _with_constant("multiply", np.multiply),
    _with_constant("divide", lambda x, c: np.divide(x, 1.5 + c)),
    _with_constant("where", lambda x, c: np.where(c > 0, x, x**2)),
    _with_constant("hypot", lambda x, c: np.hypot(x, 1.0 + c**2)),
    _unary("sum_axis0", lambda x: x * np.sum(x, axis=0, keepdims=True)),
    _unary("mean_axis1", lambda x: x - np.mean(x, axis=1, keepdims=True)),
    _unary("max_axis1", lambda x: x + np.max(x, axis=1, keepdims=True)),
    _unary("min_axis0", lambda x: x * np.min(x, axis=0)),
    _unary("prod_axis1", lambda x: x + np.prod(1.0 + 0.1 * x, axis=1, keepdims=True)),
    _unary("cumsum", lambda x: np.cumsum(x, axis=1) * 0.5),
    _with_matrix("dot", np.dot),
    _with_matrix("matmul", lambda x, m: x @ m),
    _with_matrix("einsum", lambda x, m: np.einsum("ij,jk->ik", x, m)),
    _with_matrix("tensordot", lambda x, m: np.tensordot(x, m, axes=1)),
    _unary("transpose_reshape", lambda x: np.reshape(np.transpose(x), x.shape)),
    _unary("ravel_reshape", lambda x: np.reshape(np.ravel(x)[::-1], x.shape)),
    _unary("reverse_rows", _reverse_rows),
    _unary("swap_halves", _swap_halves),
    _unary("stack", lambda x: np.sum(np.stack([x, 0.5 * x**2]), axis=0)),
    _unary("expand_squeeze", lambda x: np.squeeze(np.expand_dims(x, 0), 0) * 1.5),
    _unary("fancy_index", lambda x: x[numpy.arange(x.shape[0])[::-1]] + x),
])


def build_program(names, shape, seed, operations=OPERATIONS):
    """The composition of the named ``operations``, each with constants drawn from ``seed``."""
    rng = numpy.random.default_rng(seed)
    steps = [operations[name](shape, rng) for name in names]

    def program(x):
        for step in steps:
            x = step(x)
        return x

    return program
