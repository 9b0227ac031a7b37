"""What showgrad and hooks leave in a recorded flow: readable names, their reports, the transforms to control.

``showgrad`` and ``hook`` are identity primitives whose derivative rules do
the work; the flow shows them under their public names, attaches each
showgrad report to its operation, and offers the numeric parameters of a
hook's transform (:mod:`zygote_nb.hooks`) to the view's controls.

>>> from zygote_nb.hooks import clip
>>> tunable_parameters(clip(0.5))
{'threshold': 0.5}
>>> tunable_parameters(lambda gradient: 2 * gradient)
{}
"""

from __future__ import annotations

from typing import Any

from ..hooks import GradientTransform, hook_primitive
from ..showgrad import showgrad_primitive, capture_reports

__all__ = ["capture_reports", "display_name", "hook_transform", "showgrad_label", "tunable_parameters"]

# The primitives behind the public functions, by the name a reader knows them by.
_PUBLIC_NAMES = {hook_primitive: "hook", showgrad_primitive: "showgrad"}


def display_name(recorded) -> str:
    """The operation's name as the user wrote it: ``log``, ``multiply``, ``hook``, ``showgrad``."""
    return _PUBLIC_NAMES.get(recorded.fun) or getattr(recorded.fun, "__name__", str(recorded.fun))


def showgrad_label(recorded) -> str | None:
    """The label a recorded ``showgrad`` call reports under (``None`` for any other operation)."""
    return recorded.args[1].label if recorded.fun is showgrad_primitive else None


def hook_transform(recorded) -> Any:
    """The ``fn`` of a recorded ``hook(fn, x)`` call, or ``None`` for any other operation."""
    if recorded.fun is not hook_primitive:
        return None
    return recorded.args[1].transform


def tunable_parameters(transform: Any) -> dict[str, float]:
    """The numeric parameters of a hook transform (``threshold``, ``factor``), by attribute name."""
    if not isinstance(transform, GradientTransform):
        return {}
    return {name: value for name, value in transform.parameters().items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)}
