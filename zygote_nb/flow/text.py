"""The gradient flow as plain text: what a terminal, a static page or a screen reader gets.

>>> import zygote_nb.numpy as np
>>> from zygote_nb.flow import trace_gradient
>>> print(flow_summary(trace_gradient(lambda x: np.sum(x * x), np.array([1.0, 2.0]))))  # doctest: +ELLIPSIS
gradient flow: 2 operations, output = 5
inputs
  x: value shape (2,) float64, min 1, max 2, mean 1.5, norm 2.236 | gradient shape (2,) float64, min 2, max 4, mean 3, norm 4.472
operations
  #1 multiply at ...: value shape (2,) float64, min 1, max 4, mean 2.5, norm 4.123 | gradient shape (2,) float64, min 1, max 1, mean 1, norm 1.414
  #2 sum (output) at ...: value shape () float64, min 5, max 5, mean 5, norm 5 | gradient shape () float64, min 1, max 1, mean 1, norm 1
"""

from __future__ import annotations

import numpy

from ..gradients import objective_cotangent
from .grouping import GROUP_THRESHOLD, gradient_norms
from .origin import counted, origin_lines
from .recording import FlowNode, GradientFlow


def node_line(node: FlowNode) -> str:
    """``multiply at cell line 2: y = x * x: value … | gradient …`` for one node."""
    role = " (output)" if node.is_output else ""
    where = f" at {node.location}" if node.location is not None else ""
    value = node.value.describe() if node.value is not None else "not numeric"
    gradient = node.gradient.describe() if node.gradient is not None else "no gradient"
    hook = f" | hook {describe_hook(node)}" if node.hook is not None else ""
    reports = "".join(f" | {report}" for report in node.reports)
    return f"{node.name}{role}{where}: value {value} | gradient {gradient}{hook}{reports}"


def describe_hook(node: FlowNode) -> str:
    """``clip(threshold=0.5): gradient norm 3 → 0.5`` (or ``… (off)``)."""
    state = "" if getattr(node.hook, "enabled", True) else " (off)"
    before = node.gradient.norm if node.gradient is not None else None
    after = node.hooked_gradient.norm if node.hooked_gradient is not None else None
    return f"{node.hook!r}{state}: gradient norm {_number(before)} → {_number(after)}"


def flow_summary(flow: GradientFlow) -> str:
    """Every input and operation (by source line above the grouping threshold), origins and reports first.

    Each NaN/Inf origin is one ``!`` line, followed by its explanation where
    it has one (:attr:`~zygote_nb.flow.Origin.explanation`).
    """
    lines = [f"gradient flow: {counted(len(flow.operations), 'operation')}, {flow.output_name} = {_value_text(flow)}"]
    lines.extend(f"! {line}" for line in origin_lines((flow.forward_origin, flow.backward_origin)))
    lines.append("inputs")
    lines.extend(f"  {node_line(node)}" for node in flow.inputs)
    if len(flow.operations) > GROUP_THRESHOLD:
        lines.append("gradient norm by source line")
        lines.extend(f"  {label}: {_number(norm)}" for label, norm in gradient_norms(flow, "line").items())
    else:
        lines.append("operations")
        lines.extend(f"  #{node.index} {node_line(node)}" for node in flow.operations)
    if flow.hooks:
        lines.append("hooks")
        lines.extend(f"  {node.location.place() if node.location else '?'}: {describe_hook(node)}" for node in flow.hooks)
    if flow.reports:
        lines.append("showgrad")
        lines.extend(f"  {report}" for report in flow.reports)
    return "\n".join(lines)


def _value_text(flow: GradientFlow) -> str:
    objective = objective_cotangent(flow.value)[0]
    return f"{float(objective):.6g}" if numpy.ndim(objective) == 0 else repr(objective)


def _number(number: float | None) -> str:
    return "none" if number is None else f"{number:.4g}"
