"""The speed suite: zygote_nb's derivatives against autograd, JAX, torch.func and NumPy by hand.

Runs a fixed list of problems in one process, times every implementation
(median of repeated calls, one thread each), checks on every row that all
implementations agree with the hand-written NumPy result (exit status 1 if
any disagrees), and prints a table of medians, ratios to hand NumPy, and
whether zygote_nb meets its targets.

    python benchmarks/run.py                  # the full suite (a few minutes)
    python benchmarks/run.py --quick          # smaller sizes, fewer repeats (under a minute)
    python benchmarks/run.py --quick --peers none   # zygote_nb against NumPy only: a smoke test

Peers are optional: a peer that is not installed is skipped (JAX: ``pip
install jax jaxlib``; torch: ``pip install torch``).  They are never
dependencies of zygote_nb.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

# One thread for every library, before any of them starts its thread pool.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import autograd  # noqa: E402
import autograd.numpy as anp  # noqa: E402
import numpy  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import zygote_nb as zn  # noqa: E402

PEERS = ("autograd", "jax", "torch")
HAND, ZYGOTE = "numpy by hand", "zygote_nb"


# ----- the problems, each written once per library -----

def tanh_layer(n: int, m: int, seed: int = 0):
    rng = numpy.random.default_rng(seed)
    return rng.standard_normal((m, n)) / numpy.sqrt(n), rng.standard_normal(m), rng.standard_normal(n)


def rosenbrock_numpy(x, np=anp):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian_by_hand(x):
    n = x.size
    H = numpy.zeros((n, n))
    inner = x[:-1]
    diagonal = numpy.zeros(n)
    diagonal[:-1] = 1200.0 * inner**2 - 400.0 * x[1:] + 2.0
    diagonal[1:] += 200.0
    H[numpy.arange(n), numpy.arange(n)] = diagonal
    off = -400.0 * inner
    H[numpy.arange(n - 1), numpy.arange(1, n)] = off
    H[numpy.arange(1, n), numpy.arange(n - 1)] = off
    return H


@dataclass
class MLP:
    """One hidden tanh layer, mean squared error: ``loss(p)`` of the flat parameter vector ``p``."""

    inputs: int
    hidden: int
    outputs: int
    batch: int = 64
    seed: int = 0
    X: numpy.ndarray = field(init=False)
    Y: numpy.ndarray = field(init=False)
    params: numpy.ndarray = field(init=False)

    def __post_init__(self):
        rng = numpy.random.default_rng(self.seed)
        self.X = rng.standard_normal((self.batch, self.inputs))
        self.Y = rng.standard_normal((self.batch, self.outputs))
        self.params = rng.standard_normal(self.size) * 0.3

    @property
    def size(self) -> int:
        return self.inputs * self.hidden + self.hidden + self.hidden * self.outputs + self.outputs

    def split(self, p):
        """``W1, b1, W2, b2`` from the last axis of ``p`` (leading axes, if any, are kept)."""
        cuts = numpy.cumsum([self.inputs * self.hidden, self.hidden, self.hidden * self.outputs])
        lead = p.shape[:-1]
        return (p[..., :cuts[0]].reshape(lead + (self.inputs, self.hidden)), p[..., cuts[0]:cuts[1]],
                p[..., cuts[1]:cuts[2]].reshape(lead + (self.hidden, self.outputs)), p[..., cuts[2]:])

    def loss(self, p, np=anp, X=None, Y=None):
        W1, b1, W2, b2 = self.split(p)
        X = self.X if X is None else X
        Y = self.Y if Y is None else Y
        prediction = np.tanh(X @ W1 + b1) @ W2 + b2
        return np.mean((prediction - Y) ** 2)

    def gradient_by_hand(self, p):
        W1, b1, W2, b2 = self.split(p)
        A = numpy.tanh(self.X @ W1 + b1)
        residual = (A @ W2 + b2 - self.Y) * (2.0 / self.Y.size)
        dZ = (residual @ W2.T) * (1.0 - A**2)
        return numpy.concatenate([(self.X.T @ dZ).ravel(), dZ.sum(0), (A.T @ residual).ravel(), residual.sum(0)])

    def hessian_by_hand(self, p):
        """Forward over reverse written out: the tangent of the backward pass along every basis direction."""
        W1, b1, W2, b2 = self.split(p)
        n, c = self.size, 2.0 / self.Y.size
        T1, t1, T2, t2 = self.split(numpy.eye(n))  # one basis direction per leading index
        A = numpy.tanh(self.X @ W1 + b1)
        slope = 1.0 - A**2
        residual = c * (A @ W2 + b2 - self.Y)
        dA = residual @ W2.T
        tA = (self.X @ T1 + t1[:, None, :]) * slope
        tR = c * (tA @ W2 + A @ T2 + t2[:, None, :])
        tdA = tR @ W2.T + residual @ numpy.swapaxes(T2, 1, 2)
        tdZ = tdA * slope - 2.0 * dA * A * tA
        return numpy.concatenate([(self.X.T @ tdZ).reshape(n, -1), tdZ.sum(1),
                                  (A.T @ tR + numpy.swapaxes(tA, 1, 2) @ residual).reshape(n, -1),
                                  tR.sum(1)], axis=1)


def cube_sine(x, np=anp):
    return np.sum(x**3 * np.sin(x))


def cube_sine_diagonal_by_hand(x):
    return 6 * x * numpy.sin(x) + 6 * x**2 * numpy.cos(x) - x**3 * numpy.sin(x)


# ----- peers -----

def load_peers(requested: set) -> dict:
    peers = {}
    if "autograd" in requested:
        peers["autograd"] = autograd
    if "jax" in requested:
        try:
            import jax

            jax.config.update("jax_enable_x64", True)
            peers["jax"] = jax
        except ImportError:
            print("jax is not installed: skipping it (pip install jax jaxlib)")
    if "torch" in requested:
        try:
            import torch

            torch.set_num_threads(1)
            peers["torch"] = torch
        except ImportError:
            print("torch is not installed: skipping it (pip install torch)")
    return peers


@dataclass
class Problem:
    name: str
    kind: str  # "jacobian", "hessian", "diaghessian" or "gradient"
    size: int  # the n that the targets refer to
    implementations: dict  # label -> zero-argument callable returning a NumPy array
    compile_times: dict = field(default_factory=dict)


def jax_pair(jax, make: Callable, arguments: tuple, problem: Problem, label: str):
    """Add the eager and the jitted JAX versions of ``make()``; compile time kept apart."""
    eager = make()
    problem.implementations[f"{label} eager"] = lambda: numpy.asarray(eager(*arguments))
    jitted = jax.jit(make())
    start = time.perf_counter()
    jitted(*arguments).block_until_ready()
    problem.compile_times[f"{label} jit"] = time.perf_counter() - start
    problem.implementations[f"{label} jit"] = lambda: numpy.asarray(jitted(*arguments).block_until_ready())


def add_hessian_peers(problem: Problem, f: Callable, x: numpy.ndarray, peers: dict, diagonal: bool = False):
    """Add each peer's Hessian of ``f(x, np)`` (``np`` that peer's array module), or its diagonal."""

    def finish(namespace):
        return namespace.diag if diagonal else (lambda H: H)

    if "autograd" in peers:
        autograd_hessian = autograd.hessian(f)
        problem.implementations["autograd"] = lambda: finish(numpy)(autograd_hessian(x))
    if "jax" in peers:
        jax = peers["jax"]
        jnp = jax.numpy

        def make():
            jax_hessian = jax.hessian(lambda x: f(x, jnp))
            return lambda x: finish(jnp)(jax_hessian(x))

        jax_pair(jax, make, (jnp.asarray(x),), problem, "jax")
    if "torch" in peers:
        torch = peers["torch"]
        torch_hessian = torch.func.hessian(lambda x: f(x, torch))
        xt = torch.from_numpy(x)
        problem.implementations["torch.func"] = lambda: finish(torch)(torch_hessian(xt)).numpy()


def tanh_jacobian_problem(n: int, m: int, peers: dict, wide: bool = False) -> Problem:
    W, b, x = tanh_layer(n, m)
    name = f"J tanh(Wx+b) R^{n}->R^{m}" if wide else f"J tanh(Wx+b) n=m={n}"
    problem = Problem(name, "jacobian", max(n, m), {})
    problem.implementations[HAND] = lambda: (1.0 - numpy.tanh(W @ x + b) ** 2)[:, None] * W
    f = lambda x: anp.tanh(W @ x + b)  # noqa: E731
    problem.implementations[ZYGOTE] = lambda: zn.jacobian(f, x)[0]
    if "autograd" in peers:
        problem.implementations["autograd"] = lambda: autograd.jacobian(f)(x)
    if "jax" in peers:
        jax = peers["jax"]
        jnp = jax.numpy
        Wj, bj, xj = jnp.asarray(W), jnp.asarray(b), jnp.asarray(x)
        transform = jax.jacfwd if wide else jax.jacrev
        jax_pair(jax, lambda: transform(lambda x: jnp.tanh(Wj @ x + bj)), (xj,), problem, "jax")
    if "torch" in peers:
        torch = peers["torch"]
        Wt, bt, xt = torch.from_numpy(W), torch.from_numpy(b), torch.from_numpy(x)
        transform = torch.func.jacfwd if wide else torch.func.jacrev
        jac = transform(lambda x: torch.tanh(Wt @ x + bt))
        problem.implementations["torch.func"] = lambda: jac(xt).numpy()
    return problem


def rosenbrock_problem(n: int, peers: dict) -> Problem:
    x = numpy.random.default_rng(1).uniform(-1, 1, n)
    problem = Problem(f"H Rosenbrock n={n}", "hessian", n, {})
    problem.implementations[HAND] = lambda: rosenbrock_hessian_by_hand(x)
    problem.implementations[ZYGOTE] = lambda: zn.hessian(rosenbrock_numpy, x)
    add_hessian_peers(problem, rosenbrock_numpy, x, peers)
    return problem


def mlp_hessian_problem(mlp: MLP, peers: dict) -> Problem:
    p = mlp.params
    problem = Problem(f"H MLP loss, {mlp.size} params, batch {mlp.batch}", "hessian", mlp.size, {})
    problem.implementations[HAND] = lambda: mlp.hessian_by_hand(p)
    problem.implementations[ZYGOTE] = lambda: zn.hessian(mlp.loss, p)
    if "autograd" in peers:
        problem.implementations["autograd"] = lambda: autograd.hessian(mlp.loss)(p)
    if "jax" in peers:
        jax = peers["jax"]
        jnp = jax.numpy
        X_jax, Y_jax = jnp.asarray(mlp.X), jnp.asarray(mlp.Y)
        jax_pair(jax, lambda: jax.hessian(lambda p: mlp.loss(p, jnp, X_jax, Y_jax)), (jnp.asarray(p),), problem,
                 "jax")
    if "torch" in peers:
        torch = peers["torch"]
        X_torch, Y_torch = torch.from_numpy(mlp.X), torch.from_numpy(mlp.Y)
        hess = torch.func.hessian(lambda p: mlp.loss(p, torch, X_torch, Y_torch))
        pt = torch.from_numpy(p)
        problem.implementations["torch.func"] = lambda: hess(pt).numpy()
    return problem


def diaghessian_problem(n: int, peers: dict) -> Problem:
    x = numpy.random.default_rng(2).uniform(-2, 2, n)
    problem = Problem(f"diaghessian sum(x^3 sin x) n={n}", "diaghessian", n, {})
    problem.implementations[HAND] = lambda: cube_sine_diagonal_by_hand(x)
    problem.implementations[ZYGOTE] = lambda: zn.diaghessian(cube_sine, x)[0]
    # The peers have no diagonal-only operator: each takes the diagonal of its full Hessian.
    add_hessian_peers(problem, cube_sine, x, peers, diagonal=True)
    return problem


def gradient_problem(mlp: MLP, label: str, peers: dict) -> Problem:
    p = mlp.params
    problem = Problem(f"gradient MLP {label}, {mlp.size} params", "gradient", mlp.size, {})
    problem.implementations[HAND] = lambda: mlp.gradient_by_hand(p)
    problem.implementations[ZYGOTE] = lambda: zn.gradient(mlp.loss, p)[0]
    if "autograd" in peers:
        autograd_gradient = autograd.grad(mlp.loss)
        problem.implementations["autograd"] = lambda: autograd_gradient(p)
    if "jax" in peers:
        jax = peers["jax"]
        jnp = jax.numpy
        X_jax, Y_jax = jnp.asarray(mlp.X), jnp.asarray(mlp.Y)
        jax_pair(jax, lambda: jax.grad(lambda p: mlp.loss(p, jnp, X_jax, Y_jax)), (jnp.asarray(p),), problem, "jax")
    if "torch" in peers:
        torch = peers["torch"]
        X_torch, Y_torch = torch.from_numpy(mlp.X), torch.from_numpy(mlp.Y)
        torch_gradient = torch.func.grad(lambda p: mlp.loss(p, torch, X_torch, Y_torch))
        pt = torch.from_numpy(p)
        problem.implementations["torch.func"] = lambda: torch_gradient(pt).numpy()
    return problem


def suite(quick: bool, peers: dict) -> list[Callable[[], Problem]]:
    small_mlp, medium_mlp = MLP(16, 48, 4), MLP(256, 384, 4)
    problems = [
        lambda: tanh_jacobian_problem(64, 64, peers),
        lambda: tanh_jacobian_problem(256, 256, peers),
        lambda: tanh_jacobian_problem(32, 2048, peers, wide=True),
        lambda: rosenbrock_problem(64, peers),
        lambda: mlp_hessian_problem(small_mlp, peers),
        lambda: diaghessian_problem(1024 if quick else 4096, peers),
        lambda: gradient_problem(small_mlp, "small", peers),
        lambda: gradient_problem(medium_mlp, "medium", peers),
    ]
    if not quick:
        problems[2:2] = [lambda: tanh_jacobian_problem(1024, 1024, peers)]
        problems[5:5] = [lambda: rosenbrock_problem(512, peers)]
    return problems


# ----- timing, agreement, targets -----

def median_seconds(fn: Callable, budget: float, most: int) -> float:
    """The median time of ``fn()`` over as many calls as fit in ``budget`` seconds (3 to ``most``).

    A call slower than the whole budget is timed once.
    """
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    if first > budget:
        return first
    times = []
    started = time.perf_counter()
    while len(times) < most and (len(times) < 3 or time.perf_counter() - started < budget):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def agrees(result, reference) -> bool:
    result, reference = numpy.asarray(result, dtype=float), numpy.asarray(reference, dtype=float)
    scale = max(1.0, float(numpy.max(numpy.abs(reference), initial=0.0)))
    return result.shape == reference.shape and numpy.allclose(result, reference, rtol=1e-7, atol=1e-9 * scale)


def target(problem: Problem, times: dict) -> str:
    """Whether zygote_nb meets its targets on this row, and which one it misses."""
    ours = times[ZYGOTE]
    missed = []
    if problem.kind == "gradient":
        if "autograd" in times and ours > 1.1 * times["autograd"]:
            missed.append(f"{ours / times['autograd']:.2f}x autograd.grad > 1.1x")
    else:
        for peer in ("jax eager", "torch.func"):
            if peer in times and ours >= times[peer]:
                missed.append(f"not faster than {peer}")
        ratio = ours / times[HAND]
        if problem.size >= 512 and ratio > 1.5:
            missed.append(f"{ratio:.1f}x hand > 1.5x")
        if problem.size <= 64 and ratio > 10:
            missed.append(f"{ratio:.1f}x hand > 10x")
    return "met" if not missed else "MISSED: " + "; ".join(missed)


def readable(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def matmul_gflops() -> float:
    a, b = numpy.random.default_rng(0).standard_normal((2, 1024, 1024))
    return 2 * 1024**3 / median_seconds(lambda: a @ b, 1.0, 10) / 1e9


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (under a minute)")
    parser.add_argument("--peers", default="all",
                        help="comma-separated peers to include (autograd,jax,torch), 'all' or 'none'")
    parser.add_argument("--budget", type=float, default=None, help="seconds of timing per implementation and row")
    options = parser.parse_args(argv)
    requested = set(PEERS) if options.peers == "all" else set() if options.peers == "none" else set(
        options.peers.split(","))
    peers = load_peers(requested)
    budget = options.budget if options.budget is not None else (0.05 if options.quick else 1.0)
    most = 5 if options.quick else 25

    print(f"matmul 1024x1024, one thread: {matmul_gflops():.1f} GFLOP/s; numpy {numpy.__version__}, "
          f"autograd {importlib.metadata.version('autograd')}; peers: "
          f"{', '.join(peers) or 'none'}")
    failures = 0
    header = f"{'problem':<42} {'implementation':<16} {'median':>10} {'/ hand':>8}  compile"
    print(header)
    print("-" * len(header))
    summary = []
    for make in suite(options.quick, peers):
        problem = make()
        reference = problem.implementations[HAND]()
        times = {}
        for label, fn in problem.implementations.items():
            if not agrees(fn(), reference):
                print(f"{problem.name:<42} {label:<16} DISAGREES with {HAND}")
                failures += 1
                continue
            times[label] = median_seconds(fn, budget, most)
        for label, seconds in times.items():
            compile_time = problem.compile_times.get(label)
            compile_text = readable(compile_time) if compile_time is not None else ""
            print(f"{problem.name:<42} {label:<16} {readable(seconds):>10} {seconds / times[HAND]:>7.1f}x  "
                  f"{compile_text}")
        if ZYGOTE in times and HAND in times:
            summary.append((problem.name, target(problem, times)))
        print()
    print("targets:")
    for name, verdict in summary:
        print(f"  {name:<42} {verdict}")
    if failures:
        print(f"{failures} implementation(s) disagreed with NumPy by hand")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
