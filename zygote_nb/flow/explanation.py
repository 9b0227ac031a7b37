"""Why a NaN survives a mask: the discarded branch of ``np.where`` still takes part in the backward pass.

``np.where(x > 0, np.sqrt(x), 0.0)`` has a finite value at ``x == 0``, yet its
gradient there is NaN: ``where`` sends the discarded branch a zero gradient,
and ``sqrt``'s derivative at 0 is infinite, so the chain rule multiplies
``0 × inf = NaN``. The cure is to mask the *input* of the operation, so that it
never sees the bad value: ``np.sqrt(np.where(x > 0, x, 1.0))``.

:func:`explain` recognises this at an :class:`~zygote_nb.flow.origin.Origin`:
the gradient that reached the operation is zero at an entry where the
operation's own derivative is not finite. When a masking operation (``where``,
``select``, ``piecewise``, ``clip``, ``maximum``, ``minimum``) is downstream,
the story names it and gives the rewrite in the user's own source text, then
checks it: the backward pass runs again with the rewritten operation (its
derivative taken at the masked input) and the sentence says whether every
gradient is then finite. Without a mask only the ``0 × inf`` is told. (It works on the flow's own record,
the recorded primitive calls and the pullback that :mod:`~zygote_nb.flow.recording`
keeps, and leaves that record as it found it.)

>>> import numpy
>>> import zygote_nb.numpy as np
>>> from zygote_nb.flow import trace_gradient
>>> def loss(x):
...     return np.sum(np.where(x > 0, np.sqrt(x), 0.0))
>>> with numpy.errstate(all="ignore"):
...     flow = trace_gradient(loss, numpy.array([4.0, 0.0]))
>>> print(flow.backward_origin.explanation)  # doctest: +NORMALIZE_WHITESPACE
`np.sqrt(x)` is in the branch that `np.where(x > 0, …)` discards at index 1 where x == 0, yet the
gradient is NaN there: where sends the discarded branch a zero gradient, and sqrt's derivative there
is inf, so the backward pass computes 0 × inf = NaN. Mask the input instead:
`np.sqrt(np.where(x > 0, x, 1.0))` (checked: with it every gradient is finite).
"""

from __future__ import annotations

import ast
import dataclasses
import warnings
from typing import Any

import numpy

from .. import structure
from ..pullback import pullback
from .origin import Origin, offending_entries
from .reports import capture_reports
from .statistics import as_host_array, is_finite

MASKS = ("where", "select", "piecewise", "clip", "maximum", "minimum", "fmax", "fmin")
SAFE_VALUE = 1.0

# How NumPy names the operation behind each arithmetic operator.
_OPERATORS = {"divide": ast.Div, "true_divide": ast.Div, "power": ast.Pow, "multiply": ast.Mult,
              "add": ast.Add, "subtract": ast.Sub, "floor_divide": ast.FloorDiv, "mod": ast.Mod}


def explain_origins(flow) -> None:
    """Give the flow's forward and backward origins their :attr:`~Origin.explanation` (``None`` where none fits).

    Both origins are often the same operation; its story is worked out once.
    """
    stories: dict[int, str | None] = {}
    for pass_origin in ("forward_origin", "backward_origin"):
        origin = getattr(flow, pass_origin)
        if origin is not None:
            if origin.node not in stories:
                stories[origin.node] = explain(flow, origin)
            setattr(flow, pass_origin, dataclasses.replace(origin, explanation=stories[origin.node]))


def explain(flow, origin: Origin) -> str | None:
    """The ``0 × inf`` story of ``origin`` (with the discarded branch and its rewrite), or ``None``."""
    node = flow.nodes[origin.node]
    recorded = flow._recorded[origin.node]
    arriving = as_host_array(node.gradient_array)
    if arriving is None:
        return None
    for argnum in recorded.argnums:
        if numpy.shape(recorded.args[argnum]) != arriving.shape:
            continue  # only an entry-by-entry operation has a derivative per entry to blame
        derivative = as_host_array(_quietly(_local_derivative, recorded, argnum))
        if derivative is None or derivative.shape != arriving.shape:
            continue
        broken = (arriving == 0) & ~numpy.isfinite(derivative)
        if broken.any():
            return _story(flow, origin, recorded, argnum, broken, derivative)
    return None


def _story(flow, origin: Origin, recorded, argnum: int, broken: numpy.ndarray, derivative) -> str:
    index = tuple(int(i) for i in numpy.argwhere(broken)[0])
    call = source_call(origin.location, origin.operation, argnum)
    label = call.argument if call else _argument_label(flow, recorded, argnum)
    entry = offending_entries(numpy.where(broken, numpy.nan, 0.0), [(label, recorded.args[argnum])])[0]
    where_entry = entry.split(" ", 1)[1]  # "at index 1 where x == 0"
    local = _number(derivative[index])
    mask = _mask_downstream(flow, origin.node)
    product = f"{origin.operation}'s derivative there is {local}, so the backward pass computes 0 × {local} = NaN"
    if mask is None:
        return (f"The gradient that reaches {origin.operation} is 0 {where_entry}, but {product}. "
                f"Keep the input of {origin.operation} away from that value.")
    mask_node = flow.nodes[mask]
    condition = _mask_source(mask_node)
    branch = f"`{call.text}`" if call else f"the {origin.operation}"
    if condition is None:
        masker, where = mask_node.name, "np.where"
    else:
        masker = f"`{condition.function}({condition.condition + ', ' if condition.condition else ''}…)`"
        where = condition.function.rsplit(".", 1)[0] + ".where" if "." in condition.function else "where"
    if call and condition and condition.condition:
        rewrite = f"`{call.rewritten(where, condition.condition)}`"
    else:
        masked = call.rewritten(where, "keep") if call else f"{origin.operation}({where}(keep, …, {SAFE_VALUE}))"
        rewrite = f"`{masked}`, where keep marks the entries {masker} keeps"
    keep = _recorded_condition(flow, mask, recorded.args[argnum]) if mask_node.name == "where" else None
    checked = _check(flow, recorded, argnum, keep if keep is not None else ~broken)
    return (f"{branch} is in the branch that {masker} discards {where_entry}, yet the gradient is NaN there: "
            f"{mask_node.name} sends the discarded branch a zero gradient, and {product}. "
            f"Mask the input instead: {rewrite} ({checked}).")


def _argument_label(flow, recorded, argnum: int) -> str:
    parent = dict(zip(recorded.argnums, recorded.parents)).get(argnum)
    index = flow._flow_index.get(parent)
    if index is not None and flow.nodes[index].kind == "input":
        return flow.nodes[index].name
    return f"argument {argnum}"


def _local_derivative(recorded, argnum: int) -> Any:
    """The derivative of an elementwise operation with respect to one argument, entry by entry."""
    arguments = list(recorded.args)

    def one_argument(value):
        arguments[argnum] = value
        return recorded.fun(*arguments, **recorded.kwargs)

    value, back = pullback(one_argument, recorded.args[argnum])
    return back(numpy.ones_like(value))[0]


def _quietly(function, *args):
    """Run ``function`` with NumPy's floating-point warnings silenced (the user saw them once already)."""
    with warnings.catch_warnings(), numpy.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return function(*args)


def _mask_downstream(flow, start: int) -> int | None:
    """The nearest masking operation that uses the output of node ``start``, directly or through others."""
    children: dict[int, list[int]] = {}
    for node in flow.nodes:
        for parent in node.parents:
            children.setdefault(parent, []).append(node.index)
    frontier, seen = list(children.get(start, [])), set()
    while frontier:
        index = frontier.pop(0)
        if index in seen:
            continue
        seen.add(index)
        if flow.nodes[index].name in MASKS:
            return index
        frontier.extend(children.get(index, []))
    return None


def _recorded_condition(flow, mask: int, argument) -> numpy.ndarray | None:
    """The boolean condition of a recorded ``where``, if it has the shape of ``argument``."""
    condition = as_host_array(flow._recorded[mask].args[0])
    if condition is None or condition.shape != numpy.shape(argument):
        return None
    return condition.astype(bool)


def _check(flow, recorded, argnum: int, keep: numpy.ndarray) -> str:
    """Run the backward pass again with the operation's argument masked by ``keep``; say whether all is finite."""
    arguments = list(recorded.args)
    arguments[argnum] = numpy.where(keep, as_host_array(arguments[argnum]), SAFE_VALUE)

    def rewritten(*parents):
        called = list(arguments)
        for position, parent in zip(recorded.argnums, parents):
            called[position] = parent
        return recorded.fun(*called, **recorded.kwargs)

    _, back = pullback(rewritten, *(arguments[position] for position in recorded.argnums))

    def rewritten_vjp(cotangent):
        outgoing = back(cotangent)
        return tuple(numpy.where(keep, gradient, 0.0) if position == argnum and gradient is not None else gradient
                     for position, gradient in zip(recorded.argnums, outgoing))

    gradients = _quietly(_backward_pass_with, flow, recorded, rewritten_vjp)
    if all(is_finite(leaf) for leaf in structure.flatten(gradients)[0]):
        return "checked: with it every gradient is finite"
    return "checked: with it the gradient is still not finite, so another operation needs the same care"


def _backward_pass_with(flow, recorded, vjp) -> tuple:
    """The flow's gradients with one operation's VJP replaced; the flow's own record is left as it was."""
    saved = [(node.gradient, node.gradient_array, node.hooked_gradient, node.reports) for node in flow.nodes]
    origins = flow.forward_origin, flow.backward_origin
    original_vjp, recorded.vjp = recorded.vjp, vjp
    try:
        with capture_reports():
            return flow._back(flow._cotangent)
    finally:
        recorded.vjp = original_vjp
        for node, (gradient, array, hooked, reports) in zip(flow.nodes, saved):
            node.gradient, node.gradient_array, node.hooked_gradient, node.reports = gradient, array, hooked, reports
        flow.forward_origin, flow.backward_origin = origins


@dataclasses.dataclass(frozen=True)
class _Call:
    """The source text of the operation's call, and of the argument to mask."""

    text: str
    before: str
    argument: str
    after: str

    def rewritten(self, where: str, condition: str) -> str:
        return f"{self.before}{where}({condition}, {self.argument}, {SAFE_VALUE}){self.after}"


@dataclasses.dataclass(frozen=True)
class _Condition:
    """The masking call's function as written (``np.where``) and, for a ``where``, its condition."""

    function: str
    condition: str | None


def _parsed(code: str) -> ast.AST | None:
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


def source_call(location, operation: str, argnum: int) -> _Call | None:
    """``np.sqrt(x)`` (or ``1.0 / x``) as written on ``location``'s line, split around argument ``argnum``.

    >>> from zygote_nb.flow.source import SourceLocation
    >>> source_call(SourceLocation("model.py", 3, "y = 2 * np.log(a + b)"), "log", 0).argument
    'a + b'
    """
    code = location.code.strip() if location else ""
    tree = _parsed(code)
    if tree is None:
        return None
    for found in ast.walk(tree):
        if isinstance(found, ast.Call) and _called_name(found.func) == operation and argnum < len(found.args):
            operands = found.args
        elif isinstance(found, ast.BinOp) and isinstance(found.op, _OPERATORS.get(operation, ())):
            operands = [found.left, found.right]
        else:
            continue
        whole, part = ast.get_source_segment(code, found), ast.get_source_segment(code, operands[argnum])
        start = whole.find(part) if whole and part else -1
        if start < 0:
            continue
        if whole.find(part, start + 1) >= 0 and argnum:  # `x / x`: the denominator is the later one
            start = whole.rfind(part)
        return _Call(whole, whole[:start], part, whole[start + len(part):])
    return None


def _mask_source(mask_node) -> _Condition | None:
    """The masking call as written on the mask's line (``np.where``), with its condition if it is a ``where``."""
    code = mask_node.location.code.strip() if mask_node.location else ""
    tree = _parsed(code)
    if tree is None:
        return None
    for found in ast.walk(tree):
        name = _called_name(found.func) if isinstance(found, ast.Call) else None
        if name in MASKS:
            condition = ast.get_source_segment(code, found.args[0]) if name == "where" and found.args else None
            return _Condition(ast.get_source_segment(code, found.func), condition)
    return None


def _called_name(function: ast.expr) -> str | None:
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else None


def _number(number) -> str:
    return "NaN" if numpy.isnan(number) else str(float(number))
