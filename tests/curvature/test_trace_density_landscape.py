"""hessian_trace, hessian_density and loss_landscape against closed forms and dense eigenvalues."""

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as np
from zygote_nb.curvature.hvp import DenseOperator
from zygote_nb.curvature.trace import trace_of


def logistic_regression(samples=200, features=150, seed=0):
    """The mean logistic loss and its Hessian's closed-form trace, Σ pᵢ(1−pᵢ)‖xᵢ‖² / n."""
    random = numpy.random.default_rng(seed)
    data = random.standard_normal((samples, features))
    labels = random.integers(0, 2, samples).astype(float)
    weights = 0.1 * random.standard_normal(features)
    probabilities = 1 / (1 + numpy.exp(-(data @ weights)))
    trace = float(numpy.sum(probabilities * (1 - probabilities) * numpy.sum(data ** 2, axis=1)) / samples)
    return (lambda w: np.mean(np.logaddexp(0, data @ w) - labels * (data @ w))), weights, trace


def test_the_trace_of_logistic_regression_is_within_three_standard_errors():
    f, weights, exact = logistic_regression()
    trace = zn.hessian_trace(f, weights, hvps=45, seed=0)
    assert trace.hvps == 45 and trace.stderr > 0
    assert abs(trace.estimate - exact) <= 3 * trace.stderr


def test_the_standard_error_is_honest_over_repeated_trials():
    # A spectrum with a slowly decaying tail (what Hutch++'s sketch cannot remove) and a closed-form trace.
    random = numpy.random.default_rng(1)
    basis, _ = numpy.linalg.qr(random.standard_normal((300, 300)))
    eigenvalues = 1 / numpy.arange(1, 301) ** 0.5 * numpy.where(numpy.arange(300) % 7 == 0, -1, 1)
    operator = DenseOperator(basis @ numpy.diag(eigenvalues) @ basis.T)
    inside = [abs(estimate.estimate - eigenvalues.sum()) <= 3 * estimate.stderr
              for estimate in (trace_of(operator, 30, seed=seed) for seed in range(300))]
    assert numpy.mean(inside) >= 0.97


def test_the_trace_is_exact_once_the_sketch_spans_the_space():
    trace = zn.hessian_trace(lambda x: np.sum(x ** 4), numpy.array([1.0, 2.0]), hvps=6, seed=0)
    assert trace.stderr == 0.0 and trace.estimate == pytest.approx(12 * (1 + 4))


def test_the_density_matches_the_smoothed_dense_spectrum():
    random = numpy.random.default_rng(2)
    basis, _ = numpy.linalg.qr(random.standard_normal((120, 120)))
    eigenvalues = numpy.concatenate([random.uniform(0, 1, 100), random.uniform(4, 5, 20)])
    matrix = basis @ numpy.diag(eigenvalues) @ basis.T
    density = zn.hessian_density(lambda x: 0.5 * x @ (matrix @ x), numpy.zeros(120), runs=10, steps=30,
                                 width=0.2, seed=0)
    assert density.hvps == 300
    spacing = density.grid[1] - density.grid[0]
    smoothed = numpy.exp(-0.5 * ((density.grid[:, None] - eigenvalues[None, :]) / 0.2) ** 2).sum(axis=1)
    smoothed /= 120 * 0.2 * numpy.sqrt(2 * numpy.pi)
    assert numpy.sum(density.density) * spacing == pytest.approx(1.0, abs=0.01)
    assert numpy.sum(numpy.abs(density.density - smoothed)) * spacing < 0.15
    mass_above_three = numpy.sum(density.density[density.grid > 3]) * spacing
    assert mass_above_three == pytest.approx(20 / 120, abs=0.05)


def test_the_slice_along_the_top_eigenvector_curves_like_the_top_eigenvalue():
    random = numpy.random.default_rng(3)
    point = random.standard_normal((4, 5))
    f = lambda x: np.sum(np.cos(x) * x[0]) + 0.5 * np.sum(x ** 2) * np.sum(x[1] ** 2)
    top = numpy.linalg.eigvalsh(zn.hessian(f, point))[-1]
    landscape = zn.loss_landscape(f, point, radius=1e-3, points=5, seed=0)
    assert landscape.loss.shape == (5,) and landscape.directions[0].shape == (4, 5)
    assert landscape.eigenvalues[0] == pytest.approx(top, rel=1e-8)
    assert landscape.curvature == pytest.approx(top, rel=1e-4)
    assert landscape.loss[2] == pytest.approx(f(point))


def test_random_directions_are_filter_normalised_per_row():
    layers = [numpy.arange(1.0, 7.0).reshape(3, 2), numpy.array([3.0, 4.0])]
    landscape = zn.loss_landscape(lambda p: np.sum(p[0] ** 2) + np.sum(p[1]), layers, directions="random",
                                  dimensions=2, points=3, seed=0)
    for direction in landscape.directions:
        numpy.testing.assert_allclose(numpy.linalg.norm(direction[0], axis=1), numpy.linalg.norm(layers[0], axis=1))
        assert numpy.linalg.norm(direction[1]) == pytest.approx(5.0)
    assert landscape.loss.shape == (3, 3)


def test_bad_directions_get_an_error_naming_the_choices():
    with pytest.raises(ValueError, match="directions must be None"):
        zn.loss_landscape(lambda x: np.sum(x ** 2), numpy.ones(2), directions="sharpest")


def test_the_landscape_of_a_params_loss_is_that_of_the_explicit_loss():
    w = numpy.array([0.5, -1.0, 2.0])
    implicit = zn.loss_landscape(lambda: np.sum(w ** 4), zn.Params([w]), directions=[[numpy.ones(3)]], points=5)
    explicit = zn.loss_landscape(lambda x: np.sum(x ** 4), w, directions=[numpy.ones(3)], points=5)
    numpy.testing.assert_allclose(implicit.loss, explicit.loss)
    numpy.testing.assert_allclose(implicit.loss, [numpy.sum((w + t) ** 4) for t in numpy.linspace(-1, 1, 5)])
