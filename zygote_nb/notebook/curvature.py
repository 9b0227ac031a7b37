"""What a Hessian says about a point: its eigenvalues, and minimum, maximum, saddle or degenerate.

At a critical point (zero gradient) the second-derivative test decides: all
eigenvalues positive is a strict local minimum, all negative a maximum, both
signs a saddle; a zero eigenvalue leaves the test inconclusive (degenerate).
Away from a critical point the eigenvalues still describe the local curvature,
and the verdict says so.

>>> import numpy
>>> curvature = classify(numpy.array([[2.0, 0.0], [0.0, -1.0]]), gradient_norm=0.0)
>>> curvature.kind, curvature.positive, curvature.negative, curvature.zero
('saddle', 1, 1, 0)
>>> curvature.verdict
'a saddle point: eigenvalues of both signs'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy

# Eigenvalues within this fraction of the largest magnitude count as zero.
ZERO_EIGENVALUE = 1e-8
# A gradient this small (relative to 1 + |value|) makes the point critical.
CRITICAL_GRADIENT = 1e-6


@dataclass(frozen=True)
class Curvature:
    """Sorted eigenvalues, their sign counts, the kind of point and a sentence about it.

    ``kind`` is ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"``
    by the signs of the eigenvalues (``"undefined"`` for a Hessian with NaN or
    Inf); it names the point only where ``critical`` is true, as the verdict says.
    """

    eigenvalues: numpy.ndarray
    positive: int
    negative: int
    zero: int
    tolerance: float
    kind: str
    critical: bool
    verdict: str


_DEFINITENESS = {
    "minimum": "positive definite", "maximum": "negative definite", "saddle": "indefinite",
    "degenerate": "singular (it has a zero eigenvalue)",
}
_KINDS = {
    "minimum": "a local minimum: every eigenvalue is positive",
    "maximum": "a local maximum: every eigenvalue is negative",
    "saddle": "a saddle point: eigenvalues of both signs",
    "degenerate": "degenerate: a zero eigenvalue makes the second-derivative test inconclusive",
}


def classify(hessian: numpy.ndarray, gradient_norm: float, value: float = 0.0) -> Curvature:
    """Classify the point from its Hessian (symmetrised) and the norm of its gradient.

    >>> classify(numpy.eye(2), gradient_norm=3.0).verdict
    'not a critical point (gradient norm 3), so neither a minimum nor a maximum; the Hessian here is positive definite'
    >>> classify(numpy.zeros((2, 2)), gradient_norm=0.0).kind
    'degenerate'
    """
    hessian = numpy.atleast_2d(numpy.asarray(hessian, dtype=float))
    critical = bool(gradient_norm <= CRITICAL_GRADIENT * (1 + abs(value)))
    if not numpy.isfinite(hessian).all():
        return Curvature(numpy.full(hessian.shape[0], numpy.nan), 0, 0, 0, numpy.nan, "undefined", critical,
                         "undefined: the Hessian has NaN or infinite entries")
    eigenvalues = numpy.linalg.eigvalsh((hessian + hessian.T) / 2)
    tolerance = ZERO_EIGENVALUE * float(numpy.abs(eigenvalues).max(initial=0.0))
    positive = int((eigenvalues > tolerance).sum())
    negative = int((eigenvalues < -tolerance).sum())
    zero = eigenvalues.size - positive - negative
    if zero:
        kind = "degenerate"
    elif positive and negative:
        kind = "saddle"
    else:
        kind = "minimum" if positive else "maximum"
    verdict = _KINDS[kind]
    if not critical:
        verdict = (f"not a critical point (gradient norm {gradient_norm:.4g}), so neither a minimum nor a "
                   f"maximum; the Hessian here is {_DEFINITENESS[kind]}")
    return Curvature(eigenvalues, positive, negative, zero, tolerance, kind, critical, verdict)
