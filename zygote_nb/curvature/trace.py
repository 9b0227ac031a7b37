"""The trace of a Hessian from Hessian-vector products: Hutch++ with an honest standard error.

Hutchinson's estimator averages ``gᵀHg`` over random sign vectors ``g``; its
variance is dominated by the largest eigenvalues. Hutch++ (Meyer, Musco, Musco
and Woodruff, 2021) takes those out exactly: a third of the products sketch the
top of the spectrum (``Q = orth(H S)``), a third give ``tr(QᵀHQ)`` exactly, and
the last third run Hutchinson on what is left, ``(I − QQᵀ) H (I − QQᵀ)``. Only
that last part is random, so the standard error is the sample standard
deviation of its terms over the square root of their number.

>>> import zygote_nb.numpy as np
>>> weights = np.arange(1.0, 101.0)
>>> trace = hessian_trace(lambda x: 0.5 * np.sum(weights * x ** 2), np.zeros(100), hvps=30, seed=0)
>>> abs(trace.estimate - 5050) < 3 * trace.stderr, trace.hvps
(True, 30)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy

from ..progress import Progress
from .hvp import HessianOperator, HvpBar

DEFAULT_HVPS = 90


@dataclass(frozen=True)
class TraceEstimate:
    """``estimate`` of ``tr(H)``, its standard error ``stderr`` (0 when exact), and the ``hvps`` it took."""

    estimate: float
    stderr: float
    hvps: int


def hessian_trace(f: Callable, x: Any, hvps: int = DEFAULT_HVPS, seed: int | None = None,
                  progress: Progress = False) -> TraceEstimate:
    """The trace of the Hessian of ``f`` at ``x`` by Hutch++, from ``hvps`` Hessian-vector products.

    Exact (``stderr`` 0) once ``hvps`` reaches about twice the number of
    parameters; otherwise ``estimate ± 3·stderr`` holds the trace in all but
    a few runs in a thousand. ``hvps`` must be at least 6.

    >>> import zygote_nb.numpy as np
    >>> f = lambda w: np.sum(w[0] ** 2 * w[1:] ** 2)  # at w = 1 the trace is 2·200 + 200·2 = 800
    >>> trace = hessian_trace(f, np.ones(201), hvps=60, seed=0)
    >>> abs(trace.estimate - 800) < 3 * trace.stderr + 1e-9
    True
    """
    if not isinstance(hvps, (int, numpy.integer)) or hvps < 6:
        raise ValueError(f"hvps must be a whole number of at least 6 (a third each for sketch, exact part and "
                         f"samples, two samples at least), got {hvps!r}")
    return trace_of(HessianOperator("hessian_trace", f, x), hvps, seed, progress)


def trace_of(operator, hvps: int, seed: int | None = None, progress: Progress = False) -> TraceEstimate:
    """Hutch++ on any operator with ``size`` and ``matvec``."""
    random = numpy.random.default_rng(seed)
    size = operator.size
    sketch_size = min(hvps // 3, size)
    bar = HvpBar(progress, hvps, "Hutch++")

    def products(columns: numpy.ndarray) -> numpy.ndarray:
        result = numpy.empty_like(columns)
        for index in range(columns.shape[1]):
            result[:, index] = operator.matvec(columns[:, index])
            bar.advance()
        return result

    start_count = operator.hvps
    try:
        signs = random.choice([-1.0, 1.0], size=(size, sketch_size))
        basis, _ = numpy.linalg.qr(products(signs))
        exact_part = float(numpy.sum(basis * products(basis)))
        samples = random.choice([-1.0, 1.0], size=(size, hvps - 2 * sketch_size))
        if basis.shape[1] == size:  # the sketch spans the whole space: the trace is exact
            return TraceEstimate(exact_part, 0.0, operator.hvps - start_count)
        samples -= basis @ (basis.T @ samples)
        terms = numpy.sum(samples * products(samples), axis=0)
    finally:
        bar.close()
    return TraceEstimate(exact_part + float(terms.mean()), float(terms.std(ddof=1) / numpy.sqrt(terms.size)),
                         operator.hvps - start_count)
