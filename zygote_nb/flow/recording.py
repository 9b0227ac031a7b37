"""Record a gradient computation operation by operation, and replay its backward pass.

:func:`trace_gradient` runs the function under :func:`~zygote_nb.pullback.pullback`
with a node observer installed, so that every primitive call becomes a
:class:`FlowNode`: the operation's name, the line of user code that called it,
the shapes and statistics of what went in and came out.  Each recorded node's
VJP is wrapped so that the backward pass also leaves, on every node, the
gradient that arrived at it.  The observer is installed only while recording:
a plain ``gradient`` call pays nothing.

:meth:`GradientFlow.replay` runs the backward pass again over the recorded
nodes (no forward pass), which is how a changed hook (a new clip threshold, a
hook switched off) shows its effect at once.

>>> import zygote_nb.numpy as np
>>> flow = trace_gradient(lambda x: np.sum(np.log(x)), np.array([1.0, 2.0, 0.0]))
>>> [node.name for node in flow.nodes]
['x', 'log', 'sum']
>>> flow.gradients
(array([1. , 0.5, inf]),)
>>> flow.backward_origin.describe()  # doctest: +ELLIPSIS
'first Inf in the backward pass at ..., log in `...`: gradient inf at index 2 where x == 0'
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from autograd.tracer import isbox

from .. import structure, validation
from ..errors import explained_errors
from ..gradients import ARRAY_OUTPUT_FIX, objective_cotangent
from ..pullback import node_observers, pullback
from .explanation import explain_origins, source_call
from .origin import Origin, counted, offending_entries, problem_name
from .reports import capture_reports, display_name, hook_transform, showgrad_label
from .source import SourceLocation, caller_location
from .statistics import Summary, is_finite, summarize
from .warning_lines import warnings_at_user_lines


@dataclass(eq=False)
class FlowNode:
    """One box of the drawing: an input of the function, or one primitive operation.

    ``parents`` are the indices (in :attr:`GradientFlow.nodes`) of the nodes
    whose outputs this operation consumed; ``depth`` is the length of the
    longest path from an input.  ``gradient`` summarises the gradient that
    arrived at the node in the latest backward pass (``None`` if none did);
    for a hook, ``hooked_gradient`` summarises what the hook passed on; for
    the backward pass's NaN/Inf origin, ``sent_back`` summarises the
    non-finite gradient it passed on.
    """

    index: int
    name: str
    kind: str
    parents: tuple[int, ...]
    depth: int
    location: SourceLocation | None = None
    input_shapes: tuple = ()
    input_dtypes: tuple = ()
    value: Summary | None = None
    is_output: bool = False
    gradient: Summary | None = None
    gradient_array: Any = field(default=None, repr=False)
    reports: list = field(default_factory=list)
    hook: Any = None
    hooked_gradient: Summary | None = None
    sent_back: Summary | None = None


class GradientFlow:
    """The recorded graph of one gradient computation, with the gradient at every node.

    ``value`` and ``gradients`` are what :func:`~zygote_nb.withgradient` would
    give; ``nodes`` lists the inputs first, then the operations in the order
    they ran.  ``forward_origin`` and ``backward_origin`` name the first
    operation that produced a NaN or Inf in each pass (``None`` if none did);
    ``reports`` are the ``showgrad`` reports of the latest backward pass and
    ``hooks`` the nodes where a hook transform applies.  ``output_name``
    labels the output in drawings.

    >>> import zygote_nb.numpy as np
    >>> flow = trace_gradient(lambda x: np.sum(np.log(x)), np.array([1.0, 0.0]))
    >>> [node.name for node in flow.nodes]
    ['x', 'log', 'sum']
    >>> flow.backward_origin is not None
    True
    """

    def __init__(self, names: list[str], output_name: str):
        self.nodes: list[FlowNode] = []
        self.value: Any = None
        self.gradients: tuple = ()
        self.forward_origin: Origin | None = None
        self.backward_origin: Origin | None = None
        self.reports: list = []
        self.output_name = output_name
        self._names = names
        self._flow_index: dict = {}
        self._recorded: dict[int, Any] = {}
        self._back: Callable | None = None
        self._cotangent: Any = None
        self._argument_trees: list = []

    @property
    def inputs(self) -> list[FlowNode]:
        return [node for node in self.nodes if node.kind == "input"]

    @property
    def operations(self) -> list[FlowNode]:
        return [node for node in self.nodes if node.kind == "operation"]

    @property
    def output(self) -> FlowNode | None:
        return next((node for node in self.nodes if node.is_output), None)

    @property
    def hooks(self) -> list[FlowNode]:
        return [node for node in self.nodes if node.hook is not None]

    def replay(self) -> tuple:
        """Run the backward pass again over the recorded operations and return the new gradients.

        Nothing of the forward pass runs again; hooks consult their transform
        objects as they are now, so a changed threshold or a disabled hook
        takes effect here.
        """
        if self.released:
            raise RuntimeError("this flow's recording was released to save memory (a newer run of the cell has "
                               "its own); run the cell again to replay it")
        for node in self.nodes:
            node.gradient = node.gradient_array = node.hooked_gradient = node.sent_back = None
            node.reports = []
        self.backward_origin = None
        with explained_errors(), capture_reports() as reports:
            gradients = self._back(self._cotangent)
        self.gradients = gradients
        self.reports = list(reports)
        self._attach_reports()
        self._record_input_gradients(gradients)
        explain_origins(self)
        return gradients

    @property
    def released(self) -> bool:
        """Whether :meth:`release` gave up the recording (then :meth:`replay` cannot run)."""
        return self._back is None and bool(self.nodes)

    def release(self) -> None:
        """Give up what only a replay needs: the recorded operations with the values they saved, and gradient arrays.

        The nodes' summaries, the origins and the reports stay, so a drawing
        and the text summary still work; the memory of every intermediate
        array is freed.
        """
        self._recorded.clear()
        self._flow_index.clear()
        self._back = self._cotangent = None
        self.gradients = ()
        for node in self.nodes:
            node.gradient_array = None

    def summary(self) -> str:
        """A readable text account of the flow: origins, inputs' gradients, and every operation."""
        from .text import flow_summary

        return flow_summary(self)

    def __repr__(self) -> str:
        origins = "".join(f"; {origin.describe()}" for origin in (self.forward_origin, self.backward_origin) if origin)
        return (f"<GradientFlow: {counted(len(self.operations), 'operation')}, inputs "
                f"{', '.join(node.name for node in self.inputs) or 'none'}{origins}>")

    # Recording, called by trace_gradient and by the recorded nodes.

    def _add_inputs(self, boxed_arguments: tuple) -> None:
        for name, argument in zip(self._names, boxed_arguments):
            leaves, tree = structure.flatten(argument)
            for label, leaf in zip(leaf_labels(name, tree), leaves):
                if isbox(leaf):
                    node = self._new_node(label, "input", (), 0, value=summarize(leaf))
                    self._flow_index[leaf._node] = node.index

    def _new_node(self, name: str, kind: str, parents: tuple, depth: int, **details) -> FlowNode:
        node = FlowNode(len(self.nodes), name, kind, parents, depth, **details)
        self.nodes.append(node)
        return node

    def _observe(self, recorded) -> None:
        parents = tuple(self._flow_index[parent] for parent in recorded.parents if parent in self._flow_index)
        if not parents:
            return  # a node of another trace (an inner pullback), not of this computation
        arrays = [argument for argument in recorded.args if structure.is_differentiable(argument)]
        node = self._new_node(
            display_name(recorded), "operation", parents,
            1 + max(self.nodes[parent].depth for parent in parents),
            location=caller_location(),
            input_shapes=tuple(_shape_of(argument) for argument in arrays),
            input_dtypes=tuple(_dtype_of(argument) for argument in arrays),
            value=summarize(recorded.value),
            hook=hook_transform(recorded),
        )
        self._flow_index[recorded] = node.index
        self._recorded[node.index] = recorded
        if self.forward_origin is None and node.value is not None and not node.value.finite:
            if all(is_finite(argument) for argument in recorded.args):
                self.forward_origin = self._origin("forward", node, recorded.value)
        recorded.vjp = self._recording_vjp(node, recorded.vjp)

    def _recording_vjp(self, node: FlowNode, vjp: Callable) -> Callable:
        def vjp_that_records(cotangent):
            node.gradient, node.gradient_array = summarize(cotangent), cotangent
            outgoing = tuple(vjp(cotangent))
            if node.hook is not None and outgoing:
                node.hooked_gradient = summarize(outgoing[0])
            if self.backward_origin is None and node.gradient is not None and node.gradient.finite:
                broken = next((gradient for gradient in outgoing if not is_finite(gradient)), None)
                if broken is not None:
                    self.backward_origin = self._origin("backward", node, broken)
                    node.sent_back = summarize(broken)
            return outgoing

        return vjp_that_records

    def _origin(self, direction: str, node: FlowNode, result: Any) -> Origin:
        recorded = self._recorded[node.index]
        parent_of_argnum = dict(zip(recorded.argnums, recorded.parents))
        inputs = []
        for argnum, argument in enumerate(recorded.args):
            parent = self._flow_index.get(parent_of_argnum.get(argnum))
            if parent is not None and self.nodes[parent].kind == "input":
                inputs.append((self.nodes[parent].name, argument))
            elif parent is not None or not isinstance(argument, (int, float)):  # a number's value is in the source
                call = source_call(node.location, node.name, argnum)
                inputs.append((call.argument if call else f"argument {argnum}", argument))
        return Origin(direction, node.index, node.name, node.location,
                      problem_name(summarize(result)), offending_entries(result, inputs))

    def _finish_forward(self, value: Any, output_box: Any, back: Callable, cotangent: Any) -> None:
        self.value, self._back, self._cotangent = value, back, cotangent
        index = self._flow_index.get(output_box._node) if isbox(output_box) else None
        if index is not None:
            self.nodes[index].is_output = True

    def _attach_reports(self) -> None:
        """Put each showgrad report on the showgrad operation of its source line."""
        by_line = {}
        for node in self.operations:
            if node.location is not None and node.name == "showgrad":
                by_line.setdefault((node.location.filename, node.location.line), []).append(node)
        for report in self.reports:
            nodes = by_line.get((report.filename, report.line), [])
            labelled = [node for node in nodes if showgrad_label(self._recorded[node.index]) == report.label]
            if labelled or nodes:
                (labelled or nodes)[0].reports.append(report)

    def _record_input_gradients(self, gradients: tuple) -> None:
        inputs = iter(self.inputs)
        for tree, gradient in zip(self._argument_trees, gradients):
            for leaf_gradient in tree.leaves_of(gradient):
                node = next(inputs, None)
                if node is not None:
                    node.gradient, node.gradient_array = summarize(leaf_gradient), leaf_gradient


def leaf_labels(name: str, tree: structure.Tree) -> list[str]:
    """Readable names for the differentiable leaves of an argument: ``params['w']``, ``layers[0]``."""
    if tree.kind == "leaf":
        return [name]
    if tree.kind == "static":
        return []
    if tree.kind == "dict":
        paths = [f"{name}[{key!r}]" for key in tree.keys]
    elif tree.kind == "namedtuple":
        paths = [f"{name}.{field_name}" for field_name in tree.container_type._fields]
    elif tree.kind == "object":
        paths = [f"{name}.{attribute}" for attribute in tree.keys]
    else:
        paths = [f"{name}[{position}]" for position in range(len(tree.children))]
    return [label for path, child in zip(paths, tree.children) for label in leaf_labels(path, child)]


@contextmanager
def _observing(flow: GradientFlow) -> Iterator[None]:
    node_observers.append(flow._observe)
    try:
        yield
    finally:
        node_observers.remove(flow._observe)


def argument_names(f: Callable, count: int) -> list[str]:
    """The names of ``f``'s first ``count`` positional parameters (``arg0``, ``arg1``, … where unknown)."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = []
    for position in range(count):
        parameter = parameters[position] if position < len(parameters) else None
        if parameter is not None and parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            names.append(parameter.name)
        elif parameter is not None and parameter.kind == parameter.VAR_POSITIONAL:
            names.extend(f"{parameter.name}[{rest}]" for rest in range(count - position))
            break
        else:
            names.append(f"arg{position}")
    return names


def trace_gradient(f: Callable, *args: Any, names: list[str] | None = None,
                   output_name: str = "output") -> GradientFlow:
    """Differentiate ``f(*args)`` as :func:`~zygote_nb.gradient` does, recording every operation.

    Returns a :class:`GradientFlow`: ``value`` and ``gradients`` as
    ``withgradient`` gives them, and ``nodes``, one per input leaf and per
    primitive operation, with source lines, shapes, value statistics and the
    gradient that reached each one.  ``names`` labels the arguments (default:
    ``f``'s parameter names); ``output_name`` labels the output.  In a notebook, ``zygote_nb.notebook.flow_view.FlowView(flow)``
    draws it.

    >>> import zygote_nb.numpy as np
    >>> flow = trace_gradient(lambda w, x: np.sum(np.tanh(w * x)), np.array([1.0, 2.0]), 0.5)
    >>> [(node.name, node.depth) for node in flow.nodes]
    [('w', 0), ('x', 0), ('multiply', 1), ('tanh', 2), ('sum', 3)]
    >>> round(flow.nodes[2].gradient.norm, 4)
    0.8916
    """
    validation.require_callable("trace_gradient", f)
    flow = GradientFlow(list(names) if names is not None else argument_names(f, len(args)), output_name)
    flow._argument_trees = [structure.flatten(argument)[1] for argument in args]
    output_boxes = []

    def recorded_call(*boxed_arguments):
        flow._add_inputs(boxed_arguments)
        output = f(*boxed_arguments)
        output_boxes.append(objective_cotangent(output)[0])
        return output

    with explained_errors(), warnings_at_user_lines():
        with _observing(flow):
            value, back = pullback(recorded_call, *args)
        objective, cotangent = objective_cotangent(value)
        validation.require_real_scalar("trace_gradient", objective, ARRAY_OUTPUT_FIX)
        flow._finish_forward(value, output_boxes[0], back, cotangent)
        flow.replay()
    return flow


def _shape_of(value: Any) -> tuple:
    return tuple(getattr(value, "shape", ()))


def _dtype_of(value: Any) -> str:
    dtype = getattr(value, "dtype", None)
    return str(dtype) if dtype is not None else type(value).__name__
