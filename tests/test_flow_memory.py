"""Re-running a %%gradient cell with the view does not pile up recordings (issue 12).

The measurement is benchmarks/flow_memory.py, run in a fresh interpreter on
smaller inputs than the issue's 1500×1500 (which benchmarks/README.md records).
"""

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "flow_memory.py"


def test_twelve_reruns_keep_the_heap_within_one_and_a_half_times_the_first_run():
    run = subprocess.run([sys.executable, str(BENCHMARK), "400", "12"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    heap, resident = map(float, re.search(r"traced heap ([\d.]+)x, resident set ([\d.]+)x", run.stdout).groups())
    # Without the release every rerun keeps about ten 400×400 arrays: 12 runs would be well past 3x.
    assert heap <= 1.5 and resident <= 1.5, run.stdout
