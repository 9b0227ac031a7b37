"""What a debugger reads from per-sample gradients: outliers, agreement, and noise per parameter.

From ``B`` per-example gradients ``g_b`` (each parameter an array with a leading
batch axis) and their mean ``ḡ``:

- ``norms[b] = ‖g_b‖`` over all parameters together: a mislabelled or
  unusual example pulls much harder than the rest;
- ``cosines[b] = ⟨g_b, ḡ⟩ / (‖g_b‖ ‖ḡ‖)``: an example pulling against the
  batch has a negative cosine;
- per parameter, ``variance`` (over the examples, entry by entry) and the
  signal-to-noise ratio ``snr = ‖ḡ‖² / Σ variance``: the squared mean per unit
  of spread, as Cockpit and BackPACK report it per layer.  Far below one, the
  parameter's mini-batch gradient is mostly noise.

>>> import numpy
>>> stats = per_sample_statistics({"w": numpy.array([[1.0, 0.0], [1.0, 0.0], [-8.0, 6.0]])})
>>> stats.norms
array([ 1.,  1., 10.])
>>> stats.top(1)
[(2, 10.0)]
>>> numpy.round(stats.cosines, 3)
array([-0.707, -0.707,  0.99 ])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy

from .. import structure


@dataclass
class PerSampleStatistics:
    """Statistics of per-example gradients; ``losses`` (each example's loss) when they were given."""

    names: list
    norms: numpy.ndarray
    cosines: numpy.ndarray
    parameter_norms: dict
    mean: dict
    variance: dict
    snr: dict
    losses: numpy.ndarray | None = field(default=None)

    def top(self, k: int = 5) -> list:
        """The ``k`` examples with the largest gradient norms, largest first, as ``(index, norm)`` pairs."""
        order = numpy.argsort(-self.norms, kind="stable")[:k]
        return [(int(index), float(self.norms[index])) for index in order]


def per_sample_statistics(per_sample, names=None, losses=None) -> PerSampleStatistics:
    """Norms, cosines with the mean, top examples and per-parameter noise from per-example gradients.

    ``per_sample`` is what :func:`~zygote_nb.per_sample_gradients` returns (an
    array, a structure of arrays, a dict, or a ``Grads``), each array with the
    examples along axis 0; a ``None`` gradient is left out.  ``names`` label the
    parameters (default: the dict keys, else ``p0``, ``p1``, …).

    >>> import numpy
    >>> stats = per_sample_statistics(numpy.array([[1.0], [3.0]]))
    >>> stats.mean["p0"], stats.variance["p0"], stats.snr["p0"]
    (array([2.]), array([1.]), 4.0)
    """
    named = _named_arrays(per_sample, names)
    if not named:
        raise ValueError("per_sample_statistics got no per-example gradients (every one was None)")
    rows = numpy.concatenate([array.reshape(array.shape[0], -1) for array in named.values()], axis=1)
    mean_row = rows.mean(axis=0)
    norms = numpy.linalg.norm(rows, axis=1)
    mean_norm = numpy.linalg.norm(mean_row)
    with numpy.errstate(divide="ignore", invalid="ignore"):
        cosines = numpy.where(norms * mean_norm > 0, rows @ mean_row / (norms * mean_norm), 0.0)
    mean = {name: array.mean(axis=0) for name, array in named.items()}
    variance = {name: array.var(axis=0) for name, array in named.items()}
    snr = {name: _ratio(numpy.sum(mean[name] ** 2), numpy.sum(variance[name])) for name in named}
    parameter_norms = {name: numpy.linalg.norm(array.reshape(array.shape[0], -1), axis=1)
                       for name, array in named.items()}
    return PerSampleStatistics(list(named), norms, cosines, parameter_norms, mean, variance, snr,
                               None if losses is None else numpy.asarray(losses, dtype=float))


def _ratio(signal: float, noise: float) -> float:
    # No spread at all: an exact signal (infinite ratio), or nothing (zero).
    if noise == 0:
        return float("inf") if signal > 0 else 0.0
    return float(signal / noise)


def _named_arrays(per_sample, names) -> dict:
    if hasattr(per_sample, "params") and hasattr(per_sample, "values"):  # a Grads
        arrays = list(per_sample.values())
    elif isinstance(per_sample, dict):
        names = names or [str(key) for key in per_sample]
        arrays = list(per_sample.values())
    else:
        arrays, _ = structure.flatten(per_sample)
    names = list(names) if names is not None else [f"p{index}" for index in range(len(arrays))]
    if len(names) != len(arrays):
        raise ValueError(f"per_sample_statistics got {len(names)} names for {len(arrays)} parameters")
    return {name: numpy.asarray(array) for name, array in zip(names, arrays) if array is not None}
