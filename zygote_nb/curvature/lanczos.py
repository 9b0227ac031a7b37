"""Lanczos with full reorthogonalisation: a symmetric operator's extreme eigenvalues from a few products.

After ``m`` steps from a start vector ``q₀`` the orthonormal basis ``Q`` of the
Krylov space ``span(q₀, Hq₀, …, H^{m-1}q₀)`` satisfies
``H Q = Q T + β q_m e_mᵀ`` with ``T`` tridiagonal. An eigenpair ``(θ, s)`` of
``T`` gives a Ritz pair ``(θ, y = Q s)`` whose residual is
``‖H y − θ y‖ = |β s_m|``; for a symmetric ``H`` some eigenvalue lies within
that residual of ``θ`` — the error bound we report, plus a rounding allowance.
Every new vector is orthogonalised against the whole basis (twice when the
first pass loses most of its norm), so the relation holds to rounding and no
spurious copies of converged eigenvalues appear. The extreme eigenvalues
converge first, in a few dozen products when they stand apart from the rest.

>>> import numpy
>>> from zygote_nb.curvature.hvp import DenseOperator
>>> krylov = lanczos(DenseOperator(numpy.diag([1.0, 2.0, 5.0])), numpy.ones(3), max_steps=10)
>>> values, bounds, _ = krylov.ritz()
>>> numpy.round(values, 12).tolist(), krylov.stopped
([1.0, 2.0, 5.0], 'exhausted')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy
from scipy.linalg import eigh_tridiagonal

from .hvp import HvpBar

# A second orthogonalisation pass runs when the first keeps less than this fraction of the norm.
REORTHOGONALISE_AGAIN = 0.7
# Allowance for rounding in the Lanczos relation, per step, in units of eps·‖T‖.
ROUNDING_PER_STEP = 10.0


@dataclass
class Krylov:
    """What a Lanczos run leaves: the tridiagonal ``T`` (``alphas``, ``betas``), the basis, and why it stopped.

    ``betas[i]`` couples steps ``i`` and ``i + 1``; the last one is the
    residual coupling ``β`` of the relation. ``stopped`` is ``"converged"``,
    ``"budget"`` (``max_steps`` products), ``"memory"`` (the basis would
    outgrow the memory budget), ``"exhausted"`` (the basis spans the whole
    space: the values are exact) or ``"interrupted"`` (Ctrl-C).
    """

    alphas: numpy.ndarray
    betas: numpy.ndarray
    basis: numpy.ndarray
    stopped: str

    @property
    def steps(self) -> int:
        return self.alphas.size

    def ritz(self) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
        """Ritz values (ascending), their error bounds, and the eigenvectors of ``T`` (columns)."""
        return ritz_pairs(self.alphas, self.betas)

    def vectors(self, columns: numpy.ndarray) -> numpy.ndarray:
        """The Ritz vectors ``Q s`` for the given eigenvectors of ``T`` (one per column), as rows."""
        return (self.basis[:self.steps].T @ columns).T


def ritz_pairs(alphas: numpy.ndarray, betas: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of ``T``, and each Ritz value's error bound ``|β s_m|`` + rounding."""
    values, vectors = eigh_tridiagonal(alphas, betas[:alphas.size - 1])
    scale = max(float(numpy.abs(values).max(initial=0.0)), float(numpy.abs(betas).max(initial=0.0)))
    rounding = ROUNDING_PER_STEP * alphas.size * numpy.finfo(float).eps * scale
    residual_coupling = betas[alphas.size - 1] if betas.size >= alphas.size else 0.0
    bounds = numpy.abs(residual_coupling * vectors[-1, :]) + rounding
    return values, bounds, vectors


def lanczos(operator, start: numpy.ndarray, max_steps: int, converged: Callable | None = None,
            bar: HvpBar | None = None, memory_budget: int | None = None, seed: int | None = None) -> Krylov:
    """Run up to ``max_steps`` Lanczos steps of ``operator.matvec`` from ``start``.

    ``converged(values, bounds)`` is asked after every step and stops the run
    when true. A breakdown (the Krylov space became invariant) restarts from a
    random vector orthogonal to the basis, so repeated eigenvalues are found
    with their multiplicity. Ctrl-C stops the run between products; what was
    computed stays valid.
    """
    size = operator.size
    max_steps = min(max_steps, size)
    stopped = "budget"
    if memory_budget is not None and (max_steps + 1) * size * 8 > memory_budget:
        max_steps = max(1, memory_budget // (8 * size) - 1)
        stopped = "memory"
    random = numpy.random.default_rng(seed)
    basis = numpy.empty((min(max_steps + 1, 32), size))
    basis[0] = start / numpy.linalg.norm(start)
    alphas, betas = [], []
    for step in range(max_steps):
        try:
            product = operator.matvec(basis[step])
        except KeyboardInterrupt:
            stopped = "interrupted"
            break
        if bar is not None:
            bar.advance()
        if step + 2 > basis.shape[0]:
            basis = numpy.concatenate([basis, numpy.empty((min(basis.shape[0], max_steps + 1 - basis.shape[0]), size))])
        alpha, residual = _orthogonalise(product, basis[:step + 1])
        alphas.append(alpha)
        beta = float(numpy.linalg.norm(residual))
        if step + 1 == size:
            betas.append(0.0)
            stopped = "exhausted"
            break
        scale = max(max(map(abs, alphas)), max(betas, default=0.0), numpy.finfo(float).tiny)
        if beta <= numpy.finfo(float).eps * size * scale:
            # An invariant subspace: its values are exact; continue in the rest of the space.
            _, residual = _orthogonalise(random.standard_normal(size), basis[:step + 1])
            beta_next = 0.0
        else:
            beta_next = beta
        betas.append(beta_next)
        basis[step + 1] = residual / numpy.linalg.norm(residual)
        if converged is not None:
            values, bounds, _ = ritz_pairs(numpy.array(alphas), numpy.array(betas))
            if converged(values, bounds):
                stopped = "converged"
                break
    return Krylov(numpy.array(alphas), numpy.array(betas), basis, stopped)


def _orthogonalise(vector: numpy.ndarray, basis: numpy.ndarray) -> tuple[float, numpy.ndarray]:
    """``vector`` minus its components along the (orthonormal) rows of ``basis``, and its component on the last."""
    coefficients = basis @ vector
    residual = vector - basis.T @ coefficients
    if numpy.linalg.norm(residual) < REORTHOGONALISE_AGAIN * numpy.linalg.norm(vector):
        again = basis @ residual
        residual -= basis.T @ again
        coefficients += again
    return float(coefficients[-1]), residual
