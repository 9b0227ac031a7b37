"""The Hessian's eigenvalue density by stochastic Lanczos quadrature (SLQ).

For a unit vector ``v``, ``m`` Lanczos steps from ``v`` give nodes ``θ_j`` (the
Ritz values) and weights ``τ_j`` (squared first components of ``T``'s
eigenvectors) such that ``Σ τ_j p(θ_j) = vᵀ p(H) v`` for every polynomial of
degree below ``2m``: a Gauss quadrature of ``v``'s spectral measure. Averaged
over random ``v`` it estimates the spectral measure ``(1/n) Σ δ(t − λ_i)``;
each node is drawn as a Gaussian of width ``width`` (Ghorbani, Krishnan and Xiao,
2019; PyHessian).

>>> import zygote_nb.numpy as np
>>> density = hessian_density(lambda x: np.sum(x ** 2), np.zeros(50), runs=2, steps=5, seed=0)
>>> round(float(density.grid[numpy.argmax(density.density)]), 1), density.hvps
(2.0, 10)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy

from ..progress import Progress
from .hvp import HessianOperator, HvpBar
from .lanczos import lanczos

GRID_POINTS = 400
# The default Gaussian width, as a fraction of the range of nodes (as PyHessian's default).
RELATIVE_WIDTH = 0.01


@dataclass(frozen=True)
class Density:
    """``density`` on ``grid`` (it integrates to about 1), the quadrature ``nodes`` and ``weights``, ``hvps``."""

    grid: numpy.ndarray
    density: numpy.ndarray
    nodes: numpy.ndarray
    weights: numpy.ndarray
    hvps: int


def hessian_density(f: Callable, x: Any, runs: int = 4, steps: int = 60, width: float | None = None,
                    grid_points: int = GRID_POINTS, seed: int | None = None, progress: Progress = False) -> Density:
    """The eigenvalue density of the Hessian of ``f`` at ``x`` from ``runs × steps`` Hessian-vector products.

    ``steps`` Lanczos steps per random start resolve the density at the
    scale of ``(λ_max − λ_min) / steps``; ``runs`` random starts average the
    estimate. ``width`` (default 1% of the spectrum's range) is the Gaussian
    drawn at each node. Returns ``grid`` and ``density`` to plot.

    >>> import zygote_nb.numpy as np
    >>> density = hessian_density(lambda x: np.sum(x ** 2) - 2 * x[0] ** 2, np.zeros(20), runs=3, steps=20, seed=0)
    >>> sorted(set(numpy.round(density.nodes[density.weights > 1e-6], 6).tolist()))
    [-2.0, 2.0]
    """
    for name, count in (("runs", runs), ("steps", steps), ("grid_points", grid_points)):
        if not isinstance(count, (int, numpy.integer)) or count < 1:
            raise ValueError(f"{name} must be a positive whole number, got {count!r}")
    return density_of(HessianOperator("hessian_density", f, x), runs, steps, width, grid_points, seed, progress)


def density_of(operator, runs: int, steps: int, width: float | None = None, grid_points: int = GRID_POINTS,
               seed: int | None = None, progress: Progress = False) -> Density:
    """Stochastic Lanczos quadrature on any operator with ``size`` and ``matvec``."""
    random = numpy.random.default_rng(seed)
    bar = HvpBar(progress, runs * min(steps, operator.size), "Lanczos quadrature")
    start_count = operator.hvps
    nodes, weights = [], []
    try:
        for _ in range(runs):
            krylov = lanczos(operator, random.choice([-1.0, 1.0], size=operator.size), steps, bar=bar,
                             seed=random.integers(2 ** 32))
            if krylov.stopped == "interrupted":
                raise KeyboardInterrupt
            values, _, vectors = krylov.ritz()
            nodes.append(values)
            weights.append(vectors[0] ** 2 / runs)
    finally:
        bar.close()
    nodes, weights = numpy.concatenate(nodes), numpy.concatenate(weights)
    spread = float(nodes.max() - nodes.min())
    if width is None:
        width = RELATIVE_WIDTH * spread if spread > 0 else max(abs(float(nodes.max())), 1.0) * RELATIVE_WIDTH
    grid = numpy.linspace(nodes.min() - 5 * width, nodes.max() + 5 * width, grid_points)
    gaussians = numpy.exp(-0.5 * ((grid[:, None] - nodes[None, :]) / width) ** 2) / (width * numpy.sqrt(2 * numpy.pi))
    return Density(grid, gaussians @ weights, nodes, weights, operator.hvps - start_count)
