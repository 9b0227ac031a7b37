"""``Grads``: the gradients of implicit parameters, looked up by the parameter arrays themselves.

>>> import numpy as np
>>> from zygote_nb.params import IdDict, Params
>>> w, b = np.ones(2), np.zeros(2)
>>> gs = Grads(Params([w, b]), IdDict([(w, np.array([1.0, 2.0]))]))
>>> gs[w], gs[b]
(array([1., 2.]), None)
>>> (gs + gs)[w]
array([2., 4.])
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable

import numpy as np

from . import array_library
from .flow.statistics import summarize
from .params import IdDict, Params, describe

__all__ = ["Grads"]


def _owned_gradients(params: Params, gradients: IdDict) -> list:
    """The gradients as arrays that Grads may edit in place: writeable, not sharing memory.

    autograd hands the *same* read-only array to both operands of ``a + b``;
    an in-place edit of one parameter's gradient must not change another's.
    """
    owned = []
    for param in params:
        gradient = gradients.get(param)
        if isinstance(gradient, (numbers.Number, np.generic)):
            gradient = np.array(gradient)
        if array_library.is_array(gradient) and (
            not getattr(getattr(gradient, "flags", None), "writeable", True)
            or any(np.may_share_memory(gradient, other) for other in owned)
        ):
            gradient = gradient.copy()
        owned.append(gradient)
    return owned


class Grads:
    """Gradients of implicit parameters, looked up by the parameter arrays themselves.

    Built from a :class:`Params` and an :class:`IdDict` from parameters to their
    gradients; a parameter without an entry (one the loss never read) has
    gradient ``None``. The gradients are owned by the ``Grads``: in-place edits
    through :meth:`foreach` or ``+=`` never reach another parameter's gradient.

    Arithmetic (``+``, ``-`` with another ``Grads`` or an ``IdDict`` over the
    same parameters; ``*``, ``/`` by a number; unary ``-``) counts ``None`` as zero.
    A plain ``dict`` cannot be keyed by arrays (Python says "unhashable type"
    while building ``{w: g}``): write ``IdDict([(w, g)])``.

    Like a dict, a ``Grads`` iterates over its keys, the *parameters*: the
    built-in ``map(f, gs)`` applies ``f`` to the parameter arrays.  To
    transform the gradients, use :meth:`map` (``gs.map(f)``) or :meth:`values`.

    >>> import numpy as np
    >>> w, b = np.ones(2), np.ones(3)
    >>> gs = Grads(Params([w, b]), IdDict([(w, np.array([0.5, -2.0]))]))
    >>> gs[b] is None, len(gs), [g is None for g in gs.values()]
    (True, 2, [False, True])
    >>> (2 * gs - gs)[b]
    array([0., 0., 0.])
    >>> gs += IdDict([(w, np.ones(2)), (b, np.ones(3))])
    >>> gs.map(lambda g: np.clip(g, -1, 1))[w]
    array([ 1., -1.])
    """

    def __init__(self, params: Iterable, gradients: IdDict | Iterable) -> None:
        params = Params(params)
        gradients = gradients if isinstance(gradients, IdDict) else IdDict(gradients)
        strangers = [key for key in gradients if key not in params]
        if strangers:
            raise ValueError(
                f"Grads got gradients for {len(strangers)} array(s) that are not among the parameters; "
                "key the IdDict by the arrays in params"
            )
        self._params = params
        self._positions = IdDict((param, index) for index, param in enumerate(params))
        self._gradients = _owned_gradients(params, gradients)

    @property
    def params(self) -> Params:
        """The parameters, in order (a copy: editing it does not change these Grads)."""
        return Params(self._params)

    def _index(self, param: Any) -> int:
        if param in self._positions:
            return self._positions[param]
        raise KeyError(
            f"this {type(param).__name__} is not one of the parameters of these Grads; "
            "look gradients up by the very array object given to Params, not a copy or a view"
        )

    def __getitem__(self, param: Any) -> Any:
        return self._gradients[self._index(param)]

    def __contains__(self, param: Any) -> bool:
        return param in self._params

    def __iter__(self) -> Iterator:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def keys(self) -> list:
        """The parameters, in order."""
        return list(self._params)

    def values(self) -> list:
        """The gradients, in parameter order (``None`` for an unused parameter)."""
        return list(self._gradients)

    def items(self) -> list:
        """``(parameter, gradient)`` pairs, in order."""
        return list(zip(self._params, self._gradients))

    def map(self, fn: Callable) -> Grads:
        """New ``Grads`` with ``fn(gradient)`` for every gradient (``None`` stays ``None``).

        Not the built-in ``map(fn, gs)``, which iterates the parameters.
        """
        return self._with([None if g is None else fn(g) for g in self._gradients])

    def foreach(self, fn: Callable) -> None:
        """Call ``fn(gradient)`` on every gradient that is not ``None``, for in-place edits.

        >>> import numpy as np
        >>> w = np.ones(3)
        >>> gs = Grads(Params([w]), IdDict([(w, np.array([-5.0, 0.05, 5.0]))]))
        >>> gs.foreach(lambda g: np.clip(g, -0.1, 0.1, out=g))
        >>> gs[w]
        array([-0.1 ,  0.05,  0.1 ])
        """
        for gradient in self._gradients:
            if gradient is not None:
                fn(gradient)

    def copy_to(self, vector: Any) -> Any:
        """Write all gradients, in parameter order and C order, into a flat vector; return it.

        Zygote's ``copy!(v, gs)``; a ``None`` gradient is written as zeros.

        >>> import numpy as np
        >>> w, b = np.ones((2, 2)), np.ones(1)
        >>> Grads(Params([w, b]), IdDict([(w, np.array([[1.0, 2.0], [3.0, 4.0]]))])).copy_to(np.empty(5))
        array([1., 2., 3., 4., 0.])
        """
        total = sum(param.size for param in self._params)
        if np.ndim(vector) != 1 or np.size(vector) != total:
            raise ValueError(
                f"copy_to needs a flat vector of length {total} (the parameters' total size), "
                f"got shape {np.shape(vector)}"
            )
        offset = 0
        for param, gradient in self.items():
            vector[offset : offset + param.size] = 0 if gradient is None else np.ravel(gradient)
            offset += param.size
        return vector

    def _with(self, gradients: list) -> Grads:
        return Grads(self._params, IdDict(zip(self._params, gradients)))

    def _filled(self) -> list:
        return [_zeros_for(p) if g is None else g for p, g in self.items()]

    def _aligned(self, other: Any, operation: str) -> list | None:
        """``other``'s gradients in this parameter order, ``None`` as zeros; ValueError if the sets differ."""
        if isinstance(other, Grads):
            other = IdDict(other.items())
        if isinstance(other, Mapping) and not isinstance(other, IdDict):
            raise TypeError(f"cannot {operation} Grads and a {type(other).__name__}: key the gradients by the "
                            "parameter arrays with an IdDict, e.g. gs + IdDict([(w, g)]) (a dict cannot hold "
                            "arrays as keys)")
        if not isinstance(other, IdDict):
            return None
        if len(other) != len(self._params) or any(param not in other for param in self._params):
            raise ValueError(
                f"cannot {operation}: the parameter sets differ ({len(self._params)} here, {len(other)} there); "
                "take both gradients with respect to the same Params"
            )
        aligned = []
        for param, gradient in self.items():
            value = other[param]
            value = _zeros_for(param) if value is None else array_library.array_namespace(param).asarray(value)
            if gradient is not None and value.shape != np.shape(gradient):
                raise ValueError(
                    f"cannot {operation}: gradient shapes differ for parameter {describe(param)} "
                    f"({np.shape(gradient)} here, {value.shape} there)"
                )
            aligned.append(value)
        return aligned

    def __add__(self, other: Any) -> Grads:
        aligned = self._aligned(other, "add")
        if aligned is None:
            return NotImplemented
        return self._with([g + o for g, o in zip(self._filled(), aligned)])

    __radd__ = __add__

    def __sub__(self, other: Any) -> Grads:
        aligned = self._aligned(other, "subtract")
        if aligned is None:
            return NotImplemented
        return self._with([g - o for g, o in zip(self._filled(), aligned)])

    def __iadd__(self, other: Any) -> Grads:
        aligned = self._aligned(other, "add")
        if aligned is None:
            return NotImplemented
        for index, (param, gradient, value) in enumerate(zip(self._params, self._gradients, aligned)):
            if gradient is None:
                self._gradients[index] = value + _zeros_for(param)  # a copy, promoted to a float type
            elif array_library.is_array(gradient) and np.can_cast(value.dtype, gradient.dtype, "same_kind"):
                gradient += value
            else:
                self._gradients[index] = gradient + value
        return self

    def __mul__(self, factor: Any) -> Grads:
        if not _is_number(factor):
            return NotImplemented
        return self._with([g * factor for g in self._filled()])

    __rmul__ = __mul__

    def __truediv__(self, divisor: Any) -> Grads:
        if not _is_number(divisor):
            return NotImplemented
        return self._with([g / divisor for g in self._filled()])

    def __neg__(self) -> Grads:
        return self._with([-g for g in self._filled()])

    def _rows(self) -> list:
        """One row per parameter: its index, the parameter's and the gradient's dtype and shape, and the
        gradient's norm, min, max (over its finite entries, as everywhere in zygote_nb) and NaN/Inf count."""
        rows = []
        for index, (param, gradient) in enumerate(self.items()):
            rows.append([str(index), describe(param), describe(gradient), *_statistics(gradient)])
        return rows

    def __repr__(self) -> str:
        lines = [f"Grads({_counted(len(self), 'parameter')}):"]
        for index, param, gradient, norm, low, high, bad in self._rows():
            if gradient == "None":
                lines.append(f"  [{index}] parameter {param}: gradient None")
            else:
                lines.append(f"  [{index}] parameter {param}: gradient {gradient}, norm={norm} min={low} max={high} "
                             f"nan/inf={bad}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        header = ["#", "parameter", "gradient", "norm", "min", "max", "NaN/Inf"]
        return _html_table(header, self._rows(), caption=f"Grads ({_counted(len(self), 'parameter')})")


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _zeros_for(param: Any) -> Any:
    dtype = param.dtype if np.issubdtype(param.dtype, np.inexact) else np.float64
    return array_library.array_namespace(param).zeros(param.shape, dtype=dtype)


def _is_number(value: Any) -> bool:
    return isinstance(value, (numbers.Number, np.generic)) or (isinstance(value, np.ndarray) and value.ndim == 0)


def _statistics(gradient: Any) -> list:
    """norm, min, max (over the finite entries, see :func:`~zygote_nb.flow.statistics.summarize`) and the count
    of NaN/Inf entries, as short strings."""
    summary = summarize(gradient)
    if summary is None:
        return ["", "", "", ""]
    low, high = (("—", "—") if summary.minimum is None or summary.dtype.startswith("complex")
                 else (f"{summary.minimum:.4g}", f"{summary.maximum:.4g}"))
    norm = "—" if summary.norm is None else f"{summary.norm:.4g}"
    return [norm, low, high, str(summary.nan_count + summary.inf_count)]


def _html_table(header: list, rows: list, caption: str = "") -> str:
    """An HTML table whose every cell, header and caption is escaped."""
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        f"<table><caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


