"""Forward mode: push one tangent through a function alongside its value.

>>> import zygote_nb.numpy as np
>>> value, derivative = jvp(np.sin, 0.0, 1.0)
>>> float(value), float(derivative)
(0.0, 1.0)
"""

from __future__ import annotations

from typing import Any, Callable

import numpy
from autograd.tracer import isbox, new_box, trace_stack

from .autograd_patches import OwnJVPNode, own_traces


def jvp(f: Callable, x: Any, tangent: Any) -> tuple[Any, Any]:
    """``(f(x), J·tangent)``: the value and its directional derivative along ``tangent``.

    Forward rules read zygote_nb's rule tables first (:mod:`zygote_nb.autograd_patches`).
    """
    if isinstance(tangent, (int, float, complex)) and not isinstance(tangent, bool):
        # A NumPy scalar, not a Python number: rules index and reshape their tangents (x[None]).
        tangent = numpy.asarray(tangent, dtype=numpy.result_type(float, tangent))[()]
    with trace_stack.new_trace() as level, own_traces():
        output = f(new_box(x, level, OwnJVPNode.new_root(tangent)))
    if isbox(output) and output._trace == level:
        return output._value, output._node.g
    return output, numpy.zeros_like(output, dtype=numpy.result_type(float, output))
