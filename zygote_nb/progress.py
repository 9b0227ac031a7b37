"""Progress bars for long derivative computations (``tqdm.auto``: a widget in notebooks, text elsewhere).

>>> list(progress_bar(range(3), enabled=False, description="rows"))
[0, 1, 2]
"""

from __future__ import annotations

from typing import Iterable


def progress_bar(items: Iterable, enabled: bool, description: str) -> Iterable:
    """``items``, wrapped in a progress bar when ``enabled``."""
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=description)
