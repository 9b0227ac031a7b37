"""Time ``jacobian`` and ``hessian`` on the GPU (CuPy) against NumPy on the same machine.

The function is one dense layer, ``x ↦ tanh(W x)`` for the Jacobian and
``x ↦ Σ tanh(W x)²`` for the Hessian, with ``W`` of shape ``n × n``.  Each
operator runs once per backend and size after a small warm-up (CuPy compiles
its kernels on first use); the GPU clock stops only after the device has
finished.  The two results are compared (copied to the host after timing).

    python benchmarks/gpu_timing.py --sizes 1024 4096
    python benchmarks/gpu_timing.py --sizes 64 --numpy-only   # the script itself, on a machine without a GPU
"""

from __future__ import annotations

import argparse
import time

import numpy

import zygote_nb as zn
import zygote_nb.numpy as np


def layer_problem(n: int, seed: int = 0) -> tuple:
    rng = numpy.random.default_rng(seed)
    return rng.normal(size=(n, n)) / numpy.sqrt(n), rng.normal(size=n)


def operators(weights) -> dict:
    return {
        "jacobian": lambda x: zn.jacobian(lambda x: np.tanh(weights @ x), x)[0],
        "hessian": lambda x: zn.hessian(lambda x: np.sum(np.tanh(weights @ x) ** 2), x),
    }


def timed(run, x, finish) -> tuple:
    start = time.perf_counter()
    result = run(x)
    finish()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--numpy-only", action="store_true", help="skip the GPU (to try the script anywhere)")
    options = parser.parse_args()

    cupy = None
    if not options.numpy_only:
        import cupy

        properties = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        print(f"GPU: {properties['name'].decode()}, CuPy {cupy.__version__}")
        weights, x = layer_problem(8)
        for run in operators(cupy.asarray(weights)).values():  # warm-up: kernels compile once
            run(cupy.asarray(x))
        cupy.cuda.Device().synchronize()
    print(f"{'operator':<10}{'n':>6}{'numpy s':>10}{'cupy s':>10}{'speed-up':>10}{'max |diff|':>12}")
    for n in options.sizes:
        weights, x = layer_problem(n)
        host_runs = operators(weights)
        device_runs = operators(cupy.asarray(weights)) if cupy is not None else {}
        for name, run in host_runs.items():
            host_seconds, host_result = timed(run, x, lambda: None)
            row = f"{name:<10}{n:>6}{host_seconds:>10.3f}"
            if cupy is not None:
                device_seconds, device_result = timed(device_runs[name], cupy.asarray(x),
                                                      cupy.cuda.Device().synchronize)
                difference = float(numpy.max(numpy.abs(device_result.get() - host_result)))
                row += f"{device_seconds:>10.3f}{host_seconds / device_seconds:>10.1f}{difference:>12.2e}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
