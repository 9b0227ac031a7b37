"""Progress bars for long derivative computations (``tqdm.auto``: a widget in notebooks, text elsewhere).

Every operator that runs many passes takes ``progress``: ``True`` shows a bar,
``False`` none, and ``"auto"`` shows one when the work takes more than
:data:`LONG_WORK_PASSES` passes (the notebook magics use ``"auto"``).

In a notebook the widget is shown through a display handle that, when the work
ends, is replaced by one line of text (``hessian columns: 192/192 in 0.84 s``):
a saved notebook keeps no widget state, and would otherwise show the widget's
stale text fallback, ``0%| | 0/192``, forever.

>>> list(progress_bar(range(3), progress="auto", description="rows"))
[0, 1, 2]
>>> wants_progress("auto", passes=65), wants_progress("auto", passes=64), wants_progress(True, passes=1)
(True, False, True)
"""

from __future__ import annotations

import time
from typing import Iterable, Iterator, Literal, Union

Progress = Union[bool, Literal["auto"]]

LONG_WORK_PASSES = 64


def wants_progress(progress: Progress, passes: int) -> bool:
    """Whether work of ``passes`` passes shows a bar under the ``progress`` setting."""
    if progress == "auto":
        return passes > LONG_WORK_PASSES
    return bool(progress)


def progress_bar(items: Iterable, progress: Progress, description: str) -> Iterable:
    """``items`` (a sized iterable, one pass each), wrapped in a progress bar when wanted.

    The bar ends with the loop, however it ends: an exception or a ``KeyboardInterrupt`` in the loop's body
    closes the generator as the loop's frame unwinds.
    """
    if not wants_progress(progress, len(items)):
        return items
    return _counted(items, new_bar(len(items), description, unit="it"))


def _counted(items: Iterable, bar) -> Iterator:
    try:
        for item in items:
            yield item
            bar.update(1)
    finally:
        bar.close()


def progress_counter(progress: Progress, total: int, description: str):
    """A bar counting ``total`` rows that the caller advances with ``update(n)`` and ends with ``close()``
    (in a ``finally``, so that an interruption ends it too).

    ``None`` when not wanted.
    """
    if not wants_progress(progress, total):
        return None
    return new_bar(total, description, unit="row")


def new_bar(total: int, description: str, unit: str):
    """A tqdm bar; in a notebook, a :class:`NotebookBar` that leaves a line of text behind, not a stale widget."""
    from tqdm.auto import tqdm
    from tqdm.notebook import tqdm as notebook_tqdm

    if issubclass(tqdm, notebook_tqdm):
        return NotebookBar(total, description, unit)
    return tqdm(total=total, desc=description, unit=unit)


class NotebookBar:
    """tqdm's notebook widget, displayed under a handle that ``close()`` replaces with a summary line."""

    def __init__(self, total: int, description: str, unit: str):
        from IPython.display import display
        from tqdm.notebook import tqdm

        self.bar = tqdm(total=total, desc=description, unit=unit, display=False)
        self.handle = display(self.bar.container, display_id=True)
        self.started = time.perf_counter()

    def update(self, count: int) -> None:
        self.bar.update(count)

    def close(self) -> None:
        """End the bar; its output becomes ``description: done/total in seconds`` (or where it stopped)."""
        self.bar.close()
        seconds = time.perf_counter() - self.started
        done = "" if self.bar.n >= self.bar.total else "stopped at "
        line = f"{self.bar.desc}: {done}{self.bar.n}/{self.bar.total} in {seconds:.2f} s"
        self.handle.update({"text/plain": line}, raw=True)
