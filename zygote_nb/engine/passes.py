"""The two sweeps over a recorded graph, each carrying a whole batch of rows.

:func:`pull_back` is reverse mode: cotangent batches flow from the outputs to
the roots, as in :func:`zygote_nb.pullback.backward`, but every node passes
``batch_size`` cotangents at once.  :func:`push_forward` is forward mode: tangent
batches flow from the roots to the outputs.

At each node a batch rule from :mod:`zygote_nb.engine.rules` does the work.
A primitive without one (or a call form its rule declines) falls back to the
node's own derivative, called once per row: ``node.vjp`` in reverse mode, the
primitive's forward rule in forward mode (zygote_nb's own, else autograd's:
:func:`~zygote_nb.autograd_patches.jvp_maker_of`).  The fallback is what keeps
instrumentation honest: a ``showgrad`` or ``hook`` primitive has no batch
rule, so its own VJP runs once per row, exactly as in a row-by-row Jacobian.

>>> import numpy, autograd.numpy as anp
>>> from zygote_nb.pullback import record
>>> from zygote_nb.engine.batch import identity
>>> recording = record(lambda x: anp.sin(x) * 2.0, numpy.zeros(3))
>>> (end,) = [node for _, node in recording.ends]
>>> pull_back(recording.nodes(), {end: identity((3,), 0, 3)}, recording.roots, 3)[0].dense()
array([[2., 0., 0.],
       [0., 2., 0.],
       [0., 0., 2.]])
"""

from __future__ import annotations

from typing import Any

import numpy

from ..autograd_patches import SparseObject, jvp_maker_of, own_traces
from .batch import add, dense
from .rules import COTANGENT_RULES, TANGENT_RULES, value_shape


@own_traces()
def pull_back(order: list, seeds: dict, roots: list, batch_size: int, dense_nodes: list | None = None) -> list:
    """Cotangent batches of ``roots`` (``None`` where none arrives) from ``{node: batch}`` seeds.

    ``order`` lists the nodes outputs first (:meth:`~zygote_nb.pullback.Recording.nodes`).
    Each node that sent a dense array back (not a banded batch) is appended
    to ``dense_nodes``, if given: the chunking in :mod:`~zygote_nb.engine.batched`
    asks how much of a sweep's cost grows with the batch.
    """
    cotangents = dict(seeds)
    root_index = {root: index for index, root in enumerate(roots)}
    gradients: list = [None] * len(roots)
    for node in order:
        cotangent = cotangents.pop(node, None)
        if cotangent is None:
            continue
        if node in root_index:
            gradients[root_index[node]] = cotangent
            continue
        parent_cotangents = _node_cotangents(node, cotangent, batch_size)
        if dense_nodes is not None and any(isinstance(part, numpy.ndarray) for part in parent_cotangents):
            dense_nodes.append(node)
        for parent, parent_cotangent in zip(node.parents, parent_cotangents):
            if parent_cotangent is not None:
                cotangents[parent] = add(cotangents.get(parent), parent_cotangent)
    return gradients


def _node_cotangents(node, cotangent: Any, batch_size: int) -> list:
    rule = COTANGENT_RULES.get(node.fun)
    if rule is not None:
        batched = [rule(node, argnum, cotangent) for argnum in node.argnums]
        if not any(result is NotImplemented for result in batched):
            return batched
    cotangent = dense(cotangent)  # here, not in _row: a banded batch would be expanded again for every row
    rows = [list(node.vjp(_row(cotangent, index))) for index in range(batch_size)]
    return [_stack([row[position] for row in rows], node.args[argnum]) for position, argnum in enumerate(node.argnums)]


@own_traces()
def push_forward(order: list, root_tangents: dict, ends: list, batch_size: int,
                 dense_nodes: list | None = None) -> dict:
    """Tangent batches of the ``ends`` nodes from ``{root: batch}``; an end that none reaches is left out.

    ``order`` lists the nodes outputs first, as for :func:`pull_back`; a tangent
    is dropped as soon as every node that uses it has been computed.  Nodes
    whose tangent is a dense array are appended to ``dense_nodes``, as for
    :func:`pull_back`.
    """
    tangents = dict(root_tangents)
    forward = list(reversed(order))
    uses: dict = {}
    for node in forward:
        for parent in node.parents:
            uses[parent] = uses.get(parent, 0) + 1
    kept = set(ends)
    for node in forward:
        incoming = {argnum: tangents[parent] for argnum, parent in zip(node.argnums, node.parents)
                    if parent in tangents}
        if incoming and node not in tangents:
            tangent = _node_tangent(node, incoming, batch_size)
            if tangent is not None:
                tangents[node] = tangent
                if dense_nodes is not None and isinstance(tangent, numpy.ndarray):
                    dense_nodes.append(node)
        for parent in node.parents:
            uses[parent] -= 1
            if uses[parent] == 0 and parent not in kept:
                tangents.pop(parent, None)
    return {node: tangents[node] for node in ends if node in tangents}


def _node_tangent(node, incoming: dict, batch_size: int) -> Any:
    rule = TANGENT_RULES.get(node.fun)
    if rule is not None:
        tangent = rule(node, incoming)
        if tangent is not NotImplemented:
            return tangent
    argnums = tuple(incoming)
    jvp_maker = jvp_maker_of(node.fun, argnums)
    batches = [dense(incoming[argnum]) for argnum in argnums]  # expanded once, as in _node_cotangents
    rows = [jvp_maker(argnums, [_row(batch, index) for batch in batches], node.value, node.args, node.kwargs)
            for index in range(batch_size)]
    return _stack(rows, node.value)


def _row(batch: Any, index: int) -> Any:
    """Row ``index`` of a batch (of each part of a tuple batch)."""
    if isinstance(batch, tuple):
        return tuple(_row(part, index) for part in batch)
    return batch[index]


def _as_dense(value: Any) -> Any:
    """An ordinary array for autograd's ``SparseObject`` (the cotangent of an indexing), else ``value``."""
    if isinstance(value, SparseObject):
        return value.mut_add(value.vs.zeros())
    return value


def _stack(rows: list, like: Any) -> Any:
    """One batch from per-row results (``None`` rows are zeros) for a value shaped like ``like``."""
    rows = [_as_dense(row) for row in rows]
    sample = next((row for row in rows if row is not None), None)
    if sample is None:
        return None
    if isinstance(sample, (tuple, list)):
        parts = like if isinstance(like, (tuple, list)) else sample
        return tuple(_stack([None if row is None else row[position] for row in rows], parts[position])
                     for position in range(len(sample)))
    shape = value_shape(like)
    dtype = numpy.result_type(float, numpy.asarray(sample))
    return numpy.stack([numpy.zeros(shape, dtype) if row is None else numpy.reshape(numpy.asarray(row, dtype), shape)
                        for row in rows])
