"""The extreme eigenvalues of a Hessian already in memory, at a fraction of a full decomposition's cost.

A product with a dense ``n×n`` matrix costs reading it from memory, so Lanczos
runs on a single-precision copy (half the bytes, twice and more the speed);
the Ritz vectors it finds are then checked against the double-precision matrix
in one pass (a matrix-matrix product): the Rayleigh quotients are the
eigenvalues reported, and the explicit residuals ``‖H y − θ y‖ / ‖y‖`` are
their error bounds, so the bounds hold for the matrix itself whatever
precision found the vectors.

>>> import numpy
>>> found = dense_extremes(numpy.diag(numpy.arange(1.0, 201.0)), k=2, tol=1e-6)
>>> found.largest.round(8).tolist(), found.smallest.round(8).tolist(), bool(found.errors.largest.max() < 1e-4)
([200.0, 199.0], [1.0, 2.0], True)
"""

from __future__ import annotations

import numpy

from .hvp import DenseOperator
from .lanczos import ROUNDING_PER_STEP
from .spectrum import Ends, Spectrum, extreme_eigenvalues


def dense_extremes(matrix: numpy.ndarray, k: int, tol: float, max_products: int = 300,
                   seed: int = 0) -> Spectrum:
    """The ``k`` largest and smallest eigenvalues of the symmetric part of ``matrix``, with bounds that hold for it.

    (A Hessian computed in floating point is symmetric up to rounding; the
    search ignores that rounding, the bounds do not.) An end whose extreme
    value is zero to ``tol`` stops there (see ``settle_at_zero`` in
    :func:`~zygote_nb.curvature.spectrum.extreme_eigenvalues`): a verdict
    needs only that value, and a large zero cluster would otherwise take
    most of the products.
    """
    search = extreme_eigenvalues(DenseOperator(matrix.astype(numpy.float32)), k, "both", tol=tol,
                                 max_hvps=max_products, seed=seed, vectors=True, settle_at_zero=True)
    ends = []
    for vectors in search.vectors:
        block = numpy.array(vectors, dtype=float).reshape(len(vectors), -1).T
        images = (matrix @ block + matrix.T @ block) / 2  # the symmetric part, without forming it
        lengths = numpy.sum(block * block, axis=0)
        values = numpy.sum(block * images, axis=0) / lengths
        residuals = numpy.linalg.norm(images - block * values, axis=0) / numpy.sqrt(lengths)
        rounding = ROUNDING_PER_STEP * matrix.shape[0] * numpy.finfo(float).eps * numpy.abs(values).max(initial=0.0)
        ends.append((values, residuals + rounding))
    (largest, largest_errors), (smallest, smallest_errors) = ends
    return Spectrum(largest, smallest, Ends(largest_errors, smallest_errors), None,
                    search.hvps + 1, search.stopped)
