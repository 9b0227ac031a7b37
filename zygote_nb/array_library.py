"""Which array library a value belongs to, and which library a computation runs on.

NumPy is the default.  Another library (CuPy) takes part once its array type is
*registered* (:func:`zygote_nb.backends.register_array_type`; CuPy registers
itself the first time one of its arrays is seen, so the core never imports CuPy
unless the user passes a CuPy array).  Registration is keyed by type: an
:class:`ArrayLibrary` names the library and gives its *namespace*, the module
whose ``zeros``, ``ones``, ``eye``, ``asarray``, ``stack``, ``concatenate`` and
``add.at`` build arrays on that library's device.

The library of a computation is chosen from its inputs.  Python numbers and
NumPy scalars go with any library; NumPy arrays and CuPy arrays together are an
error, unless :func:`set_backend` or :func:`using_backend` forces one library,
and then every input array is moved to it first.

>>> import numpy
>>> is_device_array(numpy.ones(3)), array_namespace(numpy.ones(3), 2.0) is numpy
(False, True)
>>> with using_backend("numpy"):
...     current_backend()
'numpy'
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import numpy
from autograd.tracer import getval


@dataclass(frozen=True)
class ArrayLibrary:
    """An array library: its name and the namespace that makes its arrays."""

    name: str
    namespace: Any

    def moved_here(self, raw: Any) -> Any:
        """``raw`` as an array of this library: an explicit copy between host and device where needed."""
        if library_of(raw) in (None, self):
            return raw
        if self is NUMPY:
            return to_host(raw)
        return self.namespace.asarray(raw)


NUMPY = ArrayLibrary("numpy", numpy)

_libraries: dict[type, ArrayLibrary] = {numpy.ndarray: NUMPY}
_forced: contextvars.ContextVar[ArrayLibrary | None] = contextvars.ContextVar("zygote_nb_backend", default=None)


def register_library(array_type: type, namespace: Any, name: str) -> ArrayLibrary:
    """Record that arrays of ``array_type`` belong to the library ``name`` made by ``namespace``.

    Use :func:`zygote_nb.backends.register_array_type`, which also teaches autograd the type.
    """
    library = ArrayLibrary(name, namespace)
    _libraries[array_type] = library
    return library


def library_of(raw: Any) -> ArrayLibrary | None:
    """The library of the array ``raw``; ``None`` for numbers, NumPy scalars and non-arrays."""
    library = _libraries.get(type(raw))
    if library is None and type(raw).__module__.partition(".")[0] == "cupy":
        from .backends import cupy_arrays

        cupy_arrays.register()
        library = _libraries.get(type(raw))
    return library


def is_device_array(value: Any) -> bool:
    """Whether ``value`` is an array of a registered library other than NumPy (a CuPy array)."""
    library = library_of(value)
    return library is not None and library is not NUMPY


def is_array(value: Any) -> bool:
    """Whether ``value`` is a NumPy array or a registered device array (not a scalar)."""
    return library_of(value) is not None


def array_namespace(*values: Any) -> Any:
    """The namespace that makes arrays for a computation on ``values`` (traced or not).

    The forced library if there is one; otherwise the one library the arrays
    among ``values`` belong to (NumPy when there are none), or, for an array
    type that is not registered, its ``__array_namespace__()``.

    >>> import numpy
    >>> array_namespace(1.0) is numpy
    True
    """
    forced = _forced.get()
    if forced is not None:
        return forced.namespace
    library = _one_library([getval(value) for value in values])
    if library is not None:
        return library.namespace
    for value in values:
        raw = getval(value)
        if hasattr(raw, "__array_namespace__") and not isinstance(raw, (numpy.ndarray, numpy.generic)):
            return raw.__array_namespace__()
    return numpy


def on_one_library(leaves: list) -> list:
    """The argument leaves of one API call, all on one library, or a one-line ``TypeError``.

    With a forced library, untraced array leaves are moved to it; otherwise
    mixing libraries raises, naming the fix.
    """
    forced = _forced.get()
    if forced is None:
        _one_library([getval(leaf) for leaf in leaves])
        return leaves
    return [forced.moved_here(leaf) if library_of(leaf) is not None else leaf for leaf in leaves]


def _one_library(raws: list) -> ArrayLibrary | None:
    libraries = {library.name: library for library in map(library_of, raws) if library is not None}
    if len(libraries) > 1:
        names = sorted(libraries)
        device = next(name for name in names if name != "numpy")
        raise TypeError(
            f"the arguments mix {' and '.join(names)} arrays: move them to one device (cupy.asarray(a) or "
            f"a.get()), or force one with zygote_nb.using_backend({device!r})")
    return next(iter(libraries.values()), None)


def as_cotangent(output: Any, cotangent: Any) -> Any:
    """A number seeding the backward pass of a device array output, made an array on that device.

    ``back(1.0)`` is how every operator seeds a scalar output; on a device the
    rules need an array there, so the number travels to the device (never back).
    """
    raw = getval(output)
    if isinstance(cotangent, (int, float, complex, numpy.generic)) and is_device_array(raw):
        return array_namespace(raw).asarray(cotangent, dtype=numpy.result_type(raw.dtype, cotangent))
    if isinstance(cotangent, (int, float, complex)) and isinstance(raw, numpy.ndarray) and raw.ndim == 0:
        # A 0-d array output gets a 0-d array seed: autograd's rules (where's, pad's) read the seed's shape.
        return numpy.asarray(cotangent, dtype=numpy.result_type(raw.dtype, cotangent))
    return cotangent


def to_host(value: Any) -> Any:
    """``value`` as NumPy data, copied from its device if it is a device array.

    ``.get()`` is the CuPy spelling of "copy to the host", which device arrays share.
    """
    raw = getval(value)
    return raw.get() if is_device_array(raw) else raw


def _library_named(name: str) -> ArrayLibrary:
    if name == "cupy" and not any(library.name == "cupy" for library in _libraries.values()):
        from .backends import cupy_arrays

        cupy_arrays.register()
    for library in _libraries.values():
        if library.name == name:
            return library
    known = sorted({library.name for library in _libraries.values()} | {"cupy"})
    raise ValueError(f"unknown backend {name!r}: use one of {', '.join(map(repr, known))}, or None to choose "
                     f"from the inputs")


def set_backend(name: str | None) -> None:
    """Force every computation onto the library ``name`` (``"numpy"``, ``"cupy"``); ``None`` chooses from the inputs.

    >>> set_backend("numpy"); current_backend()
    'numpy'
    >>> set_backend(None); current_backend() is None
    True
    """
    _forced.set(None if name is None else _library_named(name))


def current_backend() -> str | None:
    """The name of the forced library, or ``None`` when the inputs choose.

    >>> current_backend() is None
    True
    """
    forced = _forced.get()
    return None if forced is None else forced.name


@contextmanager
def using_backend(name: str | None) -> Iterator[None]:
    """Within the block, force the library ``name`` as :func:`set_backend` does; the previous choice returns after.

    >>> import numpy
    >>> import zygote_nb as zn
    >>> with using_backend("numpy"):
    ...     zn.gradient(lambda x: (x * x).sum(), numpy.ones(2))
    (array([2., 2.]),)
    """
    token = _forced.set(None if name is None else _library_named(name))
    try:
        yield
    finally:
        _forced.reset(token)

