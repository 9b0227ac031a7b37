"""Arguments as trees: which parts are differentiable, and how to rebuild them.

`gradient(f, (a, b), {"w": w}, "name")` differentiates every number and array
inside tuples, lists, dicts and namedtuples, and gives ``None`` for anything
else.  :func:`flatten` splits an argument into its differentiable *leaves* and a
:class:`Tree` that rebuilds either the argument (with traced leaves put back) or
its gradient (``None`` where a leaf is not differentiable or got no gradient).

>>> leaves, tree = flatten(((1.0, "label"), {"w": 2}))
>>> leaves
[1.0, 2]
>>> tree.rebuild([10.0, 20.0])
((10.0, 'label'), {'w': 20.0})
>>> tree.gradient([None, 3.0])
(None, {'w': 3.0})
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy
from autograd.tracer import isbox

from . import backend

NUMERIC_KINDS = "iufc"


def is_differentiable(value: Any) -> bool:
    """Whether ``value`` is a number or a numeric array (or a traced one): a leaf that gets a gradient.

    ``bool`` is a number in Python but not a differentiable one.

    >>> is_differentiable(3), is_differentiable(True), is_differentiable("3")
    (True, False, False)
    """
    if type(value) is numpy.ndarray:  # the common case first: this runs for every argument
        return value.dtype.kind in NUMERIC_KINDS
    if isbox(value):
        return True
    if isinstance(value, (bool, numpy.bool_)):
        return False
    if isinstance(value, (int, float, complex)):
        return True
    if isinstance(value, (numpy.ndarray, numpy.generic)) or backend.is_device_array(value):
        return value.dtype.kind in NUMERIC_KINDS
    return False


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


class Tree(NamedTuple):
    """How one argument is put together from its leaves.

    ``kind`` is ``"leaf"``, ``"static"`` (kept as it is, no gradient), or a
    container kind; ``children`` are the sub-trees, ``keys`` the dict keys.
    """

    kind: str
    children: tuple = ()
    keys: tuple = ()
    container_type: Any = None
    static_value: Any = None

    def leaf_count(self) -> int:
        if self.kind == "leaf":
            return 1
        return sum(child.leaf_count() for child in self.children)

    def rebuild(self, leaves: list) -> Any:
        """The argument with its leaves replaced, in order, by ``leaves``."""
        return self._build(iter(leaves), lambda tree: tree.static_value, Tree._container)

    def gradient(self, leaf_gradients: list) -> Any:
        """The gradient structure: ``None`` for static parts and for containers of only ``None``."""
        return self._build(iter(leaf_gradients), lambda tree: None, Tree._gradient_container)

    def leaves_of(self, value: Any) -> list:
        """The leaves of ``value`` laid out as this tree's leaves; ``None`` fills a part given as ``None``."""
        if self.kind == "leaf":
            return [value]
        if self.kind == "static":
            return []
        if value is None:
            return [None] * self.leaf_count()
        items = [value[key] for key in self.keys] if self.kind == "dict" else list(value)
        return [leaf for child, item in zip(self.children, items) for leaf in child.leaves_of(item)]

    def _build(self, leaves, static: Callable, container: Callable) -> Any:
        if self.kind == "leaf":
            return next(leaves)
        if self.kind == "static":
            return static(self)
        return container(self, [child._build(leaves, static, container) for child in self.children])

    def _container(self, items: list) -> Any:
        if self.kind == "dict":
            return self.container_type(zip(self.keys, items))
        if self.kind == "namedtuple":
            return self.container_type(*items)
        return self.container_type(items)

    def _gradient_container(self, items: list) -> Any:
        # Zygote returns `nothing` for a container none of whose parts got a gradient.
        if all(item is None for item in items):
            return None
        return self._container(items)


LEAF = Tree("leaf")


def flatten(value: Any) -> tuple[list, Tree]:
    """Split ``value`` into its differentiable leaves (in order) and its :class:`Tree`."""
    leaves: list = []
    return leaves, _flatten(value, leaves)


def _flatten(value: Any, leaves: list) -> Tree:
    if is_differentiable(value):
        leaves.append(value)
        return LEAF
    if _is_namedtuple(value):
        return Tree("namedtuple", tuple(_flatten(item, leaves) for item in value), container_type=type(value))
    if isinstance(value, (tuple, list)):
        return Tree("sequence", tuple(_flatten(item, leaves) for item in value), container_type=type(value))
    if isinstance(value, dict):
        keys = tuple(value)
        return Tree("dict", tuple(_flatten(value[key], leaves) for key in keys), keys, type(value))
    return Tree("static", static_value=value)


def flatten_arguments(args: tuple) -> tuple[list, list]:
    """The leaves of all ``args`` in order, and the :class:`Tree` of each argument.

    >>> leaves, trees = flatten_arguments((1.0, ("a", 2.0)))
    >>> leaves, per_argument(trees, [10.0, 20.0], Tree.rebuild)
    ([1.0, 2.0], (10.0, ('a', 20.0)))
    """
    leaves: list = []
    trees = [_flatten(arg, leaves) for arg in args]
    return leaves, trees


def per_argument(trees: list, leaves: list, build: Callable) -> tuple:
    """``build(tree, its leaves)`` for each argument's tree, taking the flat ``leaves`` in order."""
    built, start = [], 0
    for tree in trees:
        count = tree.leaf_count()
        built.append(build(tree, leaves[start:start + count]))
        start += count
    return tuple(built)
