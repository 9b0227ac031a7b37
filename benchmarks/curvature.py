"""Curvature at scale: what a Hessian-vector product costs, and what ``%%hessian`` costs beside the Hessian.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/curvature.py`` (a few minutes; ``--quick`` skips 10⁶).
Everything is timed in this one process; compare ratios, not seconds, across machines.

1. One HVP (``zn.hvp``, forward over reverse) against one gradient, on the loss
   of a one-hidden-layer tanh network with respect to its d×d weight matrix
   (n = d² = 10⁴, 10⁵, 10⁶), and the HVPs and seconds ``hessian_spectrum``
   takes to the top eigenvalue and to the top 4 (tol 1e-4).
2. ``%%hessian`` on the 2,560 weights of a 784-256-10 network's last layer
   (dense) against ``zn.hessian`` of the same function: the whole cell, the
   eigen summary alone, and what a full ``eigvalsh`` would have cost.
3. ``%%hessian`` on 20,000 parameters (matrix-free) against what the dense
   Hessian would cost (20,000 HVPs, from the measured time of one).
"""

import sys
import time

import numpy
from timing import median_seconds

import zygote_nb as zn
import zygote_nb.numpy as np
from zygote_nb.notebook.curvature import classify
from zygote_nb.notebook.hessian_cell import hessian_at_any_size

REPEATS = 5


def network_loss(width: int, seed: int = 0):
    random = numpy.random.default_rng(seed)
    data = random.standard_normal((64, width)) / numpy.sqrt(width)
    readout, targets = random.standard_normal(width) / numpy.sqrt(width), random.standard_normal(64)
    weights = random.standard_normal((width, width)) / numpy.sqrt(width)
    return (lambda W: np.mean((np.tanh(data @ W) @ readout - targets) ** 2)), weights


def hvp_rows(widths) -> None:
    print(f"{'parameters':>11} {'gradient':>10} {'HVP':>10} {'HVP/grad':>9} {'top-1 HVPs':>11} {'top-1 s':>8} "
          f"{'top-4 HVPs':>11} {'top-4 s':>8}")
    for width in widths:
        f, weights = network_loss(width)
        direction = numpy.random.default_rng(1).standard_normal(weights.shape)
        gradient_time = median_seconds(lambda: zn.gradient(f, weights), REPEATS)
        hvp_time = median_seconds(lambda: zn.hvp(f, weights, direction), REPEATS)
        start = time.perf_counter()
        top = zn.hessian_spectrum(f, weights, k=1, which="largest", tol=1e-4, seed=0)
        top_time = time.perf_counter() - start
        start = time.perf_counter()
        four = zn.hessian_spectrum(f, weights, k=4, which="largest", tol=1e-4, seed=0)
        four_time = time.perf_counter() - start
        print(f"{width * width:>11,} {gradient_time * 1e3:>8.2f}ms {hvp_time * 1e3:>8.2f}ms "
              f"{hvp_time / gradient_time:>9.2f} {top.hvps:>11} {top_time:>8.2f} {four.hvps:>11} {four_time:>8.2f}")


def dense_magic_row() -> None:
    random = numpy.random.default_rng(0)
    inputs = random.standard_normal((64, 784))
    hidden = numpy.tanh(inputs @ (0.05 * random.standard_normal((784, 256))))
    targets = numpy.eye(10)[random.integers(0, 10, 64)]
    weights = 0.1 * random.standard_normal((256, 10))

    def loss(W2):
        logits = hidden @ W2
        return np.mean(np.log(np.sum(np.exp(logits), axis=1)) - np.sum(targets * logits, axis=1))

    namespace = {"np": numpy, "hidden": hidden, "targets": targets, "W2": weights}
    source = ("logits = hidden @ W2\n"
              "np.mean(np.log(np.sum(np.exp(logits), axis=1)) - np.sum(targets * logits, axis=1))")
    hessian_time = median_seconds(lambda: zn.hessian(loss, weights), 3)
    H = zn.hessian(loss, weights)
    summary_time = median_seconds(lambda: classify(H, 1.0, 1.0), 3)
    eigvalsh_time = median_seconds(lambda: numpy.linalg.eigvalsh(H), 3)
    magic_time = median_seconds(lambda: hessian_at_any_size(source, ["W2"], dict(namespace)).summary(), 3)
    print(f"%%hessian W2 (2,560, dense): zn.hessian {hessian_time:.3f} s; eigen summary {summary_time:.3f} s "
          f"= {summary_time / hessian_time:.1f}x the Hessian (a full eigvalsh: {eigvalsh_time:.3f} s = "
          f"{eigvalsh_time / hessian_time:.1f}x); whole cell, text {magic_time:.3f} s = "
          f"{magic_time / hessian_time:.1f}x")


def matrix_free_magic_row() -> None:
    random = numpy.random.default_rng(1)
    shape = (200, 100)
    namespace = {"np": numpy, "bulk": random.uniform(1.0, 2.0, shape), "up": random.standard_normal(shape) / 141,
                 "W": 0.01 * random.standard_normal(shape)}
    source = "0.5 * np.sum(bulk * W ** 2) + 15.0 * np.sum(up * W) ** 2 - 0.5 * np.sum(np.sin(W) ** 2)"
    f = lambda W: (0.5 * np.sum(namespace["bulk"] * W ** 2) + 15.0 * np.sum(namespace["up"] * W) ** 2
                   - 0.5 * np.sum(np.sin(W) ** 2))
    hvp_time = median_seconds(lambda: zn.hvp(f, namespace["W"], namespace["W"]), REPEATS)
    start = time.perf_counter()
    result = hessian_at_any_size(source, ["W"], dict(namespace))
    result.summary()
    magic_time = time.perf_counter() - start
    dense_estimate = 20000 * hvp_time
    print(f"%%hessian W (20,000, matrix-free): {magic_time:.2f} s, {result.work.hvps} HVPs; the dense Hessian "
          f"alone would take 20,000 HVPs ≈ {dense_estimate:.1f} s (one HVP {hvp_time * 1e3:.2f} ms) and 3.2 GB: "
          f"ratio {magic_time / dense_estimate:.3f}")


def main() -> None:
    quick = "--quick" in sys.argv
    hvp_rows([100, 316] if quick else [100, 316, 1000])
    dense_magic_row()
    matrix_free_magic_row()


if __name__ == "__main__":
    main()
