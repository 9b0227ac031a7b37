"""Trace one example's loss once, as a graph that can be replayed for a whole batch.

``f(params, *one_sample)`` runs with every parameter and every data leaf in an
autograd box, so that each primitive call records a :class:`SampleNode`: the
primitive, its arguments, which of them were traced and by which nodes.  The
graph is the same for every example as long as ``f`` takes no Python decision
from a sample's value, so it is recorded on the first example and replayed on
all of them (:mod:`zygote_nb.per_sample.replay`).

A decision taken from a sample's value (``if x > 0:``, ``int(y)``, an index
into a plain array such as ``np.eye(10)[y]``) would bake that one example's
answer into the graph; the trace refuses it with an error naming the rewrite.
Integer data (class labels) are traced as 0-d or n-d integer arrays, which
index traced arrays (``log_probabilities[y]``) and refuse to index plain ones.

>>> import numpy, autograd.numpy as anp
>>> graph = trace_one_sample(lambda params, x: anp.sum(anp.tanh(params[0] * x)),
...                          [numpy.ones(3)], [numpy.zeros(3)])
>>> [node.fun.__name__ for node in graph.nodes]
['multiply', 'tanh', 'sum']
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import autograd.numpy as anp
import numpy
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.tracer import Box, Node, isbox, trace_stack

from ..autograd_patches import guarded_trace, own_traces, register_untraced
from .rules import indexed

_clock = itertools.count()


class SampleNode(Node):
    """One primitive call of the traced example: enough to call it again on a batch.

    ``argnums`` are the positions of the traced arguments and ``parents`` their
    nodes; ``shape`` is the output's shape for one example; ``from_data`` says
    whether the output depends on the example (and not on the parameters alone).
    """

    __slots__ = ("fun", "args", "kwargs", "argnums", "parents", "shape", "from_data", "order")

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        self.fun, self.args, self.kwargs = fun, args, kwargs
        self.argnums, self.parents = parent_argnums, parents
        self.shape = numpy.shape(value)
        self.from_data = any(parent.from_data for parent in parents)
        self.order = next(_clock)

    def initialize_root(self, from_data: bool, shape: tuple):
        self.fun, self.args, self.kwargs, self.argnums, self.parents = None, (), {}, (), ()
        self.shape, self.from_data, self.order = shape, from_data, next(_clock)


# Comparisons stay traced in these graphs (a mask must be batched too), but what depends only on
# shapes and dtypes is the same for every example: a constant, never a node nor a decision.
register_untraced(SampleNode, [anp.size, anp.isrealobj, anp.isscalar, anp.promote_types, anp.can_cast,
                               anp.broadcast_shapes, anp.common_type])


@dataclass
class SampleGraph:
    """The trace of one example: root nodes for the parameter and data leaves, the loss node, the nodes between."""

    parameter_roots: list
    data_roots: list
    output: SampleNode | None
    nodes: list  # every node the loss depends on, in the order they ran (roots excluded)


class SampleDecisionError(TypeError):
    """``f`` turned a sample's traced value into a Python value, so one trace cannot stand for every example."""


def trace_one_sample(f: Callable, parameter_leaves: list, data_leaves: list,
                     rebuild: Callable | None = None) -> SampleGraph:
    """Run ``f`` once on traced parameter and data leaves (``rebuild`` turns them into ``f``'s arguments)."""
    rebuild = rebuild or (lambda parameters, data: (parameters, *data))
    with trace_stack.new_trace() as level:
        parameter_roots = [SampleNode.new_root(False, numpy.shape(leaf)) for leaf in parameter_leaves]
        data_roots = [SampleNode.new_root(True, numpy.shape(leaf)) for leaf in data_leaves]
        parameters = [_box(leaf, level, root) for leaf, root in zip(parameter_leaves, parameter_roots)]
        data = [_box(_as_array(leaf), level, root) for leaf, root in zip(data_leaves, data_roots)]
        with guarded_trace(level, _refuse_sample_decision, _indexed_by_tuple), own_traces():
            output = f(*rebuild(parameters, data))
    if isbox(output) and output._trace == level:
        end = output._node
        nodes = sorted(_ancestors(end), key=lambda node: node.order)
    else:
        end, nodes = None, []
    return SampleGraph(parameter_roots, data_roots, end, [node for node in nodes if node.fun is not None])


def _as_array(leaf: Any) -> Any:
    # A label is traced as a 0-d integer array, not as an IndexBox: an IndexBox would quietly
    # become the first example's number when it indexes a plain array.
    return numpy.asarray(leaf) if numpy.ndim(leaf) == 0 else leaf


def _box(value: Any, level: int, node: SampleNode) -> Any:
    if isinstance(value, numpy.ndarray):
        return ArrayBox(value, level, node)
    return Box.type_mappings[type(value)](value, level, node)


def _ancestors(end: SampleNode) -> Iterator[SampleNode]:
    seen, stack = {end}, [end]
    while stack:
        node = stack.pop()
        yield node
        for parent in node.parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)


def _refuse_sample_decision(box: Any, method_name: str) -> None:
    """The per-sample policy for :func:`~zygote_nb.autograd_patches.guarded_trace`: a value that depends on the
    example may not leave the trace; one computed from the parameters alone may."""
    if not box._node.from_data:
        return
    if method_name == "__array__":
        raise SampleDecisionError(
            "per_sample_gradients: NumPy read a sample's traced value as a plain array (numpy.asarray(x), or an "
            "index into a plain array such as np.eye(n)[y]), which one trace cannot replay for every example; "
            "use zygote_nb.numpy.asarray, and index traced arrays: log_probabilities[y] for "
            "np.eye(n)[y] @ log_probabilities")
    raise SampleDecisionError(
        f"per_sample_gradients: f took a Python decision from a sample's value ({method_name} of a traced "
        "value: an if/while on it, int()/float(), or an index into a plain array) and one trace cannot "
        "stand for every example; write it with traced operations, e.g. np.where(x > 0, a, b) for an "
        "if, log_probabilities[y] for np.eye(n)[y] @ log_probabilities")


def _indexed_by_tuple(array: Any, index: tuple) -> Any:
    # autograd's indexing would read the traced parts as the first example's numbers.
    return indexed(array, *index)
