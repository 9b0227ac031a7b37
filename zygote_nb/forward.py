"""Forward mode: push one tangent through a function alongside its value.

>>> import zygote_nb.numpy as np
>>> value, derivative = jvp(np.sin, 0.0, 1.0)
>>> float(value), float(derivative)
(0.0, 1.0)
"""

from __future__ import annotations

from typing import Any, Callable

import numpy
from autograd.core import JVPNode
from autograd.tracer import isbox, new_box, trace_stack

from .autograd_patches import own_traces


def jvp(f: Callable, x: Any, tangent: Any) -> tuple[Any, Any]:
    """``(f(x), J·tangent)``: the value and its directional derivative along ``tangent``."""
    with trace_stack.new_trace() as level, own_traces():
        output = f(new_box(x, level, JVPNode.new_root(tangent)))
    if isbox(output) and output._trace == level:
        return output._value, output._node.g
    return output, numpy.zeros_like(output, dtype=numpy.result_type(float, output))
