"""The benchmark suite as a smoke test: every row agrees with its peers (speed is not asserted here)."""

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def test_quick_benchmark_run_agrees_with_numpy_by_hand():
    run = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--peers", "none"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "zygote_nb" in run.stdout and "numpy by hand" in run.stdout
