"""A value or a gradient in a few numbers: what the flow view shows of every array.

>>> import numpy
>>> summary = summarize(numpy.array([1.0, -2.0, numpy.nan, numpy.inf]))
>>> summary.minimum, summary.maximum, summary.nan_count, summary.inf_count
(-2.0, 1.0, 1, 1)
>>> summary.describe()
'shape (4,) float64, min -2, max 1, mean -0.5, norm 2.236, 1 NaN, 1 Inf'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy

from ..array_library import to_host


@dataclass(frozen=True)
class Summary:
    """Shape, dtype and statistics of one array.

    ``minimum``, ``maximum``, ``mean`` and ``norm`` are taken over the finite
    entries (over magnitudes for complex arrays) and are ``None`` when there
    are none; ``nan_count`` and ``inf_count`` count the others.
    """

    shape: tuple
    dtype: str
    minimum: float | None
    maximum: float | None
    mean: float | None
    norm: float | None
    nan_count: int = 0
    inf_count: int = 0

    @property
    def finite(self) -> bool:
        return self.nan_count == 0 and self.inf_count == 0

    def describe(self) -> str:
        """One line: ``shape (3,) float64, min 0, max 2, mean 1, norm 2.236``."""
        parts = [f"shape {self.shape} {self.dtype}"]
        for label, number in (("min", self.minimum), ("max", self.maximum),
                              ("mean", self.mean), ("norm", self.norm)):
            if number is not None:
                parts.append(f"{label} {number + 0.0:.4g}")  # + 0.0 turns -0.0 into 0: no "max -0"
        if self.nan_count:
            parts.append(f"{self.nan_count} NaN")
        if self.inf_count:
            parts.append(f"{self.inf_count} Inf")
        return ", ".join(parts)


def as_host_array(value: Any) -> numpy.ndarray | None:
    """``value`` as a NumPy array (copied from the GPU if needed); ``None`` if it is not numeric."""
    raw = value if type(value) is numpy.ndarray else to_host(value)
    try:
        array = numpy.asarray(raw)
    except (TypeError, ValueError):
        return None
    return array if array.dtype.kind in "biufc" else None


def summarize(value: Any) -> Summary | None:
    """The :class:`Summary` of a number or array; ``None`` for ``None`` and non-numeric values."""
    if value is None:
        return None
    array = as_host_array(value)
    if array is None:
        return None
    dtype = _dtype_names.get(array.dtype) or _dtype_names.setdefault(array.dtype, str(array.dtype))
    if array.dtype.kind == "c":
        numbers = numpy.abs(array)
    elif array.dtype.kind == "f":
        numbers = array
    else:
        numbers = array.astype(numpy.float64)
    nan_count = inf_count = 0
    if not numpy.isfinite(numbers.sum()):  # one reduction settles the common, all-finite case
        finite = numpy.isfinite(numbers)
        nan_count = int(numpy.isnan(numbers).sum())
        inf_count = int(numbers.size - finite.sum()) - nan_count
        numbers = numbers[finite]
    if numbers.size == 0:
        return Summary(array.shape, dtype, None, None, None, None, nan_count, inf_count)
    total = float(numbers.sum())
    return Summary(array.shape, dtype, float(numbers.min()), float(numbers.max()), total / numbers.size,
                   float(numpy.sqrt(numpy.vdot(numbers, numbers))), nan_count, inf_count)


_dtype_names: dict = {}


def is_finite(value: Any) -> bool:
    """Whether every entry of a number or array is finite (non-numeric values count as finite)."""
    if type(value) is float:
        return math.isfinite(value)
    array = as_host_array(value)
    if array is None or array.dtype.kind not in "fc":
        return True
    # A finite sum settles it in one reduction; NaN and Inf always make the sum non-finite.
    return bool(numpy.isfinite(array.sum())) or bool(numpy.isfinite(array).all())
