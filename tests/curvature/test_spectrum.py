"""hessian_spectrum against dense eigvalsh, SciPy's ARPACK on a hand-written matvec, and closed forms at 10⁶."""

import numpy
import pytest
from scipy.sparse.linalg import LinearOperator, eigsh

import zygote_nb as zn
import zygote_nb.numpy as np


def random_quartic(size, seed):
    """A non-quadratic function whose Hessian at a random point is a dense indefinite matrix."""
    random = numpy.random.default_rng(seed)
    mixing = random.standard_normal((size, size)) / numpy.sqrt(size)
    point = random.standard_normal(size)
    f = lambda x: np.sum(np.tanh(mixing @ x) ** 2) - 0.3 * np.sum(x ** 2) + np.sum(x[:3] ** 4)
    return f, point


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_returned_eigenvalue_lies_within_its_error_bound_of_a_dense_eigenvalue(seed):
    f, point = random_quartic(40, seed)
    eigenvalues = numpy.linalg.eigvalsh(zn.hessian(f, point))
    for max_hvps in (5, 12, 60):  # unconverged runs too: the bound must hold at any stopping point
        spectrum = zn.hessian_spectrum(f, point, k=3, max_hvps=max_hvps, seed=seed)
        for values, errors in zip((spectrum.largest, spectrum.smallest), spectrum.errors):
            for value, error in zip(values, errors):
                assert numpy.min(numpy.abs(eigenvalues - value)) <= error
    numpy.testing.assert_allclose(spectrum.largest, eigenvalues[::-1][:3], atol=1e-8)
    numpy.testing.assert_allclose(spectrum.smallest, eigenvalues[:3], atol=1e-8)


def test_the_vectors_are_unit_eigenvectors_shaped_like_x():
    random = numpy.random.default_rng(3)
    matrix = random.standard_normal((24, 24))
    matrix = matrix + matrix.T
    x = numpy.zeros((4, 6))
    spectrum = zn.hessian_spectrum(lambda w: 0.5 * np.ravel(w) @ (matrix @ np.ravel(w)), x, k=2, vectors=True,
                                   seed=0)
    eigenvalues, eigenvectors = numpy.linalg.eigh(matrix)
    top = spectrum.vectors.largest[0]
    assert top.shape == (4, 6)
    assert abs(abs(top.ravel() @ eigenvectors[:, -1]) - 1) < 1e-8
    residual = numpy.linalg.norm(matrix @ top.ravel() - spectrum.largest[0] * top.ravel())
    assert residual <= spectrum.errors.largest[0]


def test_agrees_with_arpack_on_a_hand_written_logistic_regression_hessian():
    random = numpy.random.default_rng(4)
    samples, features = 300, 500
    data = random.standard_normal((samples, features))
    labels = random.integers(0, 2, samples).astype(float)
    weights = random.standard_normal(features) * 0.1
    loss = lambda w: np.mean(np.logaddexp(0, data @ w) - labels * (data @ w))
    probabilities = 1 / (1 + numpy.exp(-(data @ weights)))
    curvature = probabilities * (1 - probabilities)
    by_hand = LinearOperator((features, features), matvec=lambda v: data.T @ (curvature * (data @ v)) / samples,
                             dtype=float)
    expected = eigsh(by_hand, k=3, which="LA", return_eigenvectors=False)
    spectrum = zn.hessian_spectrum(loss, weights, k=3, which="largest", seed=0)
    numpy.testing.assert_allclose(spectrum.largest, numpy.sort(expected)[::-1], rtol=1e-6)
    assert spectrum.smallest.size == 0 and spectrum.converged


def diagonal_plus_low_rank(size, seed):
    """``H = diag(d) + U diag(s) Uᵀ``: the bulk ``d`` in [1, 2], six spikes (four above, two below).

    ``U`` is orthonormal and lives on the first 1,000 coordinates, where ``d`` is 1.5, so its span
    is invariant and the spiked eigenvalues are exactly ``1.5 + s`` (the closed form).
    """
    random = numpy.random.default_rng(seed)
    bulk = random.uniform(1.0, 2.0, size)
    bulk[:1000] = 1.5
    directions = numpy.zeros((size, 6))
    directions[:1000], _ = numpy.linalg.qr(random.standard_normal((1000, 6)))
    spikes = numpy.array([40.0, 30.0, 20.0, 10.0, -6.0, -3.0])
    f = lambda x: 0.5 * np.sum(bulk * x ** 2) + 0.5 * np.sum(spikes * (directions.T @ x) ** 2)
    return f, 1.5 + spikes


def test_a_million_parameters_top_four_and_bottom_two_within_one_percent_in_150_hvps():
    size = 10 ** 6
    f, exact = diagonal_plus_low_rank(size, seed=5)
    x = numpy.zeros(size)
    top = zn.hessian_spectrum(f, x, k=4, which="largest", tol=1e-4, max_hvps=100, seed=0)
    bottom = zn.hessian_spectrum(f, x, k=2, which="smallest", tol=1e-4, max_hvps=150 - top.hvps, seed=1)
    assert top.hvps + bottom.hvps <= 150
    numpy.testing.assert_allclose(top.largest, exact[:4], rtol=0.01)
    numpy.testing.assert_allclose(bottom.smallest, numpy.sort(exact[4:]), rtol=0.01)
    for values, errors, expected in ((top.largest, top.errors.largest, exact[:4]),
                                     (bottom.smallest, bottom.errors.smallest, numpy.sort(exact[4:]))):
        assert numpy.all(numpy.abs(values - expected) <= errors)


def test_repeated_eigenvalues_come_with_their_multiplicity():
    spectrum = zn.hessian_spectrum(lambda x: np.sum(x ** 2), numpy.ones(10), k=3, seed=0)
    numpy.testing.assert_allclose(spectrum.largest, [2.0, 2.0, 2.0])
    numpy.testing.assert_allclose(spectrum.smallest, [2.0, 2.0, 2.0])


def test_ctrl_c_returns_what_was_found_with_bounds_that_still_hold():
    f, point = random_quartic(30, seed=6)
    calls = {"count": 0}

    def interrupted_after_some_products(x):
        calls["count"] += 1
        if calls["count"] > 8:
            raise KeyboardInterrupt
        return f(x)

    spectrum = zn.hessian_spectrum(interrupted_after_some_products, point, k=2, seed=0)
    assert spectrum.stopped == "interrupted" and not spectrum.converged and spectrum.hvps == 8
    eigenvalues = numpy.linalg.eigvalsh(zn.hessian(f, point))
    for value, error in zip(spectrum.largest, spectrum.errors.largest):
        assert numpy.min(numpy.abs(eigenvalues - value)) <= error


@pytest.mark.parametrize("options, message", [
    ({"k": 0}, "k must be a positive"), ({"which": "top"}, "which must be one of"),
    ({"tol": -1}, "tol must be"), ({"max_hvps": 0}, "max_hvps must be"),
])
def test_bad_options_get_one_line_errors_naming_the_fix(options, message):
    with pytest.raises(ValueError, match=message):
        zn.hessian_spectrum(lambda x: np.sum(x ** 2), numpy.ones(3), **options)


def test_the_dense_summary_bounds_hold_for_the_double_precision_matrix():
    from zygote_nb.curvature.dense import dense_extremes

    random = numpy.random.default_rng(7)
    basis, _ = numpy.linalg.qr(random.standard_normal((500, 500)))
    eigenvalues = numpy.concatenate([numpy.zeros(50), random.uniform(0.01, 1.0, 440), [3.0, 2.5, 2.0, 1.5],
                                     [-1e-3, -0.5, -0.7, -2.0, -2.0, -2.0]])
    matrix = basis @ numpy.diag(eigenvalues) @ basis.T
    found = dense_extremes((matrix + matrix.T) / 2, k=4, tol=1e-6)
    exact = numpy.sort(eigenvalues)
    for values, errors in zip((found.largest, found.smallest), found.errors):
        for value, error in zip(values, errors):
            assert numpy.min(numpy.abs(exact - value)) <= error
    numpy.testing.assert_allclose(found.largest, exact[::-1][:4], atol=1e-6)
    assert found.smallest[0] == pytest.approx(-2.0, abs=1e-6)


@pytest.mark.parametrize("negative, kind", [(None, "degenerate"), (-0.3, "saddle")])
def test_the_dense_summary_stops_at_a_large_zero_cluster_with_bounds_that_hold(negative, kind):
    from zygote_nb.curvature.dense import dense_extremes
    from zygote_nb.curvature.hvp import DenseOperator
    from zygote_nb.curvature.spectrum import extreme_eigenvalues
    from zygote_nb.notebook.curvature import PARTIAL_TOLERANCE, classify

    random = numpy.random.default_rng(3)
    basis, _ = numpy.linalg.qr(random.standard_normal((600, 600)))
    rest = numpy.concatenate([random.uniform(1e-3, 0.1, 144), [3.0, 2.5, 2.0, 1.7, 1.5, 1.3]])
    eigenvalues = numpy.concatenate([numpy.zeros(450), rest if negative is None else [negative, *rest[1:]]])
    matrix = basis @ numpy.diag(eigenvalues) @ basis.T
    matrix = (matrix + matrix.T) / 2
    found = dense_extremes(matrix, k=6, tol=PARTIAL_TOLERANCE)
    exact = numpy.linalg.eigvalsh(matrix)
    for values, errors in zip((found.largest, found.smallest), found.errors):
        for value, error in zip(values, errors):
            assert numpy.min(numpy.abs(exact - value)) <= error
    assert found.smallest[0] - found.errors.smallest[0] <= exact[0] + 1e-12
    assert classify(matrix, gradient_norm=0.0).kind == kind
    # The same search without stopping at the cluster: every one of the six smallest must converge.
    unsettled = extreme_eigenvalues(DenseOperator(matrix.astype(numpy.float32)), 6, "both", tol=PARTIAL_TOLERANCE,
                                    seed=0)
    if negative is None:
        assert found.hvps < unsettled.hvps / 2
