"""How long the flow picture's layout takes on a 3,000-operation graph drawn ungrouped.

The graph is a recorded chain of residual blocks with a weight input per
block (``x = x + tanh(w_i * x)``), so it has long edges (each weight feeds
its block; the residual skips a layer) as well as a long spine.  Run:
``python benchmarks/flow_layout.py``; the budget (issue 12) is 3 s here.
"""

from __future__ import annotations

import time

import numpy

import zygote_nb.numpy as np
from zygote_nb.flow import display_graph, layout, trace_gradient

BLOCKS = 1000  # three operations a block: multiply, tanh, add


def blocks(x, *weights):
    for weight in weights:
        x = x + np.tanh(weight * x)
    return np.sum(x)


def main() -> None:
    weights = [numpy.full(2, 0.01) for _ in range(BLOCKS)]
    flow = trace_gradient(blocks, numpy.ones(2), *weights)
    graph = display_graph(flow, threshold=len(flow.operations) + 1)
    started = time.perf_counter()
    picture = layout(graph)
    elapsed = time.perf_counter() - started
    print(f"{len(flow.operations)} operations, {len(graph.items)} boxes, {len(picture.edges)} edges: "
          f"laid out in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
