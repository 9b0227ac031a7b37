"""Guarded traces: the Python conversions and tuple indices of one trace handed to its owner.

:func:`zygote_nb.per_sample_gradients` must hear of every Python decision taken
from the values it traces (an ``if`` on a traced value, an ``int()``, a tuple
index built from one), because its replay on the whole batch could not take it.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.tracer import Box
from autograd.util import func

from .traces import IndexBox

# The primitive behind ``box[index]``, taken before :func:`guarded_trace` may wrap ``ArrayBox.__getitem__``:
# rule tables key on it, and a node records it whether or not the wrapper is installed.
getitem_primitive = func(ArrayBox.__getitem__)


class _GuardedTraces(threading.local):
    """The trace levels of this thread whose owner watches conversions and tuple indices, with its handlers."""

    def __init__(self) -> None:
        self.handlers: dict = {}


_guarded = _GuardedTraces()
_installing = threading.Lock()
_guards_installed = False


def report_conversion(box: Box, name: str) -> None:
    """Tell the owner of ``box``'s trace, if it guards it, that ``box`` is becoming a plain value by ``name``."""
    handlers = _guarded.handlers.get(box._trace)
    if handlers is not None:
        handlers[0](box, name)


def _converting(name: str, original: Callable) -> Callable:
    def conversion(box, *args):
        report_conversion(box, name)
        return original(box, *args)

    conversion.__name__ = name
    return conversion


def _indexing(original: Callable) -> Callable:
    def __getitem__(array, index):
        handlers = _guarded.handlers.get(array._trace)
        if handlers is not None and isinstance(index, tuple) and any(isinstance(part, Box) for part in index):
            return handlers[1](array, index)
        return original(array, index)

    return __getitem__


def _box_numpy_bool(value: Any, trace: int, node: Any) -> ArrayBox:
    if trace not in _guarded.handlers:
        raise KeyError(type(value))  # autograd's new_box then raises its own "Can't differentiate" error
    return ArrayBox(value, trace, node)


def _install_guards() -> None:
    """Wrap ``Box.__bool__``, ``IndexBox.__index__``/``__int__`` and ``ArrayBox.__getitem__`` once, and box
    NumPy bools, each consulting the calling thread's guarded levels (elsewhere they do what they did)."""
    global _guards_installed
    with _installing:
        if _guards_installed:
            return
        for owner, name in [(Box, "__bool__"), (IndexBox, "__index__"), (IndexBox, "__int__")]:
            setattr(owner, name, _converting(name, vars(owner)[name]))
        ArrayBox.__getitem__ = _indexing(ArrayBox.__getitem__)
        Box.type_mappings[numpy.bool_] = _box_numpy_bool
        _guards_installed = True


@contextmanager
def guarded_trace(level: int, on_conversion: Callable, on_tuple_index: Callable) -> Iterator[None]:
    """While the block runs in this thread, boxes of trace ``level`` report to their owner.

    ``on_conversion(box, method_name)`` runs before such a box becomes a Python
    value (``__bool__``, ``__index__``, ``__int__``) or NumPy reads it as a
    plain array (``__array__``, inside zygote_nb's traces), and may raise;
    ``on_tuple_index(array, index)`` replaces autograd's indexing when a tuple
    index holds traced parts (which autograd would read as plain numbers); and
    a primitive of the level that returns a NumPy bool (a comparison, where the
    node type traces them) gets an ``ArrayBox``.  Other threads and other levels
    see autograd's behaviour: the handlers live in thread-local state, and the
    wrappers installed on first use pass everything else through.

    >>> from autograd.tracer import trace_stack
    >>> seen = []
    >>> with trace_stack.new_trace() as level, guarded_trace(level, lambda box, name: seen.append(name), None):
    ...     bool(IndexBox(3, level, None)), bool(IndexBox(3, level + 1, None))
    (True, True)
    >>> seen
    ['__bool__']
    """
    _install_guards()
    _guarded.handlers[level] = (on_conversion, on_tuple_index)
    try:
        yield
    finally:
        del _guarded.handlers[level]
