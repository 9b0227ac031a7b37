"""Per-sample gradients: zygote_nb against JAX vmap(grad), torch.func vmap(grad), a loop, and the Jacobian route.

Each row is an MLP with softmax cross-entropy on a batch, written once per
library.  Every implementation first has to agree with per-example gradients
written by hand in NumPy (backprop with the outer products spelled out; exit
status 1 if one disagrees); then all of them are timed *interleaved* — one
call of each in turn, many rounds, the median per implementation — so that a
busy machine slows them alike, and each is reported as a ratio to one batch
gradient (``zn.gradient`` of the batch's mean loss) from the same rounds.

    python benchmarks/per_sample.py              # batch 256, all peers that are installed
    python benchmarks/per_sample.py --quick      # fewer rounds, no loop row: a smoke test
    python benchmarks/per_sample.py --peers none

Peers are optional (``pip install jax``, ``pip install torch``), never dependencies of zygote_nb.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import agrees, load_peers, readable  # noqa: E402  (also pins every library to one thread)

import numpy  # noqa: E402
from autograd.scipy.special import logsumexp  # noqa: E402

import zygote_nb as zn  # noqa: E402
import zygote_nb.numpy as np  # noqa: E402

BATCH_GRADIENT = "one batch gradient"
WRITING_THE_RESULT = "(writing B × parameters floats)"


def problem(inputs: int, hidden: int, classes: int, batch: int, activation: str, seed: int = 0):
    rng = numpy.random.default_rng(seed)
    params = (rng.standard_normal((hidden, inputs)) / numpy.sqrt(inputs), 0.1 * rng.standard_normal(hidden),
              rng.standard_normal((classes, hidden)) / numpy.sqrt(hidden))
    return params, rng.standard_normal((batch, inputs)), rng.integers(0, classes, size=batch)


def activate(h, activation, library):
    if activation == "tanh":
        return library.tanh(h)
    return library.relu(h) if hasattr(library, "relu") else library.maximum(h, 0.0)  # torch.maximum wants tensors


def by_hand(params, x, labels, activation):
    """Per-example gradients by backprop in NumPy, the outer products written out: the reference."""
    W1, b1, W2 = params
    pre = x @ W1.T + b1
    hidden = activate(pre, activation, numpy)
    scores = hidden @ W2.T
    probabilities = numpy.exp(scores - scores.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    error = probabilities
    error[numpy.arange(len(labels)), labels] -= 1.0
    hidden_error = (error @ W2) * (1.0 - hidden**2 if activation == "tanh" else (pre > 0))
    return (hidden_error[:, :, None] * x[:, None, :], hidden_error, error[:, :, None] * hidden[:, None, :])


def example_loss(activation):
    def loss(params, x, label):
        W1, b1, W2 = params
        scores = W2 @ activate(W1 @ x + b1, activation, np)
        return logsumexp(scores) - scores[label]

    return loss


def implementations(params, x, labels, activation, peers, loop):
    loss = example_loss(activation)
    batch = len(labels)

    def batch_losses(p):
        W1, b1, W2 = p
        scores = activate(x @ W1.T + b1, activation, np) @ W2.T
        return logsumexp(scores, axis=1) - scores[numpy.arange(batch), labels]

    size = batch * sum(p.size for p in params)
    rows = {
        BATCH_GRADIENT: lambda: zn.gradient(lambda p: np.mean(batch_losses(p)), params)[0],
        # The floor every library pays: B copies of the parameters' size written to fresh memory.
        WRITING_THE_RESULT: lambda: numpy.full(size, 1.0),
        "zygote_nb per_sample_gradients": lambda: zn.per_sample_gradients(loss, params, x, labels),
        "zygote_nb jacobian of the losses": lambda: tuple(
            block.reshape((batch,) + p.shape) for block, p in zip(zn.jacobian(lambda *p: batch_losses(p), *params), params)),
    }
    if loop:
        rows["zygote_nb loop of gradient"] = lambda: tuple(numpy.stack(parts) for parts in zip(
            *(zn.gradient(loss, params, x[b], labels[b])[0] for b in range(batch))))
    if "jax" in peers:
        rows.update(jax_rows(peers["jax"], params, x, labels, activation))
    if "torch" in peers:
        rows.update(torch_rows(peers["torch"], params, x, labels, activation))
    return rows


def jax_rows(jax, params, x, labels, activation):
    jnp = jax.numpy

    def loss(p, point, label):
        W1, b1, W2 = p
        scores = W2 @ activate(W1 @ point + b1, activation, jnp)
        return jax.scipy.special.logsumexp(scores) - scores[label]

    per_sample = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))
    compiled = jax.jit(per_sample)
    arguments = (tuple(jnp.asarray(p) for p in params), jnp.asarray(x), jnp.asarray(labels))
    compiled(*arguments)[0].block_until_ready()

    def run(function):
        return lambda: tuple(numpy.asarray(part) for part in jax.block_until_ready(function(*arguments)))

    return {"JAX vmap(grad) eager": run(per_sample), "JAX vmap(grad) jit": run(compiled)}


def torch_rows(torch, params, x, labels, activation):
    from torch.func import grad, vmap

    def loss(p, point, label):
        W1, b1, W2 = p
        scores = W2 @ activate(W1 @ point + b1, activation, torch)
        return torch.logsumexp(scores, 0) - scores.gather(0, label.reshape(1))[0]  # vmap cannot index by a tensor

    arguments = (tuple(torch.from_numpy(p) for p in params), torch.from_numpy(x), torch.from_numpy(labels))
    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))
    return {"torch.func vmap(grad)": lambda: tuple(part.numpy() for part in per_sample(*arguments))}


def interleaved_medians(rows: dict, rounds: int) -> dict:
    times = {label: [] for label in rows}
    for _ in range(rounds):
        for label, function in rows.items():
            start = time.perf_counter()
            function()
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, and no Python loop row")
    parser.add_argument("--peers", default="jax,torch", help="comma-separated: jax, torch, or none")
    parser.add_argument("--batch", type=int, default=256)
    options = parser.parse_args(argv)
    peers = load_peers(set(options.peers.split(",")) - {"none"})
    shapes = [(64, 128, 10, "tanh"), (64, 128, 10, "relu"), (256, 256, 10, "tanh")]
    failed = False
    for inputs, hidden, classes, activation in shapes:
        params, x, labels = problem(inputs, hidden, classes, options.batch, activation)
        rows = implementations(params, x, labels, activation, peers, loop=not options.quick)
        reference = by_hand(params, x, labels, activation)
        for label, function in rows.items():
            if label not in (BATCH_GRADIENT, WRITING_THE_RESULT) and not all(agrees(a, b) for a, b in zip(function(), reference)):
                print(f"DISAGREES: {label}")
                failed = True
        medians = interleaved_medians(rows, 5 if options.quick else 30)
        base = medians[BATCH_GRADIENT]
        print(f"\nMLP {inputs}-{hidden}-{classes} {activation}, softmax cross-entropy, batch {options.batch}")
        print(f"| implementation | median | / one batch gradient |\n|---|---|---|")
        for label, seconds in medians.items():
            print(f"| {label} | {readable(seconds)} | {seconds / base:.2f}x |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
