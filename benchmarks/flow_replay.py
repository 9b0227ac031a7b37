"""How long the gradient-flow view takes to answer a moved hook slider on a 1,000-operation cell.

Records a small recurrent computation of about 1,000 primitive operations
with a clip hook in the middle, then times, after each change of the clip
threshold, :meth:`GradientFlow.replay` (the backward pass over the recorded
nodes, every node's gradient summarised: the new gradients and result) plus
the colours and bar heights of the drawing (``display_graph`` and
``gradient_norms``).  The target is under 200 ms.  The widget's whole
update, replay and redraw of its PNG pictures by matplotlib, is timed on its
own line (target under 200 ms too), and again with a hook whose every move
changes every picture.

    .venv/bin/python benchmarks/flow_replay.py
"""

from __future__ import annotations

import statistics
import time

import numpy

import zygote_nb.numpy as np
from zygote_nb.flow import display_graph, gradient_norms, trace_gradient
from zygote_nb.hooks import clip, hook, scale
from zygote_nb.pullback import pullback


def recurrent(weights, state, steps: int = 250):
    for _ in range(steps):
        state = np.tanh(np.dot(weights, state) + 0.1 * state)
    return state


def recurrent_loss(weights, state):
    return np.sum(recurrent(weights, state) ** 2)


def main() -> None:
    rng = numpy.random.default_rng(0)
    unit_weights, state = rng.normal(size=(8, 8)), rng.normal(size=8)
    weights = unit_weights * 0.3
    clipping = clip(0.5)
    flow = trace_gradient(lambda weights, state: recurrent_loss(hook(clipping, weights), state), weights, state)
    _, back = pullback(lambda weights, state: recurrent_loss(hook(clipping, weights), state), weights, state)
    plain = []
    for _ in range(20):
        start = time.perf_counter()
        back(1.0)
        plain.append(time.perf_counter() - start)
    timings = []
    for value in numpy.linspace(0.01, 1.0, 20):
        clipping.threshold = float(value)
        start = time.perf_counter()
        flow.replay()
        display_graph(flow)
        gradient_norms(flow, "line")
        timings.append(time.perf_counter() - start)
    print(f"{len(flow.operations)} operations recorded; replay with colours median "
          f"{statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms over {len(timings)} "
          f"replays (target < 200 ms); the same backward pass unrecorded: median "
          f"{statistics.median(plain) * 1000:.1f} ms")
    from zygote_nb.notebook.flow_view import FlowView

    median = median_update_ms(FlowView(flow), clipping, "threshold", numpy.linspace(0.01, 1.0, 11))
    print(f"the widget's whole update (replay and matplotlib redraw of its pictures) median "
          f"{median:.0f} ms (target < 200 ms)")
    # With weights this small the state decays and the weights' gradient vanishes below what the clip changes,
    # so the pictures that would show nothing new are not redrawn.  With unit weights the gradients stay large,
    # and a scale hook on the final state changes every gradient, the colour scale and every bar.
    scaling = scale(1.0)
    view = FlowView(trace_gradient(lambda weights, state: np.sum(hook(scaling, recurrent(weights, state)) ** 2),
                                   unit_weights, state))
    median = median_update_ms(view, scaling, "factor", numpy.linspace(0.01, 100.0, 11))
    print(f"the same when every picture changes (a scale hook on the output) median {median:.0f} ms")


def median_update_ms(view, transform, attribute: str, values) -> float:
    """The median time of the view's update after setting the hook transform's ``attribute`` to each value."""
    redraws = []
    for value in values:
        setattr(transform, attribute, float(value))
        start = time.perf_counter()
        view.replay()
        redraws.append(time.perf_counter() - start)
    return statistics.median(redraws) * 1000


if __name__ == "__main__":
    main()
