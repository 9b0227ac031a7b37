"""Implicit parameters: ``Params``, an ordered set of arrays, and ``IdDict``, a dict keyed by identity.

Zygote lets a zero-argument loss read its parameters from wherever they live —
globals, closure variables, fields of a model — and returns their gradients
keyed by the arrays themselves (:class:`~zygote_nb.grads.Grads`). Arrays are
not hashable, and two equal arrays are different parameters, so everything
here is keyed by *identity*.  How a loss's parameters are swapped for traced
stand-ins is :mod:`zygote_nb.substitution`.

>>> import numpy as np
>>> w, b = np.ones(2), np.zeros(2)
>>> ps = Params([w, b])
>>> ps, w in ps, np.ones(2) in ps
(Params([float64 (2,), float64 (2,)]), True, False)
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any, Iterator

import numpy as np

from . import array_library

__all__ = ["IdDict", "Params", "describe", "is_parameter_array"]


def is_parameter_array(x: Any) -> bool:
    """Whether ``x`` can be an implicit parameter: a mutable array, held by identity.

    >>> import numpy as np
    >>> is_parameter_array(np.ones(2)), is_parameter_array([1.0, 2.0]), is_parameter_array(1.0)
    (True, False, False)
    """
    return array_library.is_array(x)


def describe(array: Any) -> str:
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

    def __init__(self, arrays: Iterable = ()) -> None:
        if is_parameter_array(arrays):
            raise TypeError("Params takes a list of arrays; write Params([w]) rather than Params(w)")
        self._arrays = IdDict()  # an ordered set: the arrays are the keys
        self.extend(arrays)

    def append(self, array: Any) -> None:
        """Add one array (nothing happens if it is already a parameter)."""
        self._add(array, f"Params.append got a {type(array).__name__}")

    def extend(self, arrays: Iterable) -> None:
        """Add every array of an iterable, in order."""
        for index, array in enumerate(arrays):
            self._add(array, f"Params element {index} is a {type(array).__name__}")

    def _add(self, array: Any, what: str) -> None:
        if not is_parameter_array(array):
            raise TypeError(
                f"{what}, not a numpy.ndarray; parameters must be arrays that the loss reads, "
                "e.g. w = np.array([1.0, 2.0])"
            )
        self._arrays.setdefault(array)

    def remove(self, array: Any) -> None:
        """Remove a parameter; ``KeyError`` if the array is not one."""
        if array not in self._arrays:
            raise KeyError("Params.remove: that array is not one of the parameters (look it up by the array itself)")
        del self._arrays[array]

    def __contains__(self, array: Any) -> bool:
        return array in self._arrays

    def __iter__(self) -> Iterator:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __getitem__(self, index: int) -> Any:
        return list(self._arrays)[index]

    def __repr__(self) -> str:
        return "Params([" + ", ".join(describe(array) for array in self) + "])"

    def copy_from(self, vector: Any) -> None:
        """Overwrite the parameters, in order, from one flat vector (C order); Zygote's ``copy!(ps, v)``."""
        vector = array_library.array_namespace(*self).asarray(vector)
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

    def __init__(self, pairs: Any = ()) -> None:
        self._entries = {}
        items = pairs.items() if hasattr(pairs, "items") else pairs
        for key, value in items:
            self[key] = value

    def __getitem__(self, key: Any) -> Any:
        entry = self._entries.get(id(key))
        if entry is None or entry[0] is not key:
            raise KeyError(f"no entry for this {type(key).__name__} (IdDict looks keys up by identity, not value)")
        return entry[1]

    def get(self, key: Any, default: Any = None) -> Any:
        entry = self._entries.get(id(key))
        return entry[1] if entry is not None and entry[0] is key else default

    def __setitem__(self, key: Any, value: Any) -> None:
        self._entries[id(key)] = (key, value)

    def __delitem__(self, key: Any) -> None:
        self[key]
        del self._entries[id(key)]

    def __contains__(self, key: Any) -> bool:
        entry = self._entries.get(id(key))
        return entry is not None and entry[0] is key

    def __iter__(self) -> Iterator:
        return iter([key for key, _ in self._entries.values()])

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        pairs = ", ".join(f"{_describe_key(key)} => {value!r}" for key, value in self._entries.values())
        return f"IdDict({{{pairs}}})"


def _describe_key(key: Any) -> str:
    return describe(key) if is_parameter_array(key) else repr(key)


