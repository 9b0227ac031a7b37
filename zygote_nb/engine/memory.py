"""How much memory a derivative may take, and how to split its batch to stay within it.

The budget defaults to half the memory the system reports as available.  A
result that alone would exceed it is refused before anything is allocated;
a batch of rows that would not fit is pushed through in chunks.

>>> rows_per_chunk(bytes_per_row=100, budget=450)
4
>>> require_fits("jacobian", (1000, 1000), budget=10**6)
Traceback (most recent call last):
...
zygote_nb.engine.memory.MemoryBudgetError: jacobian needs 8.0 MB for its result of shape (1000, 1000), more than the memory budget of 1.0 MB: differentiate a smaller part of the function, or pass a larger memory_budget= (in bytes)
"""

from __future__ import annotations

import math
import os
import time

FLOAT_BYTES = 8


class MemoryBudgetError(MemoryError):
    """A derivative whose result alone would not fit in the memory budget.

    It is raised before anything is allocated, naming the size needed:

    >>> import numpy, zygote_nb as zn
    >>> zn.jacobian(lambda x: x * 2, numpy.ones(100), memory_budget=1000)
    Traceback (most recent call last):
    ...
    zygote_nb.engine.memory.MemoryBudgetError: jacobian needs 80.0 kB for its result of shape (100, 100), more than the memory budget of 1.0 kB: differentiate a smaller part of the function, or pass a larger memory_budget= (in bytes)
    """


_last_reading: list = [float("-inf"), 0]
READING_LIFETIME = 1.0  # seconds; a derivative in a loop need not reread /proc/meminfo every call


def available_memory() -> int:
    """Bytes the system can still hand out: ``MemAvailable`` from /proc/meminfo, else free pages."""
    now = time.monotonic()
    if now - _last_reading[0] > READING_LIFETIME:
        _last_reading[:] = [now, _read_available_memory()]
    return _last_reading[1]


def _read_available_memory() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def budget_or_default(budget: int | None) -> int:
    """``budget`` in bytes, or half the available memory when it is ``None``."""
    return available_memory() // 2 if budget is None else int(budget)


def readable(size: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def require_fits(operator_name: str, shape: tuple, budget: int) -> None:
    """Raise :class:`MemoryBudgetError` if a float array of ``shape`` would exceed ``budget`` bytes."""
    size = math.prod(shape) * FLOAT_BYTES
    if size > budget:
        raise MemoryBudgetError(
            f"{operator_name} needs {readable(size)} for its result of shape {tuple(shape)}, more than the "
            f"memory budget of {readable(budget)}: differentiate a smaller part of the function, or pass a "
            f"larger memory_budget= (in bytes)")


def rows_per_chunk(bytes_per_row: int, budget: int) -> int:
    """How many rows of a batch fit in ``budget`` bytes (one at least: a single row always runs)."""
    return max(1, budget // max(1, bytes_per_row))
