"""Progress bars for long derivative computations (``tqdm.auto``: a widget in notebooks, text elsewhere).

Every operator that runs many passes takes ``progress``: ``True`` shows a bar,
``False`` none, and ``"auto"`` shows one when the work takes more than
:data:`LONG_WORK_PASSES` passes (the notebook magics use ``"auto"``).

>>> list(progress_bar(range(3), progress="auto", description="rows"))
[0, 1, 2]
>>> wants_progress("auto", passes=65), wants_progress("auto", passes=64), wants_progress(True, passes=1)
(True, False, True)
"""

from __future__ import annotations

from typing import Iterable, Literal, Union

Progress = Union[bool, Literal["auto"]]

LONG_WORK_PASSES = 64


def wants_progress(progress: Progress, passes: int) -> bool:
    """Whether work of ``passes`` passes shows a bar under the ``progress`` setting."""
    if progress == "auto":
        return passes > LONG_WORK_PASSES
    return bool(progress)


def progress_bar(items: Iterable, progress: Progress, description: str) -> Iterable:
    """``items`` (a sized iterable, one pass each), wrapped in a progress bar when wanted."""
    if not wants_progress(progress, len(items)):
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=description)


def progress_counter(progress: Progress, total: int, description: str):
    """A bar counting ``total`` rows that the caller advances with ``update(n)``; ``None`` when not wanted."""
    if not wants_progress(progress, total):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="row")
