"""A point of any structure as one flat vector, so that curvature is linear algebra on ``R^n``.

``hvp``, the spectrum, the trace and the landscape all work on a vector of the
point's entries laid end to end (C order within each array, leaves in the order
:mod:`zygote_nb.structure` gives them); :class:`FlatPoint` moves between that
vector and the structure the user's function takes.

>>> import numpy
>>> point = FlatPoint((numpy.array([[1.0, 2.0]]), 3.0))
>>> point.vector
array([1., 2., 3.])
>>> point.rebuild(numpy.array([4.0, 5.0, 6.0]))
(array([[4., 5.]]), np.float64(6.0))
"""

from __future__ import annotations

from typing import Any

import numpy
from autograd.tracer import getval

import zygote_nb.numpy as traceable_numpy

from .. import structure


class FlatPoint:
    """The leaves of ``x`` as one float vector, and the way back to ``x``'s structure."""

    def __init__(self, x: Any):
        leaves, self.tree = structure.flatten(x)
        if not leaves:
            raise TypeError(f"curvature needs numbers or real arrays to differentiate, got a "
                            f"{type(x).__name__} with none inside: pass an array or a tuple/list/dict of arrays")
        raw = [numpy.asarray(getval(leaf)) for leaf in leaves]
        if any(numpy.iscomplexobj(leaf) for leaf in raw):
            raise TypeError("curvature is defined for real inputs: pass the real and imaginary parts as "
                            "separate real arrays")
        self.shapes = [leaf.shape for leaf in raw]
        self.vector = numpy.concatenate([leaf.ravel() for leaf in raw]).astype(float)
        self.size = self.vector.size

    def rebuild(self, vector: Any) -> Any:
        """``vector`` (traced or not) in the structure and shapes of the point."""
        if len(self.shapes) == 1 and self.shapes[0]:  # one array: a reshape, no slicing on every call
            return self.tree.rebuild([traceable_numpy.reshape(vector, self.shapes[0])])
        leaves, start = [], 0
        for shape in self.shapes:
            size = int(numpy.prod(shape, dtype=int))
            part = vector[start:start + size]
            leaves.append(traceable_numpy.reshape(part, shape) if shape else part[0])
            start += size
        return self.tree.rebuild(leaves)

    def flatten_like(self, value: Any, name: str) -> numpy.ndarray:
        """A structure shaped like the point (a direction, a tangent) as one vector; a clear error if it is not."""
        leaves = self.tree.leaves_of(value) if self.tree.kind != "leaf" else [value]
        shapes = [numpy.shape(leaf) for leaf in leaves]
        if len(leaves) != len(self.shapes) or shapes != self.shapes:
            raise ValueError(f"{name} must have the shape of x: expected {_describe(self.shapes)}, got "
                             f"{_describe(shapes)}")
        return numpy.concatenate([numpy.ravel(numpy.asarray(leaf, dtype=float)) for leaf in leaves])


def _describe(shapes: list) -> str:
    return str(shapes[0]) if len(shapes) == 1 else "leaves of shapes " + ", ".join(map(str, shapes))
