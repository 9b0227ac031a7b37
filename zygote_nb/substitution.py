"""Substituting implicit parameters: the mechanism behind ``gradient(loss, ps)``.

For the duration of a ``with`` block, :func:`substituted` puts stand-ins
(autograd's boxes) everywhere a zero-argument loss can read a parameter, and
puts the very same arrays back afterwards, whatever happens.
"""

from __future__ import annotations

import numbers
import types
from collections import deque
from contextlib import contextmanager
from functools import partial
from typing import Any, Callable, Iterable, Iterator

from .params import IdDict

__all__ = ["substituted", "reachable_values"]


# --- Substituting implicit parameters -------------------------------------------------------
#
# A zero-argument loss reads its parameters from places it can reach: its globals, its closure
# cells, its default arguments, and the attributes and items of objects reachable from those.
# To differentiate it, each parameter is replaced, in every such place, by a stand-in (an autograd
# box), and the original object is put back afterwards, whatever happens.

_MAX_DEPTH = 6
_MAX_ITEMS = 10_000  # a container larger than this is data, not a model: not searched
_MAX_OBJECTS = 20_000  # the whole walk stops after this many objects (about a tenth of a second)

_OPAQUE = (
    types.ModuleType,
    type,
    types.BuiltinFunctionType,
    types.CodeType,
    types.FrameType,
    types.GeneratorType,
    str,
    bytes,
    numbers.Number,
)


class _Place:
    """Somewhere a value lives that can be overwritten: a dict or list item, a cell, a slot, an attribute.

    Instance attributes are items of the instance's ``__dict__``, written there directly so that
    neither a custom ``__setattr__`` nor a frozen dataclass gets in the way.
    """

    __slots__ = ("owner", "key", "kind")

    def __init__(self, owner: Any, key: Any, kind: str) -> None:
        self.owner, self.key, self.kind = owner, key, kind

    def write(self, value: Any) -> None:
        if self.kind == "item":
            self.owner[self.key] = value
        elif self.kind == "cell":
            self.owner.cell_contents = value
        elif self.kind == "slot":
            self.key.__set__(self.owner, value)
        else:
            setattr(self.owner, self.key, value)


def _is_opaque(kind: type) -> bool:
    """Values of this type hold no place a loss reads a parameter from.

    Arrays and autograd boxes are among them: their contents are data.
    """
    return (
        issubclass(kind, _OPAQUE)
        or hasattr(kind, "__array__")
        or hasattr(kind, "__array_priority__")
        or hasattr(kind, "__array_namespace__")
    )


def _code_names(code: types.CodeType) -> set:
    """Every name that a code object or the code nested in it (lambdas, comprehensions) looks up."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _code_names(constant)
    return names


def _slot_descriptors(kind: type) -> Iterator:
    """The ``__slots__`` members that Python classes in ``kind``'s hierarchy declare."""
    for klass in kind.__mro__:
        if "__slots__" not in vars(klass):
            continue
        for descriptor in vars(klass).values():
            if isinstance(descriptor, types.MemberDescriptorType):
                yield descriptor


def _class_functions(kind: type) -> Iterator[types.FunctionType]:
    """The functions a user-defined class (and its bases) defines: its methods may read globals."""
    for klass in kind.__mro__:
        if klass.__module__ == "builtins":
            continue
        for member in vars(klass).values():
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            elif isinstance(member, property):
                member = member.fget
            if isinstance(member, types.FunctionType):
                yield member


def _places_in(value: Any, members_of: Callable[[type], tuple]) -> Iterator[tuple]:
    """``(place, child)`` for every value that ``value`` holds; ``place`` is None where it cannot be overwritten."""
    if isinstance(value, types.FunctionType):
        for cell in value.__closure__ or ():
            try:
                yield _Place(cell, None, "cell"), cell.cell_contents
            except ValueError:  # a cell whose variable is not assigned yet
                continue
        namespace = value.__globals__
        for name in sorted(_code_names(value.__code__)):
            if name in namespace:
                yield _Place(namespace, name, "item"), namespace[name]
        if value.__defaults__:
            yield _Place(value, "__defaults__", "attribute"), value.__defaults__
        if value.__kwdefaults__:
            yield None, value.__kwdefaults__
    elif isinstance(value, types.MethodType):
        yield None, value.__self__
        yield None, value.__func__
    elif isinstance(value, partial):
        yield None, value.func
        yield None, value.keywords
        for argument in value.args:
            yield None, argument
    elif isinstance(value, list):
        if len(value) <= _MAX_ITEMS:
            for index in range(len(value)):
                yield _Place(value, index, "item"), list.__getitem__(value, index)
    elif isinstance(value, dict):
        if len(value) <= _MAX_ITEMS:
            for key in list(dict.keys(value)):
                yield _Place(value, key, "item"), dict.__getitem__(value, key)
    elif isinstance(value, tuple):
        if len(value) <= _MAX_ITEMS:
            for item in value:
                yield None, item
    else:
        try:
            attributes = object.__getattribute__(value, "__dict__")
        except AttributeError:
            attributes = None
        if isinstance(attributes, dict) and len(attributes) <= _MAX_ITEMS:
            for name in list(attributes):
                yield _Place(attributes, name, "item"), attributes[name]
        slots, functions = members_of(type(value))
        for descriptor in slots:
            try:
                yield _Place(value, descriptor, "slot"), descriptor.__get__(value)
            except AttributeError:  # an empty slot
                continue
        for function in functions:
            yield None, function


class _Substitution:
    """One walk over what a loss can reach, replacing parameters and logging every change for undo."""

    def __init__(self, params: Iterable, replacements: Iterable) -> None:
        self.params = list(params)
        self.replacements = list(replacements)
        if len(self.params) != len(self.replacements):
            raise ValueError(
                f"substituted needs one replacement per parameter: {len(self.params)} parameters, "
                f"{len(self.replacements)} replacements"
            )
        self.position = IdDict((param, index) for index, param in enumerate(self.params))
        self.replacement_position = IdDict((stand_in, index) for index, stand_in in enumerate(self.replacements))
        self.found = [False] * len(self.params)
        self.undo = []
        self.rebuilt = {}
        self.visited = set(map(id, self.replacements))
        self.alive = []  # keeps walked objects alive so their ids stay unique during the walk
        self.opaque = {type(None): True}
        self.members = {}

    def is_opaque(self, value: Any) -> bool:
        kind = type(value)
        if kind not in self.opaque:
            self.opaque[kind] = _is_opaque(kind)
        return self.opaque[kind]

    def members_of(self, kind: type) -> tuple:
        """A class's slots and functions, looked up once per walk."""
        if kind not in self.members:
            self.members[kind] = (tuple(_slot_descriptors(kind)), tuple(_class_functions(kind)))
        return self.members[kind]

    def parameter_index(self, value: Any) -> int | None:
        return self.position.get(value)

    def replace(self, place: _Place, original: Any, replacement: Any) -> bool:
        """Write ``replacement`` into ``place``; False if the place refuses (it is then left alone)."""
        self.undo.append((place, original))  # logged first, so an interruption can always undo it
        try:
            place.write(replacement)
        except Exception:  # a read-only slot, a container whose __setitem__ objects
            self.undo.pop()
            return False
        return True

    def walk(self, root: Any) -> None:
        """Breadth first, so every object is reached at its shallowest depth."""
        queue = deque([(root, 0)])
        while queue and len(self.visited) < _MAX_OBJECTS:
            value, depth = queue.popleft()
            if id(value) in self.visited or depth > _MAX_DEPTH:
                continue
            self.visited.add(id(value))
            self.alive.append(value)
            for place, child in _places_in(value, self.members_of):
                self.visit(place, child, depth + 1, queue)

    def visit(self, place: _Place | None, child: Any, depth: int, queue: deque) -> None:
        index = self.parameter_index(child)
        if index is not None:
            if place is not None and self.replace(place, child, self.replacements[index]):
                self.found[index] = True
        elif isinstance(child, tuple):
            rebuilt = self.rebuild(child, depth, queue)
            if rebuilt is not child and place is not None and self.replace(place, child, rebuilt):
                self.mark_found(rebuilt)
        elif not self.is_opaque(child):
            queue.append((child, depth))

    def rebuild(self, original: tuple, depth: int, queue: deque) -> tuple:
        """A copy of a tuple with its parameters (at any tuple depth) replaced, or the tuple itself."""
        if id(original) in self.rebuilt:
            return self.rebuilt[id(original)]
        self.alive.append(original)
        items, changed = [], False
        for item in original if len(original) <= _MAX_ITEMS else ():
            index = self.parameter_index(item)
            if index is not None:
                items.append(self.replacements[index])
                changed = True
                continue
            if isinstance(item, tuple):
                new_item = self.rebuild(item, depth + 1, queue)
                changed = changed or new_item is not item
                item = new_item
            elif not self.is_opaque(item):
                queue.append((item, depth + 1))
            items.append(item)
        self.rebuilt[id(original)] = _rebuilt_tuple(original, items) if changed else original
        return self.rebuilt[id(original)]

    def mark_found(self, rebuilt: tuple) -> None:
        """Note the parameters whose stand-ins a rebuilt tuple (now in place) carries."""
        for item in rebuilt:
            if item in self.replacement_position:
                self.found[self.replacement_position[item]] = True
            elif isinstance(item, tuple):
                self.mark_found(item)

    def restore(self) -> None:
        """Put every original object back, newest change first, even if interrupted while doing so."""
        interruption = None
        while self.undo:
            try:
                while self.undo:
                    place, original = self.undo[-1]
                    place.write(original)
                    self.undo.pop()
            except Exception as error:  # this place refuses its original back: restore the rest, then report
                self.undo.pop()
                interruption = interruption or error
            except BaseException as error:  # a KeyboardInterrupt must not leave a parameter swapped
                interruption = interruption or error
        if interruption is not None:
            raise interruption


def _rebuilt_tuple(original: tuple, items: list) -> tuple:
    if type(original) is tuple:
        return tuple(items)
    if hasattr(original, "_make"):
        return original._make(items)
    return original


@contextmanager
def substituted(loss: Callable, params: Iterable, replacements: Iterable) -> Iterator[list]:
    """Inside the block, every place ``loss`` can read a parameter holds its replacement instead.

    Places are found by following, from ``loss``: the global names its code uses, its closure
    cells and default arguments, the functions and methods those hold (and the methods of
    objects' classes), and the attributes and items of objects, lists, dicts and tuples —
    breadth first, up to six levels deep. Modules, classes' own attributes and the contents
    of arrays are not followed. A tuple holding a parameter is replaced by a rebuilt tuple.

    Yields a list of booleans: whether each parameter was found (one that was not cannot
    affect the loss). On leaving the block — normally, by an exception or by a
    ``KeyboardInterrupt`` — every global, cell, attribute and item touched holds its very
    own original object again.

    >>> import numpy as np
    >>> class Model:
    ...     def __init__(self):
    ...         self.W = np.ones(2)
    >>> model = Model()
    >>> original, unused = model.W, np.zeros(1)
    >>> with substituted(lambda: model.W.sum(), [original, unused], ["stand-in", "other"]) as found:
    ...     model.W
    'stand-in'
    >>> found, model.W is original
    ([True, False], True)
    """
    substitution = _Substitution(params, replacements)
    try:
        substitution.walk(loss)
        yield substitution.found
    finally:
        substitution.restore()


class _Search(_Substitution):
    """A walk that collects the values ``wanted`` accepts instead of replacing anything."""

    def __init__(self, wanted: Callable[[Any], bool]) -> None:
        super().__init__([], [])
        self.wanted = wanted
        self.matches: dict = {}

    def parameter_index(self, value: Any) -> None:
        if self.wanted(value):
            self.matches.setdefault(id(value), value)
        return None


def reachable_values(root: Any, wanted: Callable[[Any], bool]) -> list:
    """The distinct values (by identity) that ``wanted`` accepts among those ``root`` can reach.

    The places searched are the ones :func:`substituted` would write to; nothing is changed.

    >>> scale = [3.0, "label"]
    >>> reachable_values(lambda: scale, lambda value: isinstance(value, float))
    [3.0]
    """
    search = _Search(wanted)
    search.walk(root)
    return list(search.matches.values())
