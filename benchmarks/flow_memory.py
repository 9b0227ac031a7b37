"""Does re-running a ``%%gradient`` cell with the view keep memory flat?  (issue 12)

Runs the issue's cell (``B = np.tanh(A @ A)``, ``C = np.sin(B) * B``,
``np.sum(C ** 2)``) ``runs`` times in an in-process IPython that shows HTML
(so every run builds a live view), and compares the memory after the last
run with the memory after the first: the Python heap as tracemalloc counts
it (NumPy reports its arrays to it) and the resident set size from
/proc/self/statm.  Each re-run's older view gives up its recording; the
target is a ratio of at most 1.5.

    .venv/bin/python benchmarks/flow_memory.py            # 1500×1500, 20 runs
    .venv/bin/python benchmarks/flow_memory.py 300 8      # what the test suite runs
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc

CELL = "%%gradient A\nB = np.tanh(A @ A)\nC = np.sin(B) * B\nnp.sum(C ** 2)"


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_growth(size: int = 1500, runs: int = 20) -> tuple[float, float]:
    """(traced heap after the last run / after the first, resident size after the last run / after the first)."""
    import warnings

    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    shell.display_formatter.active_types = ["text/plain", "text/html", "image/png"]
    shell.run_cell("%load_ext zygote_nb", store_history=False)
    shell.run_cell(f"import numpy as np\nA = np.random.default_rng(0).normal(size=({size}, {size})) / {size ** 0.5}",
                   store_history=False)
    tracemalloc.start()
    measured = []
    try:
        for run in range(runs):
            with capture_output(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = shell.run_cell(CELL, store_history=False)
            result.raise_error()
            if run in (0, runs - 1):
                gc.collect()
                measured.append((tracemalloc.get_traced_memory()[0], resident_bytes()))
    finally:
        tracemalloc.stop()
        shell.run_cell("%unload_ext zygote_nb", store_history=False)
    (heap_first, resident_first), (heap_last, resident_last) = measured
    return heap_last / heap_first, resident_last / resident_first


if __name__ == "__main__":
    size, runs = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (1500, 20)
    heap, resident = memory_growth(size, runs)
    print(f"%%gradient cell re-run {runs} times on {size}×{size}: after the last run / after the first: "
          f"traced heap {heap:.2f}x, resident set {resident:.2f}x")
