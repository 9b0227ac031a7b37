"""The loss along one or two directions through a point: a 1-D slice or a 2-D surface (Li et al., 2018).

By default the directions are the Hessian's top eigenvectors, so the slice
shows the sharpest way out of the point and its curvature at the centre is the
top eigenvalue. ``"random"`` directions are filter-normalised as Li et al.
propose: each filter (row) of each weight array gets the norm of that row of the
weights, so that layers of different scale are compared fairly.

>>> import zygote_nb.numpy as np
>>> slice_ = loss_landscape(lambda x: x[0] ** 2 + 5 * x[1] ** 2, np.zeros(2), radius=1.0, points=5, seed=0)
>>> slice_.coefficients, slice_.loss.round(6)
(array([-1. , -0.5,  0. ,  0.5,  1. ]), array([5.  , 1.25, 0.  , 1.25, 5.  ]))
>>> round(slice_.curvature, 6)
10.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy

from .. import validation
from ..errors import explained_errors
from .hvp import HessianOperator
from .point import FlatPoint
from .spectrum import extreme_eigenvalues


@dataclass(frozen=True)
class Landscape:
    """``loss[i]`` (1-D) or ``loss[i, j]`` (2-D) at ``x + coefficients[i]·d₁ (+ coefficients[j]·d₂)``.

    ``directions`` are the directions shaped like ``x``; ``eigenvalues`` the
    Hessian eigenvalues they belong to when they are eigenvectors (else
    ``None``); ``hvps`` the Hessian-vector products spent finding them.
    """

    coefficients: numpy.ndarray
    loss: numpy.ndarray
    directions: list
    eigenvalues: numpy.ndarray | None
    hvps: int

    @property
    def curvature(self) -> float:
        """The second difference of a 1-D slice at its centre: ``d²loss/dt²`` there, up to O(spacing²)."""
        if self.loss.ndim != 1 or self.loss.size % 2 == 0:
            raise ValueError("curvature is read at the centre of a 1-D slice with an odd number of points")
        centre = self.loss.size // 2
        spacing = self.coefficients[1] - self.coefficients[0]
        return float((self.loss[centre + 1] - 2 * self.loss[centre] + self.loss[centre - 1]) / spacing ** 2)


def loss_landscape(f: Callable, x: Any, directions: Any = None, dimensions: int = 1, radius: float = 1.0,
                   points: int = 21, seed: int | None = None, max_hvps: int = 300) -> Landscape:
    """``f`` on a grid of ``points`` (per axis) over ``[-radius, radius]`` along directions through ``x``.

    ``directions`` is ``None`` (the top ``dimensions`` Hessian eigenvectors,
    found by Lanczos with at most ``max_hvps`` products), ``"random"``
    (``dimensions`` filter-normalised random directions), or a list of one or
    two directions shaped like ``x``. ``x`` may be a structure of arrays (a
    list of layer weights, a dict) or a ``Params`` (then ``f`` takes no
    arguments and directions are lists in parameter order); ``f(x)`` must be
    a real number.

    >>> import zygote_nb.numpy as np
    >>> surface = loss_landscape(lambda layers: np.sum(layers[0] ** 2), [np.ones((2, 2))], directions="random",
    ...                          dimensions=2, points=3, seed=0)
    >>> surface.loss.shape, float(surface.loss[1, 1])
    ((3, 3), 4.0)
    """
    validation.require_callable("loss_landscape", f)
    if dimensions not in (1, 2):
        raise ValueError(f"dimensions must be 1 (a slice) or 2 (a surface), got {dimensions!r}")
    if not isinstance(points, (int, numpy.integer)) or points < 3:
        raise ValueError(f"points must be a whole number of at least 3, got {points!r}")
    operator = HessianOperator("loss_landscape", f, x)  # cheap until asked for products
    f, point = operator.function, operator.point
    eigenvalues, hvps = None, 0
    if directions is None:
        spectrum = extreme_eigenvalues(operator, dimensions, "largest", max_hvps=max_hvps, seed=seed, vectors=True)
        flat_directions, eigenvalues, hvps = list(spectrum.vectors.largest), spectrum.largest, spectrum.hvps
    elif isinstance(directions, str) and directions == "random":
        random = numpy.random.default_rng(seed)
        flat_directions = [filter_normalised(point, random) for _ in range(dimensions)]
    elif isinstance(directions, (list, tuple)) and len(directions) in (1, 2):
        flat_directions = [point.flatten_like(direction, "each direction") for direction in directions]
    else:
        raise ValueError("directions must be None (the top Hessian eigenvectors), 'random', or a list of one or "
                         f"two directions shaped like x; got {type(directions).__name__}")
    coefficients = numpy.linspace(-radius, radius, points)
    with explained_errors():
        if len(flat_directions) == 1:
            loss = numpy.array([_loss(f, point, point.vector + a * flat_directions[0]) for a in coefficients])
        else:
            first, second = flat_directions
            loss = numpy.array([[_loss(f, point, point.vector + a * first + b * second) for b in coefficients]
                                for a in coefficients])
    return Landscape(coefficients, loss, [point.rebuild(direction) for direction in flat_directions],
                     eigenvalues, hvps)


def filter_normalised(point: FlatPoint, random: numpy.random.Generator) -> numpy.ndarray:
    """A Gaussian direction scaled so each filter (row of a weight array, or a whole vector) has the weights' norm."""
    parts, start = [], 0
    for shape in point.shapes:
        size = int(numpy.prod(shape, dtype=int))
        weights = point.vector[start:start + size].reshape(shape[0] if len(shape) >= 2 else 1, -1)
        direction = random.standard_normal(weights.shape)
        direction *= (numpy.linalg.norm(weights, axis=1) / numpy.linalg.norm(direction, axis=1))[:, None]
        parts.append(direction.ravel())
        start += size
    return numpy.concatenate(parts)


def _loss(f: Callable, point: FlatPoint, vector: numpy.ndarray) -> float:
    value = f(point.rebuild(vector))
    return float(numpy.asarray(value))
