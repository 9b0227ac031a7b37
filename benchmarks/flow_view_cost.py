"""What the gradient-flow view costs next to the computation: ``%%gradient`` with the view / ``--no-widget``.

The issue's cell: a 784-256-10 MLP on 512 samples,
``%%gradient W1 b1 W2 b2``, in an in-process IPython that shows HTML (so the
view is built and its display bundle, SVG and PNG, computed).  Both forms
run alternately, best of ``repeats`` each, in one process; the ratio is the
figure (target: at most 3).

    .venv/bin/python benchmarks/flow_view_cost.py
"""

from __future__ import annotations

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


def view_cost(repeats: int = 7) -> tuple[float, float]:
    """(best seconds with the view, best seconds with ``--no-widget``)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    shell.display_formatter.active_types = ["text/plain", "text/html", "image/png"]
    shell.run_cell("%load_ext zygote_nb", store_history=False)
    shell.run_cell(SETUP, store_history=False)
    best = {"": float("inf"), " --no-widget": float("inf")}
    for _ in range(repeats):
        for options in best:
            with capture_output() as captured, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                started = time.perf_counter()
                shell.run_cell(CELL.format(options=options), store_history=False).raise_error()
                # The front end asks for the view's bundle when it shows it; that is part of the cost.
                for output in captured.outputs:
                    output.data
                best[options] = min(best[options], time.perf_counter() - started)
    shell.run_cell("%unload_ext zygote_nb", store_history=False)
    return best[""], best[" --no-widget"]


if __name__ == "__main__":
    with_view, without = view_cost()
    print(f"784-256-10 MLP on 512 samples: %%gradient with the view {with_view * 1000:.0f} ms, "
          f"--no-widget {without * 1000:.0f} ms, ratio {with_view / without:.2f}")
