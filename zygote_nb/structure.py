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

A plain Python object (a hand-written layer, a dataclass model) is a structure of
its array attributes, as Zygote treats a struct as the tuple of its fields: its
numeric arrays are leaves, looked into recursively through containers and
further objects, while its other attributes (numbers, strings, functions) are
settings that get no gradient, as in Equinox.  Its gradient is a
``types.SimpleNamespace`` with one entry per attribute, like Zygote's named
tuple ``(W = …, b = nothing)``:

>>> class Scale:
...     def __init__(self):
...         self.W, self.label = numpy.array([1.0, 2.0]), "scale"
>>> leaves, tree = flatten(Scale())
>>> tree.gradient([numpy.array([3.0, 4.0])])
namespace(W=array([3., 4.]), label=None)
>>> tree.rebuild([numpy.zeros(2)]).W
array([0., 0.])
"""

from __future__ import annotations

import copy
import sys
import types
from functools import partial
from typing import Any, Callable, NamedTuple

import numpy
from autograd.tracer import isbox

from . import array_library

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
    if isinstance(value, (numpy.ndarray, numpy.generic)) or array_library.is_device_array(value):
        return value.dtype.kind in NUMERIC_KINDS
    return False


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


class Tree(NamedTuple):
    """How one argument is put together from its leaves.

    ``kind`` is ``"leaf"``, ``"static"`` (kept as it is, no gradient), or a
    container kind (``"object"`` for a plain object); ``children`` are the
    sub-trees, ``keys`` the dict keys or the object's attribute names, and
    ``static_value`` the object itself (the template its copies are made from).
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
        if self.kind == "dict":
            items = [value[key] for key in self.keys]
        elif self.kind == "object":  # the object itself, or its gradient namespace
            items = [getattr(value, key, None) for key in self.keys]
        else:
            items = list(value)
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
        if self.kind == "object":
            return _object_with(self.static_value, dict(zip(self.keys, items)))
        return self.container_type(items)

    def _gradient_container(self, items: list) -> Any:
        # Zygote returns `nothing` for a container none of whose parts got a gradient.
        if all(item is None for item in items):
            return None
        if self.kind == "object":
            return types.SimpleNamespace(**dict(zip(self.keys, items)))
        return self._container(items)


LEAF = Tree("leaf")


def flatten(value: Any) -> tuple[list, Tree]:
    """Split ``value`` into its differentiable leaves (in order) and its :class:`Tree`."""
    leaves: list = []
    return leaves, _flatten(value, leaves)


def _flatten(value: Any, leaves: list, inside: tuple = ()) -> Tree:
    """``inside`` holds the ids of the objects this value sits in: an object met again is not entered."""
    if is_differentiable(value) and not (inside and _is_number(value)):
        leaves.append(value)
        return LEAF
    if _is_namedtuple(value):
        return Tree("namedtuple", tuple(_flatten(item, leaves, inside) for item in value), container_type=type(value))
    if isinstance(value, (tuple, list)):
        return Tree("sequence", tuple(_flatten(item, leaves, inside) for item in value), container_type=type(value))
    if isinstance(value, dict):
        keys = tuple(value)
        return Tree("dict", tuple(_flatten(value[key], leaves, inside) for key in keys), keys, type(value))
    fields = object_fields(value)
    if fields is not None and id(value) not in inside:
        inside = inside + (id(value),)
        children = tuple(_flatten(item, leaves, inside) for item in fields.values())
        return Tree("object", children, tuple(fields), type(value), value)
    return Tree("static", static_value=value)


def _is_number(value: Any) -> bool:
    """A Python or NumPy scalar: inside an object, a setting (a size, a rate), not a parameter."""
    return isinstance(value, (int, float, complex, numpy.generic))


_NOT_MODELS = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
               types.CodeType, types.GeneratorType, partial)


def object_fields(value: Any) -> dict | None:
    """The attributes of a plain Python object (``__dict__`` and ``__slots__``), or ``None`` for anything else.

    Plain means an instance of a class written in Python: not a number, string,
    container, function, class or module, not an array or array-like (anything
    with ``__array__``, ``__array_priority__`` or ``__array_namespace__``: a
    DataFrame, a sparse matrix, a tensor is data, not a model), and not one of
    this package's own objects (``Params``, ``Grads``, ``Buffer``, an
    optimiser's state), which are kept whole.

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Dense:
    ...     W: numpy.ndarray
    ...     activation: str = "tanh"
    >>> object_fields(Dense(numpy.ones(2)))
    {'W': array([1., 1.]), 'activation': 'tanh'}
    >>> object_fields(numpy.ones(2)), object_fields(len), object_fields("text")
    (None, None, None)
    """
    kind = type(value)
    if kind.__module__ == "builtins" or isinstance(value, _NOT_MODELS) or _is_array_like(kind) \
            or _is_package_class(kind):
        return None
    fields = dict(getattr(value, "__dict__", {}))
    for klass in kind.__mro__:
        for name in _slot_names(klass):
            if name not in ("__dict__", "__weakref__") and hasattr(value, name):
                fields[name] = getattr(value, name)
    return fields or None


def _is_array_like(kind: type) -> bool:
    return any(hasattr(kind, protocol) for protocol in ("__array__", "__array_priority__", "__array_namespace__"))


def _is_package_class(kind: type) -> bool:
    """Whether ``kind`` is one of the classes this package defines (looked up, so a doctest's class is not)."""
    module = sys.modules.get(kind.__module__)
    return kind.__module__.partition(".")[0] == __package__ and vars(module).get(kind.__qualname__) is kind


def _slot_names(klass: type) -> tuple:
    slots = vars(klass).get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _object_with(original: Any, fields: dict) -> Any:
    """A shallow copy of ``original`` with ``fields`` set, written past any ``__setattr__`` (frozen dataclasses)."""
    rebuilt = copy.copy(original)
    for name, value in fields.items():
        object.__setattr__(rebuilt, name, value)
    return rebuilt


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
