"""``per_sample_gradients``: every example's own gradient, from the loss of one example, in one sweep.

JAX writes ``vmap(grad(loss), in_axes=(None, 0, 0))``; here the two steps are
one call.  The loss of one example is traced once
(:mod:`~zygote_nb.per_sample.trace`), replayed on the whole batch with the
parameters shared by every example, and pulled back once
(:mod:`~zygote_nb.per_sample.replay`); the batch goes through in chunks that
fit the memory budget (:mod:`~zygote_nb.engine.memory`).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy
from autograd.tracer import isbox

from .. import structure
from ..substitution import substituted
from ..engine.memory import FLOAT_BYTES, budget_or_default, require_fits, rows_per_chunk
from .replay import replay
from .trace import trace_one_sample


def per_sample_gradients(f: Callable, params: Any, *data: Any, axis: int = 0,
                         memory_budget: int | None = None) -> Any:
    """The gradient of each example's loss with respect to ``params``, stacked along a new first axis.

    ``f(params, *one_sample)`` is the real scalar loss of one example; ``data``
    (arrays, or tuples, lists and dicts of them) hold the examples along
    ``axis``; integer data such as class labels index traced arrays as usual
    (``log_probabilities[label]``).  The result has the structure of ``params``
    with a leading batch axis on every array; for a
    :class:`~zygote_nb.params.Params` (the loss then reads the arrays where they
    live) it is a :class:`~zygote_nb.params.Grads` of such arrays.  A parameter
    the loss does not use gets ``None``.

    Vectorised: one forward and one backward sweep over the batch, with the
    parameters shared, not one gradient per example; ``memory_budget`` (bytes,
    default half the available memory) bounds each chunk of examples.  The
    mean over the batch is the gradient of the mean loss.

    >>> import numpy, zygote_nb as zn, zygote_nb.numpy as np
    >>> w = numpy.array([1.0, -1.0])
    >>> x = numpy.array([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]])
    >>> y = numpy.array([0.0, 1.0, 2.0])
    >>> per_sample_gradients(lambda w, x, y: (np.dot(w, x) - y) ** 2, w, x, y)
    array([[-2., -4.],
           [12.,  0.],
           [ 0., -6.]])
    """
    from .. import Grads, IdDict, Params

    if not callable(f):
        raise TypeError(f"per_sample_gradients needs the loss of one example as a function, got "
                        f"{type(f).__name__}: e.g. per_sample_gradients(lambda w, x, y: ..., w, xs, ys)")
    if not data:
        raise TypeError("per_sample_gradients needs the batched data after the parameters: "
                        "per_sample_gradients(f, params, xs, ys)")
    data_leaves, data_trees = structure.flatten_arguments(data)
    implicit = isinstance(params, Params)
    if implicit:
        parameter_leaves = list(params)
        rebuild = _substituting(f, params, data_trees)
    else:
        parameter_leaves, parameter_tree = structure.flatten(params)

        def rebuild(parameters, examples):
            return (parameter_tree.rebuild(parameters),
                    *structure.per_argument(data_trees, examples, structure.Tree.rebuild))

    _require_plain(parameter_leaves, data_leaves)
    batches = _batched(data_leaves, axis)
    gradients = _gradients(f if not implicit else (lambda *arguments: arguments[0]()),
                           parameter_leaves, batches, rebuild, budget_or_default(memory_budget))
    if implicit:
        return Grads(params, IdDict((param, gradient) for param, gradient in zip(params, gradients)
                                    if gradient is not None))
    return parameter_tree.gradient(gradients)


def _require_plain(parameter_leaves: list, data_leaves: list) -> None:
    """Real, untraced values only: the replay evaluates with plain NumPy, outside any other differentiation."""
    if any(isbox(leaf) for leaf in parameter_leaves + data_leaves):
        raise TypeError("per_sample_gradients cannot run inside another differentiation (its values are traced): "
                        "call it on plain arrays, e.g. outside zn.gradient")
    if any(numpy.iscomplexobj(leaf) for leaf in parameter_leaves):
        raise TypeError("per_sample_gradients differentiates real parameters: split a complex one into its real "
                        "and imaginary parts")


def _batched(leaves: list, axis: int) -> list:
    """Each data leaf with its examples along axis 0; every leaf must hold the same number of them."""
    if not leaves:
        raise TypeError("per_sample_gradients found no numbers or arrays in the data: pass the examples as arrays")
    batches = []
    for leaf in leaves:
        array = numpy.asarray(leaf)
        if array.ndim <= axis:
            raise ValueError(f"per_sample_gradients: a data array of shape {array.shape} has no axis {axis} to "
                             "batch along: pass axis= the examples' axis")
        batches.append(numpy.moveaxis(array, axis, 0))
    sizes = {batch.shape[0] for batch in batches}
    if len(sizes) != 1:
        raise ValueError(f"per_sample_gradients: the data hold different numbers of examples along axis {axis} "
                         f"({sorted(sizes)}): give every data array the same batch size")
    if 0 in sizes:
        raise ValueError("per_sample_gradients got an empty batch: pass at least one example")
    return batches


def _substituting(f: Callable, params: Any, data_trees: list) -> Callable:
    """For a Params: ``f(params, *example)`` run with the parameters' stand-ins put where the loss reads them."""
    def rebuild(parameters, examples):
        arguments = structure.per_argument(data_trees, examples, structure.Tree.rebuild)

        def loss():
            with substituted(f, params, parameters) as found:
                if len(params) and not any(found):
                    raise ValueError("per_sample_gradients: none of the Params is reachable from f (its globals, "
                                     "closure, or the objects these hold): pass the arrays as params instead")
                return f(params, *arguments)

        return (loss,)

    return rebuild


def _gradients(f: Callable, parameter_leaves: list, batches: list, rebuild: Callable, budget: int) -> list:
    batch = batches[0].shape[0]
    graph = trace_one_sample(f, parameter_leaves, [data[0] for data in batches], rebuild)
    if graph.output is None:
        return [None] * len(parameter_leaves)
    if graph.output.shape != ():
        raise ValueError(f"per_sample_gradients: f returned an array of shape {graph.output.shape} for one example; "
                         "it must return that example's scalar loss")
    parameter_size = sum(math.prod(numpy.shape(leaf)) for leaf in parameter_leaves)
    require_fits("per_sample_gradients", (batch, parameter_size), budget)
    # Each example keeps its intermediate values and cotangents, and its parameters' cotangents.
    bytes_per_example = FLOAT_BYTES * (2 * sum(math.prod(node.shape) for node in graph.nodes) + 2 * parameter_size)
    chunk = rows_per_chunk(bytes_per_example, budget)
    chunks = [replay(graph, parameter_leaves, [data[start:start + chunk] for data in batches])
              for start in range(0, batch, chunk)]
    _check_last_example(f, parameter_leaves, batches, rebuild, chunks[-1][0][-1])
    if len(chunks) == 1:
        return chunks[0][1]
    return [None if parts[0] is None else numpy.concatenate(parts)
            for parts in zip(*(gradients for _, gradients in chunks))]


def _check_last_example(f, parameter_leaves, batches, rebuild, replayed_loss) -> None:
    """The replay's loss for the last example against ``f`` run on it plainly: the trace stood for it too."""
    direct = f(*rebuild(parameter_leaves, [data[-1] for data in batches]))
    if not numpy.allclose(direct, replayed_loss, rtol=1e-9, atol=1e-12):
        raise ValueError(f"per_sample_gradients: replaying the first example's trace gives loss {replayed_loss!r} for "
                         f"the last example, but f gives {direct!r}: f computes differently for different examples "
                         "(a shape or a Python decision taken from the data); make it the same operations for all")
