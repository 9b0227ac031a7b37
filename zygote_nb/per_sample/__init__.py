"""Per-sample gradients: which examples pull the model where, on the NumPy code already written.

:func:`per_sample_gradients` traces the loss of one example, replays that trace
on the whole batch with the parameters shared, and pulls every example's
cotangent back in one sweep; :func:`per_sample_statistics` turns the result
into what a debugger looks at: each example's gradient norm and its cosine with
the mean gradient, the examples with the largest norms, and each parameter's
gradient noise (variance over the examples, signal-to-noise ratio).
"""

from .gradients import per_sample_gradients
from .statistics import PerSampleStatistics, per_sample_statistics

__all__ = ["PerSampleStatistics", "per_sample_gradients", "per_sample_statistics"]
