"""Ignore blocks: inside a block of :func:`zygote_nb.ignore_derivatives`, primitives hand back plain values.

One wrapper of ``autograd.tracer.new_box``, installed once, reads a per-thread
cut level, so the blocks are thread-safe and nest.
"""

from __future__ import annotations

import threading
from typing import Any

import autograd.tracer


class _IgnoredTraces(threading.local):
    """The deepest trace level whose primitives return unboxed values in this thread (-1 cuts none)."""

    level = -1  # autograd numbers traces from 0


_ignored = _IgnoredTraces()
_installing = threading.Lock()
_plain_new_box = None


def ignored_trace_level() -> int:
    """The deepest trace level cut by the ignore blocks open in this thread (-1 when none is open)."""
    return _ignored.level


def ignore_traces_up_to(level: int) -> None:
    """Cut traces ``0..level`` in this thread: their primitives return plain values (-1 cuts none)."""
    _ignored.level = level


def _new_box_unless_ignored(value: Any, trace: int, node: Any) -> Any:
    if trace <= _ignored.level:
        return value
    return _plain_new_box(value, trace, node)


def install_ignore_blocks() -> None:
    """Wrap ``autograd.tracer.new_box`` once, so that primitives in a cut trace return plain values.

    autograd's ``primitive`` boxes every result through the module global
    ``autograd.tracer.new_box``, looked up at call time.  The wrapper consults
    the calling thread's own cut level, so another thread differentiating
    meanwhile is untouched.  It is installed lazily, on the first ignore block,
    so that code which never opens one runs autograd's ``new_box`` unwrapped.

    >>> install_ignore_blocks(); install_ignore_blocks()
    >>> autograd.tracer.new_box is _new_box_unless_ignored
    True
    """
    global _plain_new_box
    with _installing:
        if _plain_new_box is None:
            _plain_new_box = autograd.tracer.new_box
            autograd.tracer.new_box = _new_box_unless_ignored
