"""A stand-in for a CuPy array on the CPU: a NumPy-protocol duck array that refuses to become NumPy.

:class:`DuckArray` wraps an ndarray ("device memory") and treats NumPy the way
``cupy.ndarray`` does:

* ufuncs run through ``__array_ufunc__`` (plain calls only, as CuPy), NumPy
  functions through ``__array_function__``; both return duck arrays, and a
  full reduction gives a 0-d duck array, not a NumPy scalar;
* ``numpy.asarray(d)`` and ``numpy.array(d)`` raise ``TypeError`` with CuPy's
  message: no silent copy to the host;
* a NumPy array as an operand raises ``TypeError`` with CuPy's message (integer
  arrays are still accepted as a function's axes or shape, and integer and
  boolean ones as indices, which CuPy uploads);
* ``d.get()`` is the explicit copy to the host; it and ``float(d)``, ``int(d)``,
  ``bool(d)`` count in :attr:`DuckArray.host_transfers`, so a test can prove
  that a computation moved nothing to the host.

:data:`namespace` plays the ``cupy`` module: ``zeros``, ``ones``, ``eye``,
``asarray`` ... make duck arrays, ``add.at`` scatters into one, and any other
name is NumPy's function, which dispatches to the duck arrays it is given.

The type is registered with zygote_nb exactly as CuPy registers itself::

    register_array_type(DuckArray, namespace, name="duck")

>>> d = namespace.asarray([1.0, 2.0])
>>> (d * 2 + 1).sum()
DuckArray(8.)
>>> import numpy
>>> numpy.asarray(d)
Traceback (most recent call last):
...
TypeError: Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array explicitly.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy
from numpy.lib.mixins import NDArrayOperatorsMixin

from zygote_nb.backends import register_array_type

IMPLICIT_CONVERSION = ("Implicit conversion to a NumPy array is not allowed. "
                       "Please use `.get()` to construct a NumPy array explicitly.")


def _refuse_host_array(value: numpy.ndarray) -> None:
    raise TypeError(f"Unsupported type {type(value)}")


# The NumPy arrays CuPy accepts beside its own: none as ufunc operands, integer ones as a
# function's axes or shape, integer and boolean ones as indices (uploaded).
OPERANDS, METADATA, INDICES = "", "iu", "biu"


def _unwrap(value: Any, accepted_kinds: str) -> Any:
    """``value`` with every duck array replaced by its data; NumPy arrays of other kinds are refused."""
    if isinstance(value, DuckArray):
        return value._data
    if isinstance(value, numpy.ndarray):
        if value.dtype.kind not in accepted_kinds:
            _refuse_host_array(value)
        return value
    if type(value) in (list, tuple):
        return type(value)(_unwrap(item, accepted_kinds) for item in value)
    if isinstance(value, dict):
        return {key: _unwrap(item, accepted_kinds) for key, item in value.items()}
    return value


def _wrap(value: Any) -> Any:
    """NumPy results as duck arrays (NumPy scalars as 0-d ones, as CuPy returns them)."""
    if isinstance(value, numpy.ndarray):
        return DuckArray(value)
    if isinstance(value, numpy.generic):
        return DuckArray(numpy.asarray(value))
    if type(value) in (list, tuple):
        return type(value)(_wrap(item) for item in value)
    return value


def _method(name: str):
    def method(self, *args, **kwargs):
        return _wrap(getattr(self._data, name)(*_unwrap(args, METADATA), **_unwrap(kwargs, METADATA)))

    method.__name__ = name
    return method


class DuckArray(NDArrayOperatorsMixin):
    """An ndarray behind CuPy's manners: see the module docstring."""

    __slots__ = ("_data", "__weakref__")
    host_transfers = 0

    def __init__(self, data: numpy.ndarray):
        if not isinstance(data, numpy.ndarray):
            raise TypeError(f"DuckArray wraps an ndarray, not {type(data).__name__}")
        self._data = data

    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    T = property(lambda self: DuckArray(self._data.T))
    real = property(lambda self: DuckArray(self._data.real))
    imag = property(lambda self: DuckArray(self._data.imag))

    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT_CONVERSION)

    def __array_namespace__(self, *, api_version=None):
        return namespace

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        out = kwargs.pop("out", None)
        operands = inputs + (out or ())
        if not all(isinstance(item, (DuckArray, numpy.ndarray, numbers.Number, numpy.generic)) for item in operands):
            return NotImplemented
        if out is not None:
            kwargs["out"] = _unwrap(out, OPERANDS)
        result = ufunc(*_unwrap(inputs, OPERANDS), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        if not all(issubclass(kind, (DuckArray, numpy.ndarray)) for kind in types):
            return NotImplemented
        return _wrap(func(*_unwrap(args, METADATA), **_unwrap(kwargs, METADATA)))

    def get(self) -> numpy.ndarray:
        """A copy on the host: the one explicit way out."""
        DuckArray.host_transfers += 1
        return self._data.copy()

    def _to_host_scalar(self, convert):
        DuckArray.host_transfers += 1
        return convert(self._data)

    def __float__(self):
        return self._to_host_scalar(float)

    def __int__(self):
        return self._to_host_scalar(int)

    def __complex__(self):
        return self._to_host_scalar(complex)

    def __bool__(self):
        return self._to_host_scalar(bool)

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return (self[index] for index in range(len(self)))

    def __getitem__(self, index):
        return _wrap(self._data[_unwrap(index, INDICES)])

    def __setitem__(self, index, value):
        self._data[_unwrap(index, INDICES)] = _unwrap(value, OPERANDS)

    def __repr__(self):
        return f"DuckArray({numpy.array2string(self._data, separator=', ')})"

    astype, copy, reshape, ravel, flatten = map(_method, ("astype", "copy", "reshape", "ravel", "flatten"))
    transpose, swapaxes, squeeze, conj, dot = map(_method, ("transpose", "swapaxes", "squeeze", "conj", "dot"))
    sum, mean, prod, cumsum, max, min = map(_method, ("sum", "mean", "prod", "cumsum", "max", "min"))
    any, all, argmax, argmin = map(_method, ("any", "all", "argmax", "argmin"))


class _Ufunc:
    """A ufunc of the duck namespace: calls dispatch to duck arrays, ``at`` scatters into one in place."""

    def __init__(self, ufunc: numpy.ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        return self._ufunc(*args, **kwargs)

    def at(self, target: DuckArray, index: Any, values: Any = None) -> None:
        self._ufunc.at(target._data, _unwrap(index, INDICES), _unwrap(values, OPERANDS))


class _Namespace:
    """The duck arrays' ``cupy`` module: constructors that make duck arrays, NumPy's functions for the rest."""

    add = _Ufunc(numpy.add)

    @staticmethod
    def asarray(value, dtype=None):
        """Upload: host data (numbers, lists, NumPy arrays) becomes a duck array, as with ``cupy.asarray``."""
        if isinstance(value, DuckArray):
            return value if dtype is None or value.dtype == dtype else DuckArray(value._data.astype(dtype))
        data = value if isinstance(value, numpy.ndarray) else _unwrap(value, METADATA)
        return DuckArray(numpy.array(data, dtype=dtype))

    def __getattr__(self, name):
        function = getattr(numpy, name)
        if name in ("zeros", "ones", "empty", "full", "eye", "identity", "arange", "linspace"):
            return lambda *args, **kwargs: DuckArray(numpy.asarray(function(*args, **kwargs)))
        return function


namespace = _Namespace()

register_array_type(DuckArray, namespace, name="duck")


def duck(value: Any) -> DuckArray:
    """``value`` (a list, number or NumPy array) uploaded as a duck array."""
    return namespace.asarray(value)


def host(value: Any) -> Any:
    """Duck arrays in ``value`` (possibly nested in tuples, lists, dicts) copied to NumPy, without counting."""
    if isinstance(value, DuckArray):
        return value._data.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(host(item) for item in value) if not hasattr(value, "_fields") else \
            type(value)(*(host(item) for item in value))
    if isinstance(value, dict):
        return {key: host(item) for key, item in value.items()}
    return value
