"""Keep a large graph readable: group operations by the source line that made them.

A cell with a loop can record thousands of operations; drawn one by one they
are a blur.  Above :data:`GROUP_THRESHOLD` operations, :func:`display_graph`
draws one box per source line (its gradient the combined norm of the
gradients that reached its operations), and a group the reader expands is
drawn as its operations again.  :func:`gradient_norms` gives the "gradient
flow" bar chart's numbers: one norm per source line or per input.

>>> import zygote_nb.numpy as np
>>> from zygote_nb.flow import trace_gradient
>>> def loop(x):
...     for _ in range(3):
...         x = np.sin(x)
...     return np.sum(x)
>>> graph = display_graph(trace_gradient(loop, np.ones(2)), threshold=2)
>>> [item.label for item in graph.items]
['x', 'sin ×3', 'sum']
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from .labels import place, shorten, snippet
from .recording import FlowNode, GradientFlow

GROUP_THRESHOLD = 150
NAME_WIDTH = 28  # characters of a name on a box: an output named by a cell's whole source would make one huge box


@dataclass(frozen=True)
class GraphItem:
    """One box of the drawing: a single node, or the operations of one source line.

    ``kind`` is ``"input"``, ``"operation"``, ``"output"``, ``"hook"``,
    ``"showgrad"`` or ``"group"``; ``caption`` the lines of text its box shows;
    ``origin`` is ``"forward"`` or ``"backward"`` where the item holds the
    first operation of that pass to produce NaN or Inf (its caption then starts with ``⚠``).
    """

    key: str
    label: str
    members: tuple[int, ...]
    depth: int
    gradient_norm: float | None
    finite: bool
    is_input: bool
    is_output: bool
    kind: str = "operation"
    caption: tuple[str, ...] = ()
    origin: str | None = None

    @property
    def is_group(self) -> bool:
        return self.key.startswith("line ")


@dataclass(frozen=True)
class DisplayGraph:
    """What to draw: the boxes, and the data-flow edges between them (as item positions)."""

    items: list[GraphItem]
    edges: list[tuple[int, int]]
    grouped: bool


def line_key(node: FlowNode) -> str:
    """The group a node belongs to: ``line <file>:<number>``, or the node itself for inputs."""
    if node.kind == "input":
        return f"node {node.index}"
    if node.location is None:
        return "line ?"
    return f"line {node.location.filename}:{node.location.line}"


def combined_norm(nodes: list[FlowNode]) -> tuple[float | None, bool]:
    """The norm of all the nodes' gradients taken together, and whether they were all finite."""
    summaries = [node.gradient for node in nodes if node.gradient is not None]
    if not summaries:
        return None, True
    finite = all(summary.finite for summary in summaries)
    squares = sum((summary.norm or 0.0) ** 2 for summary in summaries)
    return math.sqrt(squares), finite


def group_label(nodes: list[FlowNode]) -> str:
    """``tanh ×3, multiply ×2``: the operations of a group, most frequent first."""
    counts = Counter(node.name for node in nodes)
    return ", ".join(name if count == 1 else f"{name} ×{count}" for name, count in counts.most_common(3)) + (
        ", …" if len(counts) > 3 else "")


def display_graph(flow: GradientFlow, threshold: int = GROUP_THRESHOLD, expanded: frozenset = frozenset()) -> DisplayGraph:
    """The boxes and edges to draw: one per node, or grouped by line when there are more than ``threshold`` operations.

    ``expanded`` holds the keys of the groups to draw as their operations.
    """
    grouped = len(flow.operations) > threshold
    members: dict[str, list[FlowNode]] = {}
    for node in flow.nodes:
        key = line_key(node) if grouped else f"node {node.index}"
        if key in expanded:
            key = f"node {node.index}"
        members.setdefault(key, []).append(node)
    assigned = assigned_nodes(flow)
    origins = {origin.node: origin.direction for origin in (flow.forward_origin, flow.backward_origin) if origin}
    items, position_of = [], {}
    for key, nodes in members.items():
        norm, finite = combined_norm(nodes)
        single = len(nodes) == 1
        label = nodes[0].name if single else group_label(nodes)
        kind = node_kind(nodes[0]) if single else "group"
        caption = node_caption(flow, nodes[0], kind, assigned) if single else group_caption(nodes, label)
        origin = next((origins[node.index] for node in nodes if node.index in origins), None)
        if origin is not None:
            caption = (f"⚠ {caption[0]}", *caption[1:])
        items.append(GraphItem(key, label, tuple(node.index for node in nodes), min(node.depth for node in nodes),
                               norm, finite, single and nodes[0].kind == "input",
                               any(node.is_output for node in nodes), kind, caption, origin))
        for node in nodes:
            position_of[node.index] = len(items) - 1
    edges = sorted({(position_of[parent], position_of[node.index]) for node in flow.nodes for parent in node.parents
                    if position_of[parent] != position_of[node.index]})
    return DisplayGraph(items, edges, grouped)


def node_kind(node: FlowNode) -> str:
    """What a single node's box shows it to be."""
    if node.kind == "input":
        return "input"
    if node.is_output:
        return "output"
    if node.hook is not None:
        return "hook"
    return "showgrad" if node.name == "showgrad" else "operation"


def assigned_nodes(flow: GradientFlow) -> set[int]:
    """The operations whose result their statement assigns: none of their consumers is on their own line."""
    same_line_consumers = set()
    for node in flow.operations:
        for parent in node.parents:
            if flow.nodes[parent].location == node.location:
                same_line_consumers.add(parent)
    return {node.index for node in flow.operations if node.index not in same_line_consumers}


def node_caption(flow: GradientFlow, node: FlowNode, kind: str, assigned: set[int]) -> tuple[str, ...]:
    """``("h1 = np.tanh(…)", "tanh · line 3")``; an input's name and shape; showgrad's label."""
    if kind == "input":
        shape = node.value.shape if node.value is not None else ()
        return (shorten(node.name, NAME_WIDTH), "×".join(map(str, shape)) if shape else "scalar")
    where = f"{node.name} · {place(node.location)}"
    if kind == "output":
        return (shorten(flow.output_name, NAME_WIDTH), where)
    if kind == "showgrad":
        label = node.reports[0].label if node.reports else "showgrad"
        return (shorten(label, NAME_WIDTH), where)
    return (snippet(node.name, node.location, node.index in assigned), where)


def group_caption(nodes: list[FlowNode], label: str) -> tuple[str, ...]:
    """A group's operations and its line: ``("tanh ×3", "line 4 · 3 operations")``."""
    return (shorten(label, NAME_WIDTH), f"{place(nodes[0].location)} · {len(nodes)} operations")


def gradient_norms(flow: GradientFlow, by: str = "line") -> dict[str, float | None]:
    """Gradient norms for the "gradient flow" bar chart, by source ``"line"`` or by ``"input"``.

    By line, the combined norm of the gradients that reached the line's
    operations (labelled with the line's place and code); by input, the norm
    of each input's gradient.  ``None`` where no gradient arrived; ``inf`` or
    ``nan`` where it was not finite.
    """
    if by == "input":
        return {node.name: _norm_or_flag(node.gradient) for node in flow.inputs}
    if by != "line":
        raise ValueError(f"gradient_norms groups by 'line' or 'input', not {by!r}")
    lines: dict[str, list[FlowNode]] = {}
    for node in flow.operations:
        label = str(node.location) if node.location is not None else "(unknown line)"
        lines.setdefault(label, []).append(node)
    norms = {}
    for label, nodes in lines.items():
        norm, finite = combined_norm(nodes)
        norms[label] = norm if finite else math.inf
    return norms


def _norm_or_flag(summary) -> float | None:
    if summary is None:
        return None
    if summary.nan_count:
        return math.nan
    return summary.norm if summary.finite else math.inf
