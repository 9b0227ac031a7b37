"""Replay one example's trace on a whole batch, then pull every example's cotangent back at once.

The forward sweep evaluates each node of the :class:`~zygote_nb.per_sample.trace.SampleGraph`
on batched arguments (:mod:`zygote_nb.per_sample.rules`); the parameters enter as
zero-stride copies, one per example, that share the parameter's memory.  The
backward sweep starts from a cotangent of one for every example's loss — the
gradient of the *sum* of the losses with respect to those copies — so the
cotangent that reaches row ``b`` of a parameter's copy is the gradient of
example ``b``'s loss alone.  One forward and one backward sweep over the
batch, as for one gradient; only the parameters' cotangents are ``B`` times
larger.

A primitive without a batching rule is called, with its own VJP, once per
example: correct, and only that node pays the loop.

>>> import numpy, autograd.numpy as anp
>>> from zygote_nb.per_sample.trace import trace_one_sample
>>> graph = trace_one_sample(lambda params, x: anp.sum(params[0] * x) ** 2, [numpy.ones(2)], [numpy.ones(2)])
>>> losses, (gradients,) = replay(graph, [numpy.ones(2)], [numpy.array([[1.0, 0.0], [1.0, 2.0]])])
>>> losses
array([1., 9.])
>>> gradients
array([[ 2.,  0.],
       [ 6., 12.]])
"""

from __future__ import annotations

from typing import Any

import numpy

from ..autograd_patches import SparseObject, own_vjps, primitive_vjps
from .rules import batched_call


def replay(graph, parameter_leaves: list, data_batches: list) -> tuple[numpy.ndarray, list]:
    """``(losses, gradients)``: every example's loss, and each parameter leaf's ``(B,) + shape`` gradients.

    ``data_batches`` hold the examples along axis 0.  A parameter the loss does not depend on gets ``None``.
    """
    batch = numpy.shape(data_batches[0])[0]
    values: dict = {}
    for root, leaf in zip(graph.parameter_roots, parameter_leaves):
        values[root] = numpy.broadcast_to(leaf, (batch,) + numpy.shape(leaf))
    for root, data in zip(graph.data_roots, data_batches):
        values[root] = data
    pulls = {}
    for node in graph.nodes:
        args = list(node.args)
        for argnum, parent in zip(node.argnums, node.parents):
            args[argnum] = values[parent]
        result = batched_call(node, args)
        values[node], pulls[node] = one_by_one(node, args, batch) if result is NotImplemented else result
    losses = numpy.asarray(values[graph.output]).reshape(batch)
    cotangents = _backward(graph, values, pulls, batch)
    return losses, [cotangents.get(root) for root in graph.parameter_roots]


def _backward(graph, values: dict, pulls: dict, batch: int) -> dict:
    """Cotangents of every node on a path to a parameter, from a one for each example's loss."""
    toward_parameters = set(graph.parameter_roots)
    for node in graph.nodes:
        if any(parent in toward_parameters for parent in node.parents):
            toward_parameters.add(node)
    cotangents = {graph.output: numpy.ones(numpy.shape(values[graph.output]))}
    for node in reversed(graph.nodes):
        cotangent = cotangents.pop(node, None)
        if cotangent is None:
            continue
        wanted = [(argnum, parent) for argnum, parent in zip(node.argnums, node.parents)
                  if parent in toward_parameters and numpy.result_type(values[parent]).kind in "fc"]
        if not wanted:
            continue
        parts = pulls[node](cotangent, tuple(argnum for argnum, _ in wanted))
        for (_, parent), part in zip(wanted, parts):
            part = _dense(part)
            previous = cotangents.get(parent)
            cotangents[parent] = part if previous is None else previous + part
    return cotangents


def _dense(part: Any) -> Any:
    # autograd's VJP of indexing returns a sparse "add these entries" object.
    if isinstance(part, SparseObject):
        return part.mut_add(numpy.zeros(part.vs.shape, part.vs.dtype))
    return part


def one_by_one(node, args: list, batch: int) -> tuple:
    """The fallback for a primitive without a batching rule: its call and its VJP once per example."""

    def example(b):
        return [arg[b] if argnum in node.argnums else arg for argnum, arg in enumerate(args)]

    rows = [node.fun.fun(*example(b), **node.kwargs) for b in range(batch)]
    value = numpy.stack(rows)

    def pull(cotangent, argnums):
        vjp_maker = own_vjps.get(node.fun) or primitive_vjps.get(node.fun)
        if vjp_maker is None:
            name = getattr(node.fun, "__name__", node.fun)
            raise NotImplementedError(f"per_sample_gradients: {name} has no derivative rule; "
                                      "define one with autograd.extend.defvjp, or avoid it on the path to the loss")
        per_example = [[_dense(part) for part in vjp_maker(argnums, rows[b], example(b), node.kwargs)(cotangent[b])]
                       for b in range(batch)]
        return [numpy.stack([parts[i] for parts in per_example]) for i in range(len(argnums))]

    return value, pull
