"""The per-sample benchmark as a smoke test: every implementation agrees with per-example backprop by hand."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "per_sample.py"


def test_quick_per_sample_benchmark_agrees_with_backprop_by_hand():
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--peers", "none", "--batch", "16"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "zygote_nb per_sample_gradients" in run.stdout and "DISAGREES" not in run.stdout
