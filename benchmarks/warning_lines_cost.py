"""What pointing warnings at the user's line costs a plain ``gradient``.

``gradient`` keeps, for every recorded operation, the user's line that made
it (``RecordedNode.place``), so that a warning raised by its derivative rule
can be shown there (:mod:`zygote_nb.user_warnings`). A function of 1000 tiny
scalar operations is differentiated, interleaved, as shipped and with that
bookkeeping replaced by a no-op; the ratio of the medians, measured in one
process, is the cost. For comparison, the same gradient inside the flow
view's block (:func:`zygote_nb.flow.warning_lines.warnings_at_user_lines`,
which the magics use) is timed too.

    python benchmarks/warning_lines_cost.py            # 200 interleaved rounds, about 15 s
    python benchmarks/warning_lines_cost.py --rounds 50
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import zygote_nb.numpy as np
from zygote_nb.flow.warning_lines import warnings_at_user_lines
from zygote_nb.gradients import gradient

OPERATIONS = 1000
pullback_module = sys.modules["zygote_nb.pullback"]
user_position = pullback_module.user_position


def tiny_chain(x):
    for _ in range(OPERATIONS // 2):
        x = np.sin(x) * 1.0001
    return x


def shipped():
    return gradient(tiny_chain, 0.3)


def without_places():
    pullback_module.user_position = lambda frame: None
    try:
        return gradient(tiny_chain, 0.3)
    finally:
        pullback_module.user_position = user_position


def in_flow_block():
    with warnings_at_user_lines():
        return gradient(tiny_chain, 0.3)


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    runs = {"without places": without_places, "shipped": shipped, "in flow block": in_flow_block}
    assert len({run() for run in runs.values()}) == 1
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            times[name].append(timed(run))
    # The fastest round is the least disturbed by other work on a shared machine; the median is shown beside it.
    fastest = {name: min(values) for name, values in times.items()}
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"gradient of {OPERATIONS} tiny operations, {rounds} interleaved rounds (fastest, median):")
    for name in runs:
        print(f"  {name:<15} {fastest[name] * 1e3:7.2f} ms {fastest[name] / fastest['without places']:.3f}x"
              f"   {medians[name] * 1e3:7.2f} ms {medians[name] / medians['without places']:.3f}x")


if __name__ == "__main__":
    main()
