"""``ignore_derivatives``: values that take part in the computation but carry no gradient.

As a function it returns its argument cut off from differentiation (JAX's
``stop_gradient``, PyTorch's ``detach``); as a context manager every value
the block produces is cut off: what its operations compute, and what its
assignments bind to a name (``t = x`` inside the block makes ``t`` a constant).

>>> import zygote_nb as zn
>>> zn.gradient(lambda x: x * ignore_derivatives(x), 3.0)
(3.0,)
>>> def f(x):
...     with ignore_derivatives():
...         scale = x * 10
...         same = x
...     return scale * x + same * x
>>> zn.gradient(f, 3.0)
(33.0,)
"""

from __future__ import annotations

import ctypes
import sys
import threading
import types
from typing import Any

from autograd.tracer import getval, isbox, trace_stack

from . import structure
from .autograd_patches import ignore_traces_up_to, ignored_trace_level, install_ignore_blocks

_NOTHING = object()


class _OpenBlocks(threading.local):
    """The ignore blocks this thread is inside, innermost last."""

    def __init__(self) -> None:
        self.entries: list = []


_open_blocks = _OpenBlocks()


def _without_boxes(value: Any) -> Any:
    leaves, tree = structure.flatten(value)
    return tree.rebuild([getval(leaf) for leaf in leaves])


def _holds_a_box(value: Any) -> bool:
    return isbox(value) or (isinstance(value, (tuple, list, dict)) and any(map(isbox, structure.flatten(value)[0])))


def _write_names(frame: types.FrameType, names: dict) -> None:
    """Rebind local names of a running frame (a function's locals live apart from ``f_locals`` before 3.13)."""
    frame.f_locals.update(names)
    if sys.version_info < (3, 13) and frame.f_code.co_flags & 1:  # CO_OPTIMIZED: a function's frame
        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))


class _IgnoredBlock:
    """Inside the block, primitives hand back plain values; on leaving it, names it bound to traced values are cut.

    The state lives in the thread, not in the object, so one block object may
    be nested in itself and used from several threads.
    """

    def __enter__(self) -> None:
        install_ignore_blocks()
        frame = sys._getframe(1)
        level_before = ignored_trace_level()
        _open_blocks.entries.append((frame, dict(frame.f_locals), level_before))
        # Traces opened inside the block (a nested gradient) differentiate as usual.
        ignore_traces_up_to(max(trace_stack.top, level_before))

    def __exit__(self, *exc_info) -> None:
        frame, names_before, level_before = _open_blocks.entries.pop()
        ignore_traces_up_to(level_before)
        bound = {name: _without_boxes(value) for name, value in frame.f_locals.items()
                 if names_before.get(name, _NOTHING) is not value and _holds_a_box(value)}
        if bound:
            _write_names(frame, bound)


def ignore_derivatives(value: Any = _NOTHING) -> Any:
    """``value`` with no derivative of any order; with no argument, a context manager for a block.

    ``value`` may be a number, an array or a container of them.  In the block
    form, the results of operations and the names the block binds carry no
    derivative; a traced value stored into an existing container or attribute
    inside the block (``cache["t"] = x``) is not seen: store
    ``ignore_derivatives(x)`` instead.

    >>> import zygote_nb as zn
    >>> zn.gradient(lambda x: x**2 + ignore_derivatives(x**3), 2.0)
    (4.0,)
    """
    if value is _NOTHING:
        return _IgnoredBlock()
    return _without_boxes(value)
