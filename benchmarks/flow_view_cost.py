"""What the gradient-flow view costs next to the computation: ``%%gradient`` with the view / ``--no-widget``.

The issue's cell: a 784-256-10 MLP on 512 samples,
``%%gradient W1 b1 W2 b2``, in an in-process IPython that shows HTML (so the
view is built and its display bundle, SVG and PNG, computed).  Both forms
run back to back, ``repeats`` pairs in one process; the medians of the
pairs' ratios of CPU time and of wall time are the figures (target: at most 3).

    .venv/bin/python benchmarks/flow_view_cost.py
"""

from __future__ import annotations

import statistics
import time
import warnings

SETUP = """
import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(512, 784)); labels = rng.integers(0, 10, size=512)
W1 = rng.normal(size=(784, 256)) / 28; b1 = np.zeros(256)
W2 = rng.normal(size=(256, 10)) / 16; b2 = np.zeros(10)
onehot = np.eye(10)[labels]
"""
CELL = """%%gradient W1 b1 W2 b2{options}
hidden = np.tanh(X @ W1 + b1)
logits = hidden @ W2 + b2
shifted = logits - np.max(logits, axis=1, keepdims=True)
log_probabilities = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
-np.mean(np.sum(onehot * log_probabilities, axis=1))"""


def timed_run(shell, options: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one run of the cell, its display bundle included."""
    from IPython.utils.capture import capture_output

    with capture_output() as captured, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started, started_cpu = time.perf_counter(), time.process_time()
        shell.run_cell(CELL.format(options=options), store_history=False).raise_error()
        # The front end asks for the view's bundle when it shows it; that is part of the cost.
        for output in captured.outputs:
            output.data
        return time.perf_counter() - started, time.process_time() - started_cpu


def view_cost(repeats: int = 15) -> dict:
    """Medians over back-to-back pairs of the ratio (view / ``--no-widget``) of wall and of CPU time, and best wall times.

    On a shared machine a burst of other work slows a whole run; a pair run
    back to back mostly shares its conditions, and CPU time does not count the
    time the process waited for a core, so the CPU-time ratio is the steadier figure.
    """
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.display_formatter.active_types = ["text/plain", "text/html", "image/png"]
    shell.run_cell("%load_ext zygote_nb", store_history=False)
    shell.run_cell(SETUP, store_history=False)
    timed_run(shell, ""), timed_run(shell, " --no-widget")  # warm up
    pairs = []
    for repeat in range(repeats):
        order = ("", " --no-widget") if repeat % 2 else (" --no-widget", "")
        times = {options: timed_run(shell, options) for options in order}
        pairs.append((times[""], times[" --no-widget"]))
    shell.run_cell("%unload_ext zygote_nb", store_history=False)
    return {"wall ratio": statistics.median(view[0] / plain[0] for view, plain in pairs),
            "CPU ratio": statistics.median(view[1] / plain[1] for view, plain in pairs),
            "best with the view": min(view[0] for view, _ in pairs),
            "best --no-widget": min(plain[0] for _, plain in pairs)}


if __name__ == "__main__":
    cost = view_cost()
    print(f"784-256-10 MLP on 512 samples, %%gradient with the view / --no-widget (medians of back-to-back pairs): "
          f"CPU time {cost['CPU ratio']:.2f}, wall time {cost['wall ratio']:.2f}; best wall times "
          f"{cost['best with the view'] * 1000:.0f} ms with the view, {cost['best --no-widget'] * 1000:.0f} ms without")
