"""The extreme eigenvalues of a Hessian, each with an error bound that holds, from Hessian-vector products.

>>> import zygote_nb.numpy as np
>>> spectrum = hessian_spectrum(lambda x: np.sum(np.arange(1.0, 11.0) * x ** 2), np.zeros(10), k=2, seed=0)
>>> numpy.round(spectrum.largest, 6).tolist(), numpy.round(spectrum.smallest, 6).tolist()
([20.0, 18.0], [2.0, 4.0])
>>> bool(spectrum.errors.largest.max() < 1e-8), spectrum.hvps <= 10
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy

from ..engine.memory import budget_or_default
from ..progress import Progress
from .hvp import HessianOperator, HvpBar
from .lanczos import Krylov, lanczos

WHICH = ("both", "largest", "smallest")
DEFAULT_TOLERANCE = 1e-6
DEFAULT_MAX_HVPS = 300


class Ends(NamedTuple):
    """Something for each end of the spectrum: ``largest`` (descending order) and ``smallest`` (ascending)."""

    largest: Any
    smallest: Any


@dataclass(frozen=True)
class Spectrum:
    """The extreme eigenvalues of ``H`` and what they cost.

    ``largest`` (descending) and ``smallest`` (ascending) are arrays (empty
    for the end not asked for). ``errors.largest[i]`` bounds
    ``|largest[i] − λ|`` for some eigenvalue ``λ`` of ``H`` (the Ritz residual
    norm), likewise ``errors.smallest``; ``vectors`` holds the unit
    eigenvectors shaped like ``x`` (lists, one per value) when asked for.
    ``hvps`` counts the Hessian-vector products; ``stopped`` says why the
    iteration ended (``"converged"``, ``"budget"``, ``"memory"``,
    ``"exhausted"`` — the whole space was spanned, ``"interrupted"``).
    """

    largest: numpy.ndarray
    smallest: numpy.ndarray
    errors: Ends
    vectors: Ends | None
    hvps: int
    stopped: str

    @property
    def converged(self) -> bool:
        return self.stopped in ("converged", "exhausted")


def hessian_spectrum(f: Callable, x: Any, k: int = 6, which: str = "both", tol: float = DEFAULT_TOLERANCE,
                     max_hvps: int = DEFAULT_MAX_HVPS, seed: int | None = None, vectors: bool = False,
                     progress: Progress = False, memory_budget: int | None = None) -> Spectrum:
    """The ``k`` largest and/or smallest eigenvalues of the Hessian of ``f`` at ``x``, by Lanczos.

    ``which`` is ``"both"``, ``"largest"`` or ``"smallest"``. The iteration
    stops when every wanted value's error bound is at most ``tol`` times the
    largest absolute eigenvalue seen, or after ``max_hvps`` Hessian-vector products
    (see :func:`~zygote_nb.hvp`), whichever comes first; the bounds hold either
    way. ``vectors=True`` also returns the eigenvectors shaped like ``x``.
    ``seed`` fixes the random start. The basis (one vector per product) must
    fit in ``memory_budget`` bytes (default: half the available memory).

    >>> import zygote_nb.numpy as np
    >>> spectrum = hessian_spectrum(lambda w: w[0] ** 2 - 3 * w[1] ** 2, np.zeros(2), k=1, vectors=True, seed=1)
    >>> spectrum.largest, spectrum.smallest
    (array([2.]), array([-6.]))
    >>> numpy.abs(spectrum.vectors.smallest[0]).round(6)
    array([0., 1.])
    """
    _require_options(k, which, tol, max_hvps)
    operator = HessianOperator("hessian_spectrum", f, x)
    result = extreme_eigenvalues(operator, k, which, tol, max_hvps, seed, vectors, progress, memory_budget)
    if vectors:
        rebuild = operator.point.rebuild
        result = Spectrum(result.largest, result.smallest, result.errors,
                          Ends(*([rebuild(vector) for vector in end] for end in result.vectors)),
                          result.hvps, result.stopped)
    return result


def extreme_eigenvalues(operator, k: int, which: str = "both", tol: float = DEFAULT_TOLERANCE,
                        max_hvps: int = DEFAULT_MAX_HVPS, seed: int | None = None, vectors: bool = False,
                        progress: Progress = False, memory_budget: int | None = None,
                        settle_at_zero: bool = False) -> Spectrum:
    """:func:`hessian_spectrum` on any operator with ``size`` and ``matvec`` (vectors come back flat).

    ``settle_at_zero=True`` also stops an end once its extreme value is zero
    to within ``tol`` times the scale, bound included: the end of a cluster of
    zero eigenvalues (softmax's null directions, say), whose multiplicity
    Lanczos resolves only one copy at a time. The other values at that end
    then come back with the wider bounds they have reached, which still hold.
    """
    wanted = min(k, operator.size)
    random = numpy.random.default_rng(seed)
    bar = HvpBar(progress, min(max_hvps, operator.size), "Lanczos")

    def converged(values: numpy.ndarray, bounds: numpy.ndarray) -> bool:
        if values.size < wanted:  # a breakdown can leave fewer values than asked for: keep going
            return False
        scale = max(float(numpy.abs(values).max()), numpy.finfo(float).tiny)
        ends = ("largest", "smallest") if which == "both" else (which,)
        return all(_settled(values, bounds, _wanted_indices(values.size, wanted, end), tol * scale, settle_at_zero)
                   for end in ends)

    start_count = operator.hvps
    try:
        krylov = lanczos(operator, random.standard_normal(operator.size), max_hvps, converged, bar,
                         budget_or_default(memory_budget), seed=random.integers(2 ** 32))
    finally:
        bar.close()
    return _spectrum(krylov, wanted, which, vectors, operator.hvps - start_count)


def _settled(values: numpy.ndarray, bounds: numpy.ndarray, indices: numpy.ndarray, tolerance: float,
             settle_at_zero: bool) -> bool:
    """Whether an end (its wanted ``indices``, extreme first) is known well enough to stop."""
    if numpy.all(bounds[indices] <= tolerance):
        return True
    extreme = indices[0]
    return settle_at_zero and abs(values[extreme]) + bounds[extreme] <= tolerance


def _wanted_indices(count: int, wanted: int, which: str) -> numpy.ndarray:
    """Indices into ascending Ritz values of the wanted ones (the ends overlap when the space is small)."""
    top = numpy.arange(count - 1, max(count - wanted, 0) - 1, -1) if which != "smallest" else numpy.array([], int)
    bottom = numpy.arange(min(wanted, count)) if which != "largest" else numpy.array([], int)
    return numpy.concatenate([top, bottom]).astype(int)


def _spectrum(krylov: Krylov, wanted: int, which: str, vectors: bool, hvps: int) -> Spectrum:
    values, bounds, ritz_vectors = krylov.ritz()
    count = values.size
    ends = Ends(_wanted_indices(count, wanted, "largest") if which != "smallest" else numpy.array([], int),
                _wanted_indices(count, wanted, "smallest") if which != "largest" else numpy.array([], int))
    found = None
    if vectors:
        found = Ends(*(list(krylov.vectors(ritz_vectors[:, end])) for end in ends))
    return Spectrum(values[ends.largest], values[ends.smallest], Ends(bounds[ends.largest], bounds[ends.smallest]),
                    found, hvps, krylov.stopped)


def _require_options(k: Any, which: Any, tol: Any, max_hvps: Any) -> None:
    if not isinstance(k, (int, numpy.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive whole number of eigenvalues, got {k!r}: e.g. k=6")
    if which not in WHICH:
        raise ValueError(f"which must be one of {', '.join(map(repr, WHICH))}, got {which!r}")
    if not tol > 0:
        raise ValueError(f"tol must be a positive relative tolerance, got {tol!r}: e.g. tol=1e-6")
    if not isinstance(max_hvps, (int, numpy.integer)) or max_hvps < 1:
        raise ValueError(f"max_hvps must be a positive whole number, got {max_hvps!r}: e.g. max_hvps=300")
