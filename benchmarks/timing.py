"""The benchmarks' one timer: the median wall-clock time of repeated calls."""

import statistics
import time


def median_seconds(action, repeats: int) -> float:
    """The median of ``repeats`` timed calls of ``action()``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
