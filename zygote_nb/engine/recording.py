"""One forward run kept as a graph of :class:`~zygote_nb.pullback.RecordedNode`, to be swept many times.

:func:`record` traces ``f(*args)`` exactly as :func:`~zygote_nb.pullback.pullback`
does, and keeps what ``pullback`` hides in its closure: the root node of each
argument leaf, the node of each output leaf, and the :class:`Trace` whose
listeners (``showgrad``) hear each backward pass.  :meth:`Recording.back` is
``pullback``'s ``back``; the engine's batched passes read the same nodes.

>>> import numpy, autograd.numpy as anp
>>> recording = record(lambda x, label: anp.tanh(x) * 2, numpy.zeros(2), "name")
>>> recording.value
array([0., 0.])
>>> recording.back(numpy.ones(2))
(array([2., 2.]), None)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from autograd.tracer import isbox, new_box, toposort, trace_stack

from .. import structure
from ..pullback import (RecordedNode, Trace, _as_gradient_of, _flatten_arguments, _open_traces,
                        _rebuild_arguments, _rebuild_gradients, _traceable, _unbox, backward)


@dataclass
class Recording:
    """The trace of one call ``f(*args)``.

    ``leaves`` are the differentiable leaves of ``args`` (see
    :mod:`zygote_nb.structure`) and ``trees`` rebuild the arguments from them;
    ``roots[i]`` is the node standing for ``leaves[i]``; ``ends`` pairs the
    index of each traced output leaf with its node.
    """

    value: Any
    leaves: list
    trees: list
    roots: list
    ends: list
    output_tree: structure.Tree
    trace: Trace

    def back(self, cotangent: Any) -> tuple:
        """The gradient of every argument for one output cotangent, as ``pullback``'s ``back``."""
        cotangent_leaves = self.output_tree.leaves_of(cotangent)
        seeds = [(node, cotangent_leaves[index]) for index, node in self.ends
                 if cotangent_leaves[index] is not None]
        with self.trace.backward_pass():
            root_gradients = backward(seeds, self.roots)
        gradients = [_as_gradient_of(leaf, gradient) for leaf, gradient in zip(self.leaves, root_gradients)]
        return _rebuild_gradients(self.trees, gradients)

    def argument_leaf(self, position: int) -> int | None:
        """The leaf index of argument ``position`` when that argument is itself a leaf (a number or array)."""
        start = sum(tree.leaf_count() for tree in self.trees[:position])
        return start if self.trees[position].kind == "leaf" else None

    def nodes(self) -> list:
        """Every node that an output depends on, outputs first (reverse topological order)."""
        return reverse_order([node for _, node in self.ends])


def reverse_order(end_nodes: list) -> list:
    """The nodes behind ``end_nodes``, each after every node that uses it (the order of a backward pass)."""
    if not end_nodes:
        return []
    sink = RecordedNode.new_root()
    sink.parents = list(dict.fromkeys(end_nodes))
    return [node for node in toposort(sink) if node is not sink]


def record(f: Callable, *args: Any) -> Recording:
    """Run ``f(*args)`` with every number and array leaf of ``args`` traced; keep the graph."""
    leaves, trees = _flatten_arguments(args)
    with trace_stack.new_trace() as level:
        roots = [RecordedNode.new_root() for _ in leaves]
        boxed = [new_box(_traceable(leaf), level, root) for leaf, root in zip(leaves, roots)]
        trace = Trace(level)
        _open_traces.append(trace)
        try:
            output = f(*_rebuild_arguments(trees, boxed))
        finally:
            _open_traces.remove(trace)
    output_leaves, output_tree = structure.flatten(output)
    ends = [(index, leaf._node) for index, leaf in enumerate(output_leaves)
            if isbox(leaf) and leaf._trace == level]
    value = output_tree.rebuild([_unbox(leaf, level) for leaf in output_leaves])
    return Recording(value, leaves, trees, roots, ends, output_tree, trace)
