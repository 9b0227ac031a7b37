"""The batched engine's own behaviour: modes, chunks, the memory budget, fallbacks, instrumentation."""

import io
import contextlib

import autograd.numpy as anp
import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from autograd.extend import defjvp, defvjp, primitive

import zygote_nb as zn
from zygote_nb.engine import MemoryBudgetError, jacobian_matrices
from zygote_nb.pullback import record
from zygote_nb.engine.batch import Banded, unbroadcast
from zygote_nb.engine.passes import push_forward

W = numpy.random.default_rng(0).standard_normal((5, 3))
calls = {"vjp": 0, "jvp": 0}


@primitive
def scaled_by_three(x):
    """A primitive that the engine has no batch rule for, counting how often its own rules run."""
    return 3.0 * x


def _counted_vjp(ans, x):
    def vjp(g):
        calls["vjp"] += 1
        return 3.0 * g

    return vjp


def _counted_jvp(g, ans, x):
    calls["jvp"] += 1
    return 3.0 * g


defvjp(scaled_by_three, _counted_vjp)
defjvp(scaled_by_three, _counted_jvp)


def test_reverse_mode_calls_a_rule_less_primitive_once_per_row_as_the_loop_does():
    x = numpy.array([0.1, -0.4, 0.7])
    f = lambda x: anp.tanh(W @ scaled_by_three(x))  # noqa: E731
    calls["vjp"] = 0
    batched = zn.jacobian(f, x)[0]
    assert calls["vjp"] == 5  # reverse mode (the primitive rules out forward mode), one call per output row
    calls["vjp"] = 0
    looped = zn.jacobian(f, x, engine="loop")[0]
    assert calls["vjp"] == 5
    numpy.testing.assert_allclose(batched, looped, rtol=1e-12)
    numpy.testing.assert_allclose(batched, (1 - numpy.tanh(3 * W @ x) ** 2)[:, None] * 3 * W, rtol=1e-12)


def test_forward_mode_falls_back_to_the_primitives_own_jvp_per_column():
    x = numpy.array([0.1, -0.4, 0.7])
    recording = record(lambda x: anp.sin(scaled_by_three(x)), x)
    calls["jvp"] = 0
    J = jacobian_matrices(recording, 1, mode="forward")[0]
    assert calls["jvp"] == 3
    numpy.testing.assert_allclose(J, numpy.diag(3 * numpy.cos(3 * x)), rtol=1e-12)


def test_hook_like_instrumentation_keeps_its_per_row_semantics():
    seen = []

    @primitive
    def report(x):
        return x

    defvjp(report, lambda ans, x: lambda g: seen.append(numpy.array(g)) or g)
    x = numpy.array([1.0, 2.0])
    zn.jacobian(lambda x: report(x) ** 2, x)
    assert len(seen) == 2
    numpy.testing.assert_allclose(numpy.stack(seen), numpy.diag(2 * x))  # row k: the cotangent 2x_k e_k


def test_forward_mode_is_chosen_for_wide_jacobians_and_matches_reverse_mode():
    wide = numpy.random.default_rng(1).standard_normal((40, 2))
    x = numpy.array([0.3, -0.2])
    recording = record(lambda x: anp.tanh(wide @ x), x)
    forward = jacobian_matrices(recording, 1, mode="forward")[0]
    reverse = jacobian_matrices(recording, 1, mode="reverse")[0]
    numpy.testing.assert_allclose(forward, reverse, rtol=1e-12)
    numpy.testing.assert_allclose(zn.jacobian(lambda x: anp.tanh(wide @ x), x)[0], reverse, rtol=1e-12)


def test_elementwise_tangents_stay_a_scaled_identity():
    x = numpy.linspace(-1, 1, 6)
    recording = record(lambda x: anp.sin(x) * x**2 + 1.0, x)
    (_, end), = recording.ends
    tangent = push_forward(recording.nodes(), {recording.roots[0]: Banded({0: numpy.ones(6)}, 0, 6)},
                           [end], 6)[end]
    assert isinstance(tangent, Banded) and tangent.is_diagonal
    numpy.testing.assert_allclose(tangent.diagonal(), numpy.cos(x) * x**2 + 2 * x * numpy.sin(x), rtol=1e-12)


def test_diaghessian_of_a_separable_function_equals_the_loop_and_the_formula():
    x = numpy.linspace(-2, 2, 50)
    f = lambda x: anp.sum(x**3 * anp.sin(x))  # noqa: E731
    expected = 6 * x * numpy.sin(x) + 6 * x**2 * numpy.cos(x) - x**3 * numpy.sin(x)
    numpy.testing.assert_allclose(zn.diaghessian(f, x)[0], expected, rtol=1e-12, atol=1e-12)
    numpy.testing.assert_allclose(zn.diaghessian(f, x, engine="loop")[0], expected, rtol=1e-12, atol=1e-12)


def test_a_result_larger_than_the_budget_is_refused_before_any_work():
    evaluations = []

    def f(x):
        evaluations.append(1)
        return anp.tanh(x)

    with pytest.raises(MemoryBudgetError, match=r"jacobian needs 8\.0 MB .* shape \(1000, 1000\).*memory_budget="):
        zn.jacobian(f, numpy.zeros(1000), memory_budget=10**6)
    assert len(evaluations) == 1  # the recording only: no backward pass ran
    with pytest.raises(MemoryBudgetError, match="hessian needs"):
        zn.hessian(lambda x: anp.sum(x**2), numpy.zeros(1000), memory_budget=10**6)


def test_small_budgets_split_the_batch_into_chunks_with_a_progress_bar():
    x = numpy.linspace(-1, 1, 12)
    f = lambda x: anp.cumsum(anp.sin(x)) * x  # noqa: E731
    stream = io.StringIO()
    with contextlib.redirect_stderr(stream):
        chunked = zn.jacobian(f, x, memory_budget=12 * 12 * 8 + 2000, progress=True)[0]
    assert "jacobian rows" in stream.getvalue()
    numpy.testing.assert_allclose(chunked, zn.jacobian(f, x, engine="loop")[0], rtol=1e-12)


def test_default_budget_is_half_the_available_memory():
    from zygote_nb.engine.memory import available_memory, budget_or_default

    assert 0 < budget_or_default(None) <= available_memory() // 2 + 1
    assert budget_or_default(123) == 123


def test_complex_intermediates_take_the_loop_path():
    x = numpy.array([0.3, 0.5])
    f = lambda x: anp.abs(anp.exp(1j * x) + x)  # noqa: E731
    numpy.testing.assert_allclose(zn.jacobian(f, x)[0], zn.jacobian(f, x, engine="loop")[0], rtol=1e-12)


def test_unknown_engine_names_the_choices():
    with pytest.raises(ValueError, match='engine="batched".*engine="loop"'):
        zn.jacobian(anp.sin, numpy.ones(2), engine="fast")


def test_unbroadcast_keeps_the_batch_axis_where_autograd_would_sum_it():
    from autograd.numpy.numpy_vjps import unbroadcast as autograd_unbroadcast

    batch = numpy.ones((4, 2, 3))
    numpy.testing.assert_array_equal(unbroadcast(batch, (3,)), numpy.full((4, 3), 2.0))
    assert autograd_unbroadcast(batch, anp.metadata(numpy.ones(3))).shape == (3,)


@pytest.mark.parametrize("matrix", [W, W.T], ids=["reverse", "forward"])
def test_a_linear_map_jacobian_is_a_copy_of_the_matrix_not_a_view_of_it(matrix):
    before = matrix.copy()
    J = zn.jacobian(lambda x: matrix @ x, numpy.ones(matrix.shape[1]))[0]
    J[...] = 7.0
    numpy.testing.assert_array_equal(matrix, before)


def test_two_arguments_sharing_one_cotangent_get_separate_jacobians():
    Jx, Jy = zn.jacobian(lambda x, y: anp.sin(W @ x + y), numpy.ones(3), numpy.ones(5))
    Jy[...] = 0.0
    numpy.testing.assert_allclose(Jx, numpy.cos(W @ numpy.ones(3) + 1.0)[:, None] * W, rtol=1e-12)


def test_a_sweep_that_makes_one_dense_product_runs_as_one_chunk_whatever_the_cache_size(monkeypatch):
    from zygote_nb.engine import batched as derivatives

    batch_sizes = []
    sweep = derivatives.pull_back

    def counted(order, seeds, roots, batch_size, *rest):
        batch_sizes.append(batch_size)
        return sweep(order, seeds, roots, batch_size, *rest)

    monkeypatch.setattr(derivatives, "pull_back", counted)
    monkeypatch.setattr(derivatives, "CACHE_BYTES", 1)
    monkeypatch.setattr(derivatives, "MIN_CACHE_ROWS", 1)
    matrix = numpy.random.default_rng(1).standard_normal((40, 40))
    x = numpy.linspace(-1.0, 1.0, 40)
    J = zn.jacobian(lambda x: anp.tanh(matrix @ x), x)[0]
    assert batch_sizes == [1, 40]  # one row to learn that only the product is dense, then all rows
    numpy.testing.assert_allclose(J, (1.0 - numpy.tanh(matrix @ x) ** 2)[:, None] * matrix, rtol=1e-12,
                                  atol=1e-14)


# ----- the banded batch, checked against rows built entry by entry from its definition -----

def _banded_case(size, offsets, start, stop, seed):
    rng = numpy.random.default_rng(seed)
    diagonals = {offset: rng.uniform(-1, 1, size) for offset in offsets}
    rows = numpy.zeros((stop - start, size))
    for b in range(stop - start):
        for offset, band in diagonals.items():
            position = start + b + offset
            if 0 <= position < size:
                rows[b, position] += band[position]
    return Banded(diagonals, start, stop), rows


@st.composite
def banded_cases(draw):
    size = draw(st.integers(1, 7))
    start = draw(st.integers(0, size - 1))
    stop = draw(st.integers(start + 1, size))
    offsets = draw(st.sets(st.integers(-size, size), min_size=1, max_size=3))
    return _banded_case(size, sorted(offsets), start, stop, draw(st.integers(0, 2**16)))


@settings(max_examples=80, deadline=None)
@given(banded_cases(), st.integers(0, 7), st.integers(0, 7))
def test_a_banded_batch_follows_slices_and_their_adjoint_as_its_dense_rows_do(case, begin, end):
    batch, rows = case
    size = rows.shape[1]
    begin, end = min(begin, size), min(max(begin, end), size)
    numpy.testing.assert_array_equal(batch.dense(), rows)
    numpy.testing.assert_array_equal(batch.sliced(begin, end).dense(), rows[:, begin:end])
    piece = batch.sliced(begin, end)
    placed = numpy.zeros((len(rows), size + 2))
    placed[:, 1:1 + end - begin] = rows[:, begin:end]
    numpy.testing.assert_array_equal(piece.embedded(1, size + 2).dense(), placed)


@settings(max_examples=80, deadline=None)
@given(banded_cases(), st.integers(0, 2**16))
def test_a_banded_batch_scales_adds_sums_and_reshapes_as_its_dense_rows_do(case, seed):
    batch, rows = case
    size = rows.shape[1]
    other, other_rows = _banded_case(size, [-1, 0, 2], batch.start, batch.stop, seed)
    factor = numpy.random.default_rng(seed).uniform(-1, 1, size)
    numpy.testing.assert_allclose(batch.scaled(factor).dense(), rows * factor, rtol=1e-15)
    numpy.testing.assert_allclose(batch.plus(other).dense(), rows + other_rows, rtol=1e-15)
    numpy.testing.assert_allclose(batch.row_sums(), rows.sum(axis=1), rtol=1e-12, atol=1e-15)
    diagonal = rows[numpy.arange(len(rows)), numpy.arange(batch.start, batch.stop)]
    numpy.testing.assert_array_equal(batch.diagonal(), diagonal)
    numpy.testing.assert_array_equal(batch.reshaped((1, size)).dense(), rows.reshape(len(rows), 1, size))


def _rosenbrock(x):
    return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_the_rosenbrock_hessian_stays_three_diagonals_and_matches_the_formula():
    x = numpy.random.default_rng(3).uniform(-1, 1, 9)
    recording = record(lambda x: zn.gradient(_rosenbrock, x)[0], x)
    (_, end), = recording.ends
    tangent = push_forward(recording.nodes(), {recording.roots[0]: Banded({0: numpy.ones(9)}, 0, 9)}, [end], 9)[end]
    assert isinstance(tangent, Banded) and set(tangent.diagonals) <= {-1, 0, 1}
    inner = x[:-1]
    expected = numpy.diag(numpy.r_[1200.0 * inner**2 - 400.0 * x[1:] + 2.0, 0.0] + numpy.r_[0.0, numpy.full(8, 200.0)])
    expected += numpy.diag(-400.0 * inner, 1) + numpy.diag(-400.0 * inner, -1)
    numpy.testing.assert_allclose(tangent.dense(), expected, rtol=1e-12)
    numpy.testing.assert_allclose(zn.hessian(_rosenbrock, x), expected, rtol=1e-12)


def test_a_slice_shorter_than_the_batch_then_a_product_is_not_taken_for_a_scaled_identity():
    # The batch has a row for every entry of v; after v[:2] the rows of v[2:] lie past the
    # slice, so the product rule must not index W by row number.
    W = numpy.array([[1.0, 2.0], [3.0, -1.0]])
    f = lambda v: zn.numpy.sum(W @ v[:2]) * v[2] ** 2  # noqa: E731
    v = numpy.array([0.5, -1.5, 2.0])
    numpy.testing.assert_allclose(zn.hessian(f, v), zn.hessian(f, v, engine="loop"), rtol=1e-12, atol=1e-12)
    numpy.testing.assert_allclose(zn.jacobian(lambda v: W @ v[:2] * v[2], v)[0],
                                  zn.jacobian(lambda v: W @ v[:2] * v[2], v, engine="loop")[0], rtol=1e-12)
