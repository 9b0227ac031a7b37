"""Implicit parameters: ``Params``, ``Grads``, ``IdDict``, and how a loss's arrays are swapped.

Zygote lets a zero-argument loss read its parameters from wherever they live —
globals, closure variables, fields of a model — and returns their gradients
keyed by the arrays themselves. Arrays are not hashable, and two equal arrays
are different parameters, so everything here is keyed by *identity*.

>>> import numpy as np
>>> w, b = np.ones(2), np.zeros(2)
>>> ps = Params([w, b])
>>> gs = Grads(ps, IdDict([(w, np.array([1.0, 2.0]))]))
>>> gs[w], gs[b]
(array([1., 2.]), None)
>>> (gs + gs)[w]
array([2., 4.])

:func:`substituted` is the mechanism behind ``gradient(loss, ps)``: for the
duration of a ``with`` block it puts stand-ins (autograd's boxes) everywhere the
loss can read a parameter, and puts the very same arrays back afterwards.
"""

import html
import numbers
import types
from collections import deque
from collections.abc import MutableMapping
from contextlib import contextmanager
from functools import partial

import numpy as np

from . import backend

__all__ = ["Params", "Grads", "IdDict", "is_parameter_array", "substituted"]


def is_parameter_array(x):
    """Whether ``x`` can be an implicit parameter: a mutable array, held by identity.

    >>> import numpy as np
    >>> is_parameter_array(np.ones(2)), is_parameter_array([1.0, 2.0]), is_parameter_array(1.0)
    (True, False, False)
    """
    return backend.is_array(x)


def _describe(array):
    """``float64 (2, 3)`` — how a parameter or gradient is shown to a user."""
    if array is None:
        return "None"
    return f"{np.result_type(array)} {np.shape(array)}"


class Params:
    """An ordered set of arrays, by identity: the implicit parameters of a loss.

    Adding an array that is already there keeps one copy; two *equal* arrays
    are still two parameters.

    >>> import numpy as np
    >>> w, b = np.ones((2, 3)), np.zeros(2)
    >>> ps = Params([w, b, w])
    >>> ps
    Params([float64 (2, 3), float64 (2,)])
    >>> len(ps), w in ps, np.ones((2, 3)) in ps
    (2, True, False)
    >>> ps.copy_from(np.arange(8.0))
    >>> b
    array([6., 7.])
    """

    def __init__(self, arrays=()):
        if is_parameter_array(arrays):
            raise TypeError("Params takes a list of arrays; write Params([w]) rather than Params(w)")
        self._arrays = IdDict()  # an ordered set: the arrays are the keys
        self.extend(arrays)

    def append(self, array):
        """Add one array (nothing happens if it is already a parameter)."""
        self._add(array, f"Params.append got a {type(array).__name__}")

    def extend(self, arrays):
        """Add every array of an iterable, in order."""
        for index, array in enumerate(arrays):
            self._add(array, f"Params element {index} is a {type(array).__name__}")

    def _add(self, array, what):
        if not is_parameter_array(array):
            raise TypeError(
                f"{what}, not a numpy.ndarray; parameters must be arrays that the loss reads, "
                "e.g. w = np.array([1.0, 2.0])"
            )
        self._arrays.setdefault(array)

    def remove(self, array):
        """Remove a parameter; ``KeyError`` if the array is not one."""
        if array not in self._arrays:
            raise KeyError("Params.remove: that array is not one of the parameters (look it up by the array itself)")
        del self._arrays[array]

    def __contains__(self, array):
        return array in self._arrays

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self):
        return len(self._arrays)

    def __getitem__(self, index):
        return list(self._arrays)[index]

    def __repr__(self):
        return "Params([" + ", ".join(_describe(array) for array in self) + "])"

    def copy_from(self, vector):
        """Overwrite the parameters, in order, from one flat vector (C order); Zygote's ``copy!(ps, v)``."""
        vector = backend.array_namespace(*self).asarray(vector)
        total = sum(array.size for array in self)
        if vector.ndim != 1 or vector.size != total:
            raise ValueError(
                f"copy_from needs a flat vector of length {total} (the parameters' total size), got shape {vector.shape}"
            )
        offset = 0
        for array in self:
            array[...] = vector[offset : offset + array.size].reshape(array.shape)
            offset += array.size


class IdDict(MutableMapping):
    """A dict keyed by object identity, so arrays can be keys (Julia's ``IdDict``).

    >>> import numpy as np
    >>> w = np.ones(2)
    >>> d = IdDict([(w, "weight")])
    >>> d[w], np.ones(2) in d, len(d)
    ('weight', False, 1)
    """

    def __init__(self, pairs=()):
        self._entries = {}
        items = pairs.items() if hasattr(pairs, "items") else pairs
        for key, value in items:
            self[key] = value

    def __getitem__(self, key):
        entry = self._entries.get(id(key))
        if entry is None or entry[0] is not key:
            raise KeyError(f"no entry for this {type(key).__name__} (IdDict looks keys up by identity, not value)")
        return entry[1]

    def get(self, key, default=None):
        entry = self._entries.get(id(key))
        return entry[1] if entry is not None and entry[0] is key else default

    def __setitem__(self, key, value):
        self._entries[id(key)] = (key, value)

    def __delitem__(self, key):
        self[key]
        del self._entries[id(key)]

    def __contains__(self, key):
        entry = self._entries.get(id(key))
        return entry is not None and entry[0] is key

    def __iter__(self):
        return iter([key for key, _ in self._entries.values()])

    def __len__(self):
        return len(self._entries)

    def __repr__(self):
        pairs = ", ".join(f"{_describe_key(key)} => {value!r}" for key, value in self._entries.values())
        return f"IdDict({{{pairs}}})"


def _describe_key(key):
    return _describe(key) if is_parameter_array(key) else repr(key)


def _owned_gradients(params, gradients):
    """The gradients as arrays that Grads may edit in place: writeable, not sharing memory.

    autograd hands the *same* read-only array to both operands of ``a + b``;
    an in-place edit of one parameter's gradient must not change another's.
    """
    owned = []
    for param in params:
        gradient = gradients.get(param)
        if isinstance(gradient, (numbers.Number, np.generic)):
            gradient = np.array(gradient)
        if backend.is_array(gradient) and (
            not getattr(getattr(gradient, "flags", None), "writeable", True)
            or any(np.may_share_memory(gradient, other) for other in owned)
        ):
            gradient = gradient.copy()
        owned.append(gradient)
    return owned


class Grads:
    """Gradients of implicit parameters, looked up by the parameter arrays themselves.

    Built from a :class:`Params` and an :class:`IdDict` from parameters to their
    gradients; a parameter without an entry (one the loss never read) has
    gradient ``None``. The gradients are owned by the ``Grads``: in-place edits
    through :meth:`foreach` or ``+=`` never reach another parameter's gradient.

    Arithmetic (``+``, ``-`` with another ``Grads`` or an ``IdDict`` over the
    same parameters; ``*``, ``/`` by a number; unary ``-``) counts ``None`` as zero.

    >>> import numpy as np
    >>> w, b = np.ones(2), np.ones(3)
    >>> gs = Grads(Params([w, b]), IdDict([(w, np.array([0.5, -2.0]))]))
    >>> gs[b] is None, len(gs), [g is None for g in gs.values()]
    (True, 2, [False, True])
    >>> (2 * gs - gs)[b]
    array([0., 0., 0.])
    >>> gs += IdDict([(w, np.ones(2)), (b, np.ones(3))])
    >>> gs.map(lambda g: np.clip(g, -1, 1))[w]
    array([ 1., -1.])
    """

    def __init__(self, params, gradients):
        params = Params(params)
        gradients = gradients if isinstance(gradients, IdDict) else IdDict(gradients)
        strangers = [key for key in gradients if key not in params]
        if strangers:
            raise ValueError(
                f"Grads got gradients for {len(strangers)} array(s) that are not among the parameters; "
                "key the IdDict by the arrays in params"
            )
        self._params = params
        self._positions = IdDict((param, index) for index, param in enumerate(params))
        self._gradients = _owned_gradients(params, gradients)

    @property
    def params(self):
        """The parameters, in order (a copy: editing it does not change these Grads)."""
        return Params(self._params)

    def _index(self, param):
        if param in self._positions:
            return self._positions[param]
        raise KeyError(
            f"this {type(param).__name__} is not one of the parameters of these Grads; "
            "look gradients up by the very array object given to Params, not a copy or a view"
        )

    def __getitem__(self, param):
        return self._gradients[self._index(param)]

    def __contains__(self, param):
        return param in self._params

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def keys(self):
        """The parameters, in order."""
        return list(self._params)

    def values(self):
        """The gradients, in parameter order (``None`` for an unused parameter)."""
        return list(self._gradients)

    def items(self):
        """``(parameter, gradient)`` pairs, in order."""
        return list(zip(self._params, self._gradients))

    def map(self, fn):
        """New ``Grads`` with ``fn(gradient)`` for every gradient (``None`` stays ``None``)."""
        return self._with([None if g is None else fn(g) for g in self._gradients])

    def foreach(self, fn):
        """Call ``fn(gradient)`` on every gradient that is not ``None``, for in-place edits.

        >>> import numpy as np
        >>> w = np.ones(3)
        >>> gs = Grads(Params([w]), IdDict([(w, np.array([-5.0, 0.05, 5.0]))]))
        >>> gs.foreach(lambda g: np.clip(g, -0.1, 0.1, out=g))
        >>> gs[w]
        array([-0.1 ,  0.05,  0.1 ])
        """
        for gradient in self._gradients:
            if gradient is not None:
                fn(gradient)

    def copy_to(self, vector):
        """Write all gradients, in parameter order and C order, into a flat vector; return it.

        Zygote's ``copy!(v, gs)``; a ``None`` gradient is written as zeros.

        >>> import numpy as np
        >>> w, b = np.ones((2, 2)), np.ones(1)
        >>> Grads(Params([w, b]), IdDict([(w, np.array([[1.0, 2.0], [3.0, 4.0]]))])).copy_to(np.empty(5))
        array([1., 2., 3., 4., 0.])
        """
        total = sum(param.size for param in self._params)
        if np.ndim(vector) != 1 or np.size(vector) != total:
            raise ValueError(
                f"copy_to needs a flat vector of length {total} (the parameters' total size), "
                f"got shape {np.shape(vector)}"
            )
        offset = 0
        for param, gradient in self.items():
            vector[offset : offset + param.size] = 0 if gradient is None else np.ravel(gradient)
            offset += param.size
        return vector

    def _with(self, gradients):
        return Grads(self._params, IdDict(zip(self._params, gradients)))

    def _filled(self):
        return [_zeros_for(p) if g is None else g for p, g in self.items()]

    def _aligned(self, other, operation):
        """``other``'s gradients in this parameter order, ``None`` as zeros; ValueError if the sets differ."""
        if isinstance(other, Grads):
            other = IdDict(other.items())
        if not isinstance(other, IdDict):
            return None
        if len(other) != len(self._params) or any(param not in other for param in self._params):
            raise ValueError(
                f"cannot {operation}: the parameter sets differ ({len(self._params)} here, {len(other)} there); "
                "take both gradients with respect to the same Params"
            )
        aligned = []
        for param, gradient in self.items():
            value = other[param]
            value = _zeros_for(param) if value is None else backend.array_namespace(param).asarray(value)
            if gradient is not None and value.shape != np.shape(gradient):
                raise ValueError(
                    f"cannot {operation}: gradient shapes differ for parameter {_describe(param)} "
                    f"({np.shape(gradient)} here, {value.shape} there)"
                )
            aligned.append(value)
        return aligned

    def __add__(self, other):
        aligned = self._aligned(other, "add")
        if aligned is None:
            return NotImplemented
        return self._with([g + o for g, o in zip(self._filled(), aligned)])

    __radd__ = __add__

    def __sub__(self, other):
        aligned = self._aligned(other, "subtract")
        if aligned is None:
            return NotImplemented
        return self._with([g - o for g, o in zip(self._filled(), aligned)])

    def __iadd__(self, other):
        aligned = self._aligned(other, "add")
        if aligned is None:
            return NotImplemented
        for index, (param, gradient, value) in enumerate(zip(self._params, self._gradients, aligned)):
            if gradient is None:
                self._gradients[index] = value + _zeros_for(param)  # a copy, promoted to a float type
            elif backend.is_array(gradient) and np.can_cast(value.dtype, gradient.dtype, "same_kind"):
                gradient += value
            else:
                self._gradients[index] = gradient + value
        return self

    def __mul__(self, factor):
        if not _is_number(factor):
            return NotImplemented
        return self._with([g * factor for g in self._filled()])

    __rmul__ = __mul__

    def __truediv__(self, divisor):
        if not _is_number(divisor):
            return NotImplemented
        return self._with([g / divisor for g in self._filled()])

    def __neg__(self):
        return self._with([-g for g in self._filled()])

    def _rows(self):
        """One row of summary strings per parameter: shapes, norm, min, max, NaN/Inf count."""
        rows = []
        for index, (param, gradient) in enumerate(self.items()):
            rows.append([str(index), _describe(param), _describe(gradient), *_statistics(gradient)])
        return rows

    def __repr__(self):
        lines = [f"Grads({len(self)} parameter{'s' if len(self) != 1 else ''}):"]
        for index, param, gradient, norm, low, high, bad in self._rows():
            if gradient == "None":
                lines.append(f"  [{index}] {param}: None")
            else:
                lines.append(f"  [{index}] {param}: norm={norm} min={low} max={high} nan/inf={bad}")
        return "\n".join(lines)

    def _repr_html_(self):
        header = ["#", "parameter", "gradient", "norm", "min", "max", "NaN/Inf"]
        return _html_table(header, self._rows(), caption=f"Grads ({len(self)} parameters)")


def _zeros_for(param):
    dtype = param.dtype if np.issubdtype(param.dtype, np.inexact) else np.float64
    return backend.array_namespace(param).zeros(param.shape, dtype=dtype)


def _is_number(value):
    return isinstance(value, (numbers.Number, np.generic)) or (isinstance(value, np.ndarray) and value.ndim == 0)


def _statistics(gradient):
    """norm, min, max (over finite entries) and the count of NaN/Inf entries, as short strings."""
    if gradient is None:
        return ["", "", "", ""]
    gradient = np.asarray(backend.to_host(gradient))
    finite = gradient[np.isfinite(gradient)]
    low = high = "—"
    if finite.size and not np.iscomplexobj(finite):
        low, high = f"{finite.min():.4g}", f"{finite.max():.4g}"
    norm = f"{np.linalg.norm(gradient.ravel()):.4g}" if gradient.size else "0"
    return [norm, low, high, str(gradient.size - finite.size)]


def _html_table(header, rows, caption=""):
    """An HTML table whose every cell, header and caption is escaped."""
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        f"<table><caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


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

    def __init__(self, owner, key, kind):
        self.owner, self.key, self.kind = owner, key, kind

    def write(self, value):
        if self.kind == "item":
            self.owner[self.key] = value
        elif self.kind == "cell":
            self.owner.cell_contents = value
        elif self.kind == "slot":
            self.key.__set__(self.owner, value)
        else:
            setattr(self.owner, self.key, value)


def _is_opaque(kind):
    """Values of this type hold no place a loss reads a parameter from.

    Arrays and autograd boxes are among them: their contents are data.
    """
    return (
        issubclass(kind, _OPAQUE)
        or hasattr(kind, "__array__")
        or hasattr(kind, "__array_priority__")
        or hasattr(kind, "__array_namespace__")
    )


def _code_names(code):
    """Every name that a code object or the code nested in it (lambdas, comprehensions) looks up."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _code_names(constant)
    return names


def _slot_descriptors(kind):
    """The ``__slots__`` members that Python classes in ``kind``'s hierarchy declare."""
    for klass in kind.__mro__:
        if "__slots__" not in vars(klass):
            continue
        for descriptor in vars(klass).values():
            if isinstance(descriptor, types.MemberDescriptorType):
                yield descriptor


def _class_functions(kind):
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


def _places_in(value, members_of):
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

    def __init__(self, params, replacements):
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

    def is_opaque(self, value):
        kind = type(value)
        if kind not in self.opaque:
            self.opaque[kind] = _is_opaque(kind)
        return self.opaque[kind]

    def members_of(self, kind):
        """A class's slots and functions, looked up once per walk."""
        if kind not in self.members:
            self.members[kind] = (tuple(_slot_descriptors(kind)), tuple(_class_functions(kind)))
        return self.members[kind]

    def parameter_index(self, value):
        return self.position.get(value)

    def replace(self, place, original, replacement):
        """Write ``replacement`` into ``place``; False if the place refuses (it is then left alone)."""
        self.undo.append((place, original))  # logged first, so an interruption can always undo it
        try:
            place.write(replacement)
        except Exception:  # a read-only slot, a container whose __setitem__ objects
            self.undo.pop()
            return False
        return True

    def walk(self, root):
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

    def visit(self, place, child, depth, queue):
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

    def rebuild(self, original, depth, queue):
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

    def mark_found(self, rebuilt):
        """Note the parameters whose stand-ins a rebuilt tuple (now in place) carries."""
        for item in rebuilt:
            if item in self.replacement_position:
                self.found[self.replacement_position[item]] = True
            elif isinstance(item, tuple):
                self.mark_found(item)

    def restore(self):
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


def _rebuilt_tuple(original, items):
    if type(original) is tuple:
        return tuple(items)
    if hasattr(original, "_make"):
        return original._make(items)
    return original


@contextmanager
def substituted(loss, params, replacements):
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
