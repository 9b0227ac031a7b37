"""How long the gradient-flow view takes to answer a moved hook slider on a 1,000-operation cell.

Records a small recurrent computation of about 1,000 primitive operations
with a clip hook in the middle, then times :meth:`GradientFlow.replay` (the
backward pass over the recorded nodes, with every node's gradient summarised)
after each change of the clip threshold.  The target is under 200 ms.

    .venv/bin/python benchmarks/flow_replay.py
"""

from __future__ import annotations

import statistics
import time

import numpy

import zygote_nb.numpy as np
from zygote_nb.flow import trace_gradient
from zygote_nb.hooks import clip, hook


def recurrent_loss(weights, state, steps: int = 250):
    for _ in range(steps):
        state = np.tanh(np.dot(weights, state) + 0.1 * state)
    return np.sum(state ** 2)


def main() -> None:
    rng = numpy.random.default_rng(0)
    weights, state = rng.normal(size=(8, 8)) * 0.3, rng.normal(size=8)
    threshold = clip(0.5)
    flow = trace_gradient(lambda weights, state: recurrent_loss(hook(threshold, weights), state), weights, state)
    timings = []
    for value in numpy.linspace(0.01, 1.0, 20):
        threshold.threshold = float(value)
        start = time.perf_counter()
        flow.replay()
        timings.append(time.perf_counter() - start)
    print(f"{len(flow.operations)} operations recorded; replay median {statistics.median(timings) * 1000:.1f} ms, "
          f"max {max(timings) * 1000:.1f} ms over {len(timings)} replays (target < 200 ms)")


if __name__ == "__main__":
    main()
