"""The gradient flow of a computation: every operation recorded, with the gradient that reached it.

This is the core side of the ``%%gradient`` view: recording
(:func:`trace_gradient`), replaying the backward pass after a hook changed,
finding where NaN and Inf came from, and grouping large graphs by source
line.  It draws nothing; :mod:`zygote_nb.notebook.flow_view` does.

>>> import zygote_nb.numpy as np
>>> flow = trace_gradient(lambda x: np.sum(x ** 2), np.array([3.0, 4.0]))
>>> flow.gradients
(array([6., 8.]),)
"""

from .grouping import GROUP_THRESHOLD, DisplayGraph, GraphItem, display_graph, gradient_norms
from .layout import GraphLayout, LayoutEdge, LayoutNode, layout
from .origin import Origin
from .recording import FlowNode, GradientFlow, trace_gradient
from .source import SourceLocation
from .statistics import Summary, summarize

__all__ = [
    "GROUP_THRESHOLD", "DisplayGraph", "FlowNode", "GradientFlow", "GraphItem", "GraphLayout", "LayoutEdge",
    "LayoutNode", "Origin", "SourceLocation", "Summary", "display_graph", "gradient_norms", "layout", "summarize",
    "trace_gradient",
]
