"""The one mechanism: trace a function once, then pull cotangents back through it.

Every differential operator of zygote_nb is a short composition of
:func:`pullback`, as in Zygote.jl.  ``pullback(f, *args)`` runs ``f`` with each
number and array of ``args`` wrapped in an autograd box, so that every primitive
operation records a :class:`RecordedNode`; it returns the output and a function
``back`` that takes a cotangent for the output and walks the recorded nodes in
reverse topological order, giving one gradient per argument (``None`` where the
output does not depend on it).

>>> import zygote_nb.numpy as np
>>> value, back = pullback(lambda x, y: np.sum(x * y), np.array([1.0, 2.0]), 3.0)
>>> value
9.0
>>> back(1.0)
(array([3., 3.]), 3.0)
"""

from __future__ import annotations

import heapq
import itertools
import sys
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Iterator

import autograd.numpy as traced_numpy
import numpy
from autograd.tracer import getval, isbox, new_box, trace_stack

from . import array_library, structure
from .autograd_patches import VJPNode, add_outgrads, enter_own_trace, leave_own_trace, own_traces, register_node_type, \
    vjp_maker_of
from .frames import user_position
from .params import Params

# Callbacks that see every node as it is recorded (the gradient-flow view uses this).
node_observers: list[Callable[["RecordedNode"], None]] = []


# Numbers the nodes in the order they are recorded (see latest_first).
_recording_clock = itertools.count()


class RecordedNode(VJPNode):
    """One primitive call in a trace: its VJP, and the call itself kept for replay and display.

    ``place`` is ``(code, instruction offset)`` in the user's code that made the call, where a warning
    that its derivative rule raises is shown (see :mod:`zygote_nb.user_warnings`).
    """

    __slots__ = ("fun", "args", "kwargs", "argnums", "value", "order", "place")

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        # VJPNode.__init__, inlined: this runs for every primitive call of every trace.
        try:
            self.vjp = _make_vjp(fun, parent_argnums, value, args, kwargs)
        except (NotImplementedError, KeyError):
            # An integer argument used as an index, axis, shape or count carries no gradient for that use;
            # a call that only such arguments reach (np.zeros(n), np.arange(n)) makes a constant.
            kept = [(argnum, parent) for argnum, parent in zip(parent_argnums, parents)
                    if not _is_integer(args[argnum])]
            if len(kept) == len(parents):
                raise
            parent_argnums = tuple(argnum for argnum, _ in kept)
            parents = tuple(parent for _, parent in kept)
            self.vjp = _make_vjp(fun, parent_argnums, value, args, kwargs) if parents else _no_cotangents
        self.parents = parents
        self.fun, self.args, self.kwargs = fun, args, kwargs
        self.argnums, self.value = parent_argnums, value
        self.order = next(_recording_clock)
        self.place = user_position(sys._getframe(2))  # past autograd's primitive wrapper, which made this node
        if node_observers:
            for observer in node_observers:
                observer(self)

    def initialize_root(self):
        super().initialize_root()
        self.fun, self.args, self.kwargs, self.argnums, self.value, self.place = None, (), {}, (), None, None
        self.order = next(_recording_clock)


register_node_type(RecordedNode)


def _make_vjp(fun, parent_argnums, value, args, kwargs) -> Callable:
    return vjp_maker_of(fun, parent_argnums)(parent_argnums, value, args, kwargs)


def _no_cotangents(cotangent: Any) -> tuple:
    return ()


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, numpy.integer)) and not isinstance(value, bool)


class Trace:
    """One forward run under :func:`pullback`, and the listeners of its backward passes.

    ``showgrad`` registers a listener here to learn when a backward pass starts
    and ends, so that it can report ``None`` for a value that got no gradient.
    """

    def __init__(self, level: int):
        self.level = level
        self.pass_listeners: list = []
        self.rows = 1

    def backward_pass(self, rows: int = 1) -> ContextManager:
        """A block in which one backward pass runs (``rows`` cotangents at once in a batched sweep).

        The listeners hear it start and end.
        """
        self.rows = rows
        return self._heard_pass() if self.pass_listeners else nullcontext()

    @contextmanager
    def _heard_pass(self) -> Iterator[None]:
        for listener in self.pass_listeners:
            listener.start_pass()
        try:
            yield
        finally:
            for listener in self.pass_listeners:
                listener.end_pass()


_open_traces: list[Trace] = []


def current_trace(value: Any = None) -> Trace | None:
    """The trace that ``value`` belongs to, or the innermost running one; ``None`` outside any."""
    if isbox(value):
        for trace in reversed(_open_traces):
            if trace.level == value._trace:
                return trace
    return _open_traces[-1] if _open_traces else None


@contextmanager
def outside_traces() -> Iterator[None]:
    """Run a block as if no trace were open (``checkpointed`` runs ``f`` untraced this way)."""
    hidden = list(_open_traces)
    _open_traces.clear()
    try:
        yield
    finally:
        _open_traces[:] = hidden


@dataclass
class Recording:
    """The trace of one call ``f(*args)``, kept so that it can be pulled back through many times.

    ``leaves`` are the differentiable leaves of ``args`` (see
    :mod:`zygote_nb.structure`) and ``trees`` rebuild the arguments from them;
    ``roots[i]`` is the node standing for ``leaves[i]``; ``ends`` pairs the
    index of each traced output leaf with its node; ``trace`` carries the
    listeners (``showgrad``) that hear each backward pass; ``function`` is ``f``
    itself, for an engine that runs it again (forward mode, one column at a time).
    """

    value: Any
    leaves: list
    trees: list
    roots: list
    ends: list
    output_tree: structure.Tree
    trace: Trace
    function: Callable | None = field(default=None, repr=False)
    _nodes: list | None = field(default=None, init=False, repr=False)

    def back(self, cotangent: Any) -> tuple:
        """The gradient of every argument for one cotangent of the output (``None`` parts send nothing)."""
        cotangent_leaves = self.output_tree.leaves_of(cotangent)
        seeds = [(node, cotangent_leaves[index]) for index, node in self.ends
                 if cotangent_leaves[index] is not None]
        with self.trace.backward_pass():
            root_gradients = backward(seeds, self.roots)
        gradients = _unshared([_as_gradient_of(leaf, gradient) for leaf, gradient in zip(self.leaves, root_gradients)],
                              cotangent_leaves)
        return structure.per_argument(self.trees, gradients, structure.Tree.gradient)

    def argument_leaf(self, position: int) -> int | None:
        """The leaf index of argument ``position`` when that argument is itself a leaf (a number or array)."""
        start = sum(tree.leaf_count() for tree in self.trees[:position])
        return start if self.trees[position].kind == "leaf" else None

    def differentiated_arguments(self, argument_count: int) -> dict:
        """``{position: leaf index}`` for the first ``argument_count`` arguments that are numbers or arrays."""
        positions = {}
        for position in range(argument_count):
            leaf = self.argument_leaf(position)
            if leaf is not None and structure.is_differentiable(self.leaves[leaf]):
                positions[position] = leaf
        return positions

    def nodes(self) -> list:
        """Every node that an output depends on, in the order of a backward pass (outputs first).

        Computed once: the engine asks for it to check the graph and again to sweep it.
        """
        if self._nodes is None:
            self._nodes = list(latest_first([node for _, node in self.ends]))
        return self._nodes


def record(f: Callable, *args: Any) -> Recording:
    """Run ``f(*args)`` with every number and array leaf of ``args`` traced, and keep the graph."""
    leaves, trees = structure.flatten_arguments(args)
    leaves = array_library.on_one_library(leaves)
    trace_stack.top += 1  # trace_stack.new_trace(), without a generator's cost on every call
    level = trace_stack.top
    trace = Trace(level)
    _open_traces.append(trace)
    enter_own_trace()
    try:
        roots = [RecordedNode.new_root() for _ in leaves]
        boxed = [new_box(_traceable(leaf), level, root) for leaf, root in zip(leaves, roots)]
        output = f(*structure.per_argument(trees, boxed, structure.Tree.rebuild))
    finally:
        leave_own_trace()
        _open_traces.remove(trace)
        trace_stack.top -= 1
    output_leaves, output_tree = structure.flatten(output)
    ends = [(index, leaf._node) for index, leaf in enumerate(output_leaves)
            if isbox(leaf) and leaf._trace == level]
    value = output_tree.rebuild([_unbox(leaf, level) for leaf in output_leaves])
    return Recording(value, leaves, trees, roots, ends, output_tree, trace, f)


def unrecorded(f: Callable, *args: Any) -> Recording:
    """The call ``f(*args)`` as a :class:`Recording` not yet run: for an engine that runs ``f`` itself
    (the loop engine's forward mode), so that no trace is made only to be set aside."""
    leaves, trees = structure.flatten_arguments(args)
    return Recording(None, leaves, trees, [], [], structure.flatten(None)[1], Trace(-1), f)


def pullback(f: Callable, *args: Any) -> tuple[Any, Callable]:
    """Run ``f(*args)`` and return ``(value, back)``.

    ``back(cotangent)`` takes a cotangent of the output's structure (``None``
    for a part that should send no gradient back) and returns
    a tuple with the gradient of each argument (see :mod:`zygote_nb.structure`
    for what counts as differentiable); ``back`` may be called many times.

    With a zero-argument ``f`` and a :class:`~zygote_nb.params.Params`,
    ``back`` returns :class:`~zygote_nb.grads.Grads` (Zygote's implicit mode).

    >>> y, back = pullback(lambda a, b: a * b, 2.0, 3.0)
    >>> y, back(1.0), back(10.0)
    (6.0, (3.0, 2.0), (30.0, 20.0))
    """
    if len(args) == 1 and isinstance(args[0], Params):
        from .implicit import implicit_pullback  # here: implicit mode is built on this module

        return implicit_pullback(f, args[0])
    recording = record(f, *args)
    return recording.value, recording.back


def backward(seeds: list, roots: list) -> list:
    """Propagate ``(node, cotangent)`` seeds back to ``roots``; ``None`` for a root never reached."""
    with own_traces():
        return _backward(seeds, roots)


def _backward(seeds: list, roots: list) -> list:
    # autograd's add_outgrads keeps each cotangent as (value, whether it may be added into in place).
    cotangents = {}
    for node, seed in seeds:
        cotangents[node] = add_outgrads(cotangents.get(node), array_library.as_cotangent(node.value, seed))
    root_index = {root: index for index, root in enumerate(roots)}
    gradients: list = [None] * len(roots)
    for node in latest_first([node for node, _ in seeds]):
        flagged = cotangents.pop(node, None)
        if flagged is None:
            continue
        if node in root_index:
            gradients[root_index[node]] = flagged[0]
            continue
        for parent, parent_cotangent in zip(node.parents, node.vjp(flagged[0])):
            if parent_cotangent is not None:
                cotangents[parent] = add_outgrads(_scatterable(cotangents.get(parent)), parent_cotangent)
    return gradients


def _scatterable(flagged: Any) -> Any:
    """A cotangent autograd may add a sparse one into in place: a NumPy scalar becomes a 0-d array."""
    if flagged is not None and flagged[1] and isinstance(getval(flagged[0]), numpy.generic):
        return traced_numpy.array(flagged[0]), True
    return flagged


def latest_first(end_nodes: list) -> Iterator[RecordedNode]:
    """The nodes behind ``end_nodes``, each after every node that uses it, the latest recorded first.

    That is the forward pass in reverse, the order Zygote runs its pullbacks in:
    a node's cotangent is complete, used and freed as early as possible.
    autograd's ``toposort`` takes the ready node pushed last instead, so the
    parents of ``W @ h`` wait behind the whole chain below ``h``, which keeps
    ``W``'s cotangent alive (and delays an ``eager_update``) to the very end.
    """
    child_counts: dict = {}
    stack = list(end_nodes)  # each end node counts one use by the (implicit) output
    while stack:
        node = stack.pop()
        if node in child_counts:
            child_counts[node] += 1
        else:
            child_counts[node] = 1
            stack.extend(node.parents)
    ready: list = []
    for node in end_nodes:
        child_counts[node] -= 1
        if child_counts[node] == 0:
            heapq.heappush(ready, (-node.order, node))
    while ready:
        _, node = heapq.heappop(ready)
        yield node
        for parent in node.parents:
            child_counts[parent] -= 1
            if child_counts[parent] == 0:
                heapq.heappush(ready, (-parent.order, parent))


def _unshared(gradients: list, cotangents: list) -> list:
    """Each gradient array the argument's own.

    autograd hands one array to both operands of ``a + b``, and a VJP may pass
    the cotangent itself through: a later in-place edit of one gradient must
    not change another gradient, nor the caller's cotangent.
    """
    taken = {id(cotangent) for cotangent in cotangents if cotangent is not None}
    owned = []
    for gradient in gradients:
        if array_library.is_array(gradient):
            if id(gradient) in taken:
                gradient = gradient.copy()
            taken.add(id(gradient))
        owned.append(gradient)
    return owned


def _traceable(leaf: Any) -> Any:
    """Integer arrays are differentiated as floats; integer scalars stay integers (see autograd_patches.IndexBox)."""
    raw = getval(leaf)
    if array_library.is_array(raw) and raw.dtype.kind in "iu":
        return leaf.astype(numpy.float64)
    return leaf


def _unbox(value: Any, level: int) -> Any:
    """The plain output value; NumPy's double-precision scalars shown as the Python numbers they equal."""
    value = value._value if isbox(value) and value._trace == level else value
    if isinstance(value, (numpy.float64, numpy.complex128)):
        return value.item()
    return value


def _as_gradient_of(leaf: Any, gradient: Any) -> Any:
    """The gradient in the argument's own terms: its shape, floats for integers.

    Complex arguments follow Zygote and PyTorch: the gradient is the conjugate
    of autograd's, so that it points in the direction of steepest ascent.
    """
    if gradient is None:
        return None
    if (type(gradient) is numpy.ndarray and type(leaf) is numpy.ndarray and gradient.dtype == leaf.dtype
            and leaf.dtype.kind == "f" and gradient.shape == leaf.shape):
        return gradient  # the common case, already in the argument's terms
    if numpy.iscomplexobj(getval(leaf)):
        gradient = traced_numpy.conj(gradient)
    if isbox(gradient):  # an outer trace (a higher derivative) is still running
        return gradient
    leaf = getval(leaf)
    if isinstance(leaf, (int, float, complex)):
        return complex(gradient) if isinstance(leaf, complex) else float(gradient)
    dtype = leaf.dtype if leaf.dtype.kind in "fc" else numpy.float64
    result = array_library.array_namespace(leaf, gradient).asarray(gradient, dtype=dtype).reshape(leaf.shape)
    return result[()] if isinstance(leaf, numpy.generic) else result
