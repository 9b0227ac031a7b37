"""What a Hessian says about a point: its eigenvalues, and minimum, maximum, saddle, flat or degenerate.

At a critical point (zero gradient) the second-derivative test decides: all
eigenvalues positive is a strict local minimum, all negative a maximum, both
signs a saddle; a zero eigenvalue leaves the test inconclusive (degenerate).
Away from a critical point the eigenvalues still describe the local curvature,
and the verdict says so. Where the function's value is NaN or infinite there
is no verdict at all.

Small matrices get every eigenvalue (``eigvalsh``). Beyond
:data:`FULL_SPECTRUM_LIMIT` rows a full decomposition would cost many times the
Hessian itself, so only the extreme eigenvalues are found (Lanczos, each with
an error bound) and the verdict is read from them with their bounds in mind:
a saddle needs an eigenvalue certainly below zero and one certainly above.

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

from ..curvature.dense import dense_extremes
from ..curvature.spectrum import Spectrum

# Eigenvalues within this fraction of the largest magnitude count as zero.
ZERO_EIGENVALUE = 1e-8
# A gradient this small (relative to 1 + |value|) makes the point critical.
CRITICAL_GRADIENT = 1e-6
# Up to this many rows every eigenvalue is computed and shown; beyond, the extremes only.
FULL_SPECTRUM_LIMIT = 400
# Relative accuracy of a partial summary's eigenvalues (each is shown with its bound).
PARTIAL_TOLERANCE = 1e-4
# How many eigenvalues at each end a partial summary finds by default.
EXTREMES = 6


@dataclass(frozen=True)
class Curvature:
    """Eigenvalues, their sign counts, the kind of point and a sentence about it.

    ``eigenvalues`` are all of them (ascending) when ``complete``, else the
    extremes found (ascending), each within ``errors[i]`` of a true eigenvalue;
    the sign counts are then ``None``. ``kind`` is ``"minimum"``,
    ``"maximum"``, ``"saddle"``, ``"flat"``, ``"degenerate"``, or
    ``"undefined"`` (NaN or Inf in the value or the Hessian); it names the
    point only where ``critical`` is true, as the verdict says.
    """

    eigenvalues: numpy.ndarray
    positive: int | None
    negative: int | None
    zero: int | None
    tolerance: float
    kind: str
    critical: bool
    verdict: str
    errors: numpy.ndarray | None = None
    method: str = "all eigenvalues (eigvalsh)"
    per_end: int = 0  # how many of the eigenvalues are from each end, where they are not all

    @property
    def complete(self) -> bool:
        return self.positive is not None

    def lines(self) -> list[str]:
        """The summary a terminal shows (and the HTML repeats)."""
        from .results import format_value  # results shows a Curvature, so it imports this module first

        if self.kind == "undefined" and not numpy.isfinite(self.eigenvalues).any():
            return [f"  {self.verdict}"]
        if self.complete:
            return [f"  eigenvalues (ascending): {format_value(self.eigenvalues)}",
                    f"  {self.positive} positive, {self.negative} negative, {self.zero} near zero "
                    f"(|λ| ≤ {self.tolerance:.2g})",
                    f"  {self.verdict}"]
        largest = ", ".join(f"{value:.6g} ± {error:.2g}" for value, error in
                            zip(self.eigenvalues[::-1][:self.per_end], self.errors[::-1][:self.per_end]))
        smallest = ", ".join(f"{value:.6g} ± {error:.2g}" for value, error in
                             zip(self.eigenvalues[:self.per_end], self.errors[:self.per_end]))
        return [f"  eigenvalues by {self.method}",
                f"  largest: {largest}", f"  smallest: {smallest}", f"  {self.verdict}"]


_DEFINITENESS = {
    "minimum": "positive definite", "maximum": "negative definite", "saddle": "indefinite",
    "degenerate": "singular (it has a zero eigenvalue)", "flat": "zero to within the error bounds",
}
_KINDS = {
    "minimum": "a local minimum: every eigenvalue is positive",
    "maximum": "a local maximum: every eigenvalue is negative",
    "saddle": "a saddle point: eigenvalues of both signs",
    "degenerate": "degenerate: a zero eigenvalue makes the second-derivative test inconclusive",
    "flat": "flat: every eigenvalue found is zero within its error bound, so the test says nothing",
}


def classify(hessian: numpy.ndarray, gradient_norm: float, value: float = 0.0, k: int = EXTREMES) -> Curvature:
    """Classify the point from its Hessian (symmetrised), the norm of its gradient and the value.

    Up to :data:`FULL_SPECTRUM_LIMIT` rows from every eigenvalue; beyond, from
    the ``k`` largest and smallest with their error bounds.

    >>> classify(numpy.eye(2), gradient_norm=3.0).verdict
    'not a critical point (gradient norm 3), so neither a minimum nor a maximum; the Hessian here is positive definite'
    >>> classify(numpy.zeros((2, 2)), gradient_norm=0.0).kind
    'degenerate'
    >>> classify(numpy.eye(2), gradient_norm=0.0, value=float("nan")).verdict
    'no verdict: the function is not finite here (value nan), so its derivatives describe nothing'
    """
    hessian = numpy.atleast_2d(numpy.asarray(hessian, dtype=float))
    critical = bool(gradient_norm <= CRITICAL_GRADIENT * (1 + abs(value)))
    undefined = _undefined(hessian, value, critical)
    if undefined is not None:
        return undefined
    if hessian.shape[0] > FULL_SPECTRUM_LIMIT:
        return from_extremes(dense_extremes(hessian, k, tol=PARTIAL_TOLERANCE), gradient_norm, value)
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
    return Curvature(eigenvalues, positive, negative, zero, tolerance, kind, critical,
                     _verdict(kind, critical, gradient_norm))


def from_extremes(spectrum: Spectrum, gradient_norm: float, value: float) -> Curvature:
    """The verdict from the extreme eigenvalues and their error bounds (what ``%%hessian`` does at any size).

    An eigenvalue ``θ ± e`` is certainly positive when ``θ − e`` is above the
    zero tolerance; the smallest eigenvalue found decides a minimum, the
    largest a maximum, one of each certainly of opposite signs a saddle.

    >>> from zygote_nb.curvature import Ends, Spectrum
    >>> found = Spectrum(numpy.array([3.0]), numpy.array([-0.001]), Ends(numpy.array([1e-9]), numpy.array([0.01])),
    ...                  None, 40, "budget")
    >>> from_extremes(found, gradient_norm=0.0, value=1.0).kind
    'degenerate'
    """
    eigenvalues = numpy.concatenate([spectrum.smallest, spectrum.largest[::-1]])
    errors = numpy.concatenate([spectrum.errors.smallest, spectrum.errors.largest[::-1]])
    order = numpy.argsort(eigenvalues, kind="stable")
    eigenvalues, errors = eigenvalues[order], errors[order]
    critical = bool(gradient_norm <= CRITICAL_GRADIENT * (1 + abs(value)))
    method = (f"Lanczos: the {spectrum.largest.size} largest and {spectrum.smallest.size} smallest, "
              f"± an error bound that holds ({spectrum.hvps} products, {spectrum.stopped})")
    undefined = _undefined(eigenvalues, value, critical)
    if undefined is not None:
        return undefined
    tolerance = ZERO_EIGENVALUE * float(numpy.abs(eigenvalues).max(initial=0.0))
    smallest, largest = eigenvalues[0], eigenvalues[-1]
    smallest_error, largest_error = errors[0], errors[-1]
    certainly_negative = smallest + smallest_error < -tolerance
    certainly_positive = largest - largest_error > tolerance
    if certainly_negative and certainly_positive:
        kind = "saddle"
    elif smallest - smallest_error > tolerance:
        kind = "minimum"
    elif largest + largest_error < -tolerance:
        kind = "maximum"
    elif not certainly_negative and not certainly_positive:
        kind = "flat"
    else:
        kind = "degenerate"
    return Curvature(eigenvalues, None, None, None, tolerance, kind, critical,
                     _verdict(kind, critical, gradient_norm), errors, method, spectrum.largest.size)


def _undefined(values: numpy.ndarray, value: float, critical: bool) -> Curvature | None:
    """The no-verdict result where the value or the eigenvalues/Hessian are NaN or infinite, else ``None``."""
    if not numpy.isfinite(value):
        verdict = (f"no verdict: the function is not finite here (value {value}), "
                   "so its derivatives describe nothing")
    elif not numpy.isfinite(values).all():
        verdict = "undefined: the Hessian has NaN or infinite entries"
    else:
        return None
    size = values.shape[0]
    return Curvature(numpy.full(size, numpy.nan), 0, 0, 0, numpy.nan, "undefined", critical, verdict)


def _verdict(kind: str, critical: bool, gradient_norm: float) -> str:
    if critical:
        return _KINDS[kind]
    return (f"not a critical point (gradient norm {gradient_norm:.4g}), so neither a minimum nor a "
            f"maximum; the Hessian here is {_DEFINITENESS[kind]}")


def caption_verdict(figure, curvature: Curvature):
    """``figure`` (a Hessian's picture) with the verdict written under it, so the picture says what it shows."""
    figure.text(0.5, -0.02, curvature.verdict, ha="center", va="top", fontsize=9, wrap=True)
    return figure
