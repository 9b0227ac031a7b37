"""``showgrad``: print the gradient that accumulates to one use of a value in the backward pass.

``showgrad(x)`` returns ``x`` unchanged.  In the forward pass it is an identity
primitive; in the backward pass its derivative rule sees the cotangent of its
output once every later use of it has contributed, reports ``∂(label) = value``
and hands the cotangent on untouched.  The label is the source text of the
argument, read from the caller's source by the ``executing`` package.

>>> from zygote_nb.gradients import gradient
>>> gradient(lambda a, b: showgrad(a) * b, 2.0, 3.0)
∂(a) = 3.0
(3.0, 2.0)

A ``showgrad`` whose value reaches no output gets no cotangent; it reports
``None`` when the backward pass ends (once per row of a batched Jacobian, as
row by row):

>>> def unused(a, b):
...     showgrad(a)
...     return a * b
>>> gradient(unused, 2.0, 3.0)
∂(a) = None
(3.0, 2.0)

A value that does not depend on the differentiated arguments (a constant)
is traced from its ``showgrad`` on, so the report shows the gradient that
reaches this use, as Zygote does:

>>> gradient(lambda a: showgrad(3.0, name="c") * a, 2.0)
∂(c) = 2.0
(3.0,)

Reports go to stdout; inside :func:`capture_reports` they are collected instead.
"""

from __future__ import annotations

import ast
import itertools
import linecache
import sys
from contextlib import contextmanager
from typing import Any, Iterator, NamedTuple

import executing
import numpy
from autograd.extend import defjvp, defvjp, primitive
from autograd.tracer import getval, isbox, new_box

from . import array_library, structure
from .frames import user_frame
from .pullback import RecordedNode, Trace, current_trace

_captures: list[list] = []


class Report(NamedTuple):
    """One ``showgrad`` report: the label, the gradient (``None`` if none arrived), where it was called.

    >>> report = Report("a[0]", 2.5, "model.py", 12)
    >>> print(report)
    ∂(a[0]) = 2.5
    >>> report.line
    12
    """

    label: str
    value: Any
    filename: str
    line: int

    def __str__(self) -> str:
        return f"∂({self.label}) = {_readable(self.value)}"


@contextmanager
def capture_reports() -> Iterator[list]:
    """Collect :class:`Report` objects in a list instead of printing them (the notebook layer uses this).

    >>> from zygote_nb.gradients import gradient
    >>> with capture_reports() as reports:
    ...     _ = gradient(lambda a: showgrad(a, name="first") * a, 2.0)
    >>> [(report.label, report.value) for report in reports]
    [('first', 2.0)]
    """
    reports: list = []
    _captures.append(reports)
    try:
        yield reports
    finally:
        _captures.remove(reports)


def _readable(value: Any) -> str:
    """Scalars as Python numbers, arrays as a bracketed list."""
    if value is None:
        return "None"
    value = array_library.to_host(value)  # a device gradient is copied to be shown, and only then
    if numpy.ndim(value) == 0:
        number = numpy.asarray(value)[()]
        return repr(complex(number) if numpy.iscomplexobj(number) else float(number))
    return numpy.array2string(numpy.asarray(value), separator=", ")


def _emit(report: Report) -> None:
    if _captures:
        _captures[-1].append(report)
    else:
        print(report)


class _Site:
    """One call of ``showgrad``: reports once per row of each backward pass of its trace."""

    def __init__(self, label: str, filename: str, line: int, traced_value: Any, trace: Trace):
        self.label, self.filename, self.line, self.trace = label, filename, line, trace
        # The value one level under the box of the trace this site belongs to: the node
        # recorded for that trace carries exactly this object as its argument, while the
        # nodes of outer traces (reverse over reverse) carry a further unboxed one.
        self.traced_value = traced_value
        self.reached = True  # nothing to say until a backward pass starts

    def report(self, cotangent: Any) -> None:
        self.reached = True
        _emit(Report(self.label, getval(cotangent), self.filename, self.line))

    def start_pass(self) -> None:
        self.reached = False

    def end_pass(self) -> None:
        # A batched sweep calls a reached site once per row; an unreached one says so as often.
        if not self.reached:
            for _ in range(self.trace.rows):
                self.report(None)


@primitive
def showgrad_primitive(x, site):
    """The identity recorded in the trace for each ``showgrad``; the flow view finds reports by it."""
    return x


def _report_cotangent(ans, x, site):
    def vjp(cotangent):
        if x is site.traced_value:
            site.report(cotangent)
        return cotangent
    return vjp


defvjp(showgrad_primitive, _report_cotangent)
defjvp(showgrad_primitive, lambda tangent, ans, x, site: tangent)


def argument_label(frame, fallback: str = "x") -> str:
    """The source text of the first argument of the call that ``frame`` is executing, or ``fallback``.

    >>> import sys
    >>> def label_of(value):
    ...     return argument_label(sys._getframe(1))
    >>> label_of(2 * (3 + 4))
    '2 * (3 + 4)'
    """
    try:
        call = executing.Source.executing(frame).node
        text = executing.Source.for_frame(frame).text
    except Exception:  # no source to read (exec of a string, a frozen module)
        call, text = None, ""
    if not isinstance(call, ast.Call):  # the file is not Python as a whole: a magic's cell
        call, text = _call_at_instruction(frame)
    if not isinstance(call, ast.Call) or not call.args:
        return fallback
    segment = ast.get_source_segment(text, call.args[0])
    return " ".join(segment.split()) if segment else fallback


def _call_at_instruction(frame) -> tuple[ast.AST | None, str]:
    """The call expression at the frame's current instruction, parsed from its own lines alone.

    A ``%%gradient`` cell is registered with its magic line on top, which no
    Python parser accepts, so the whole-file reading above fails there; the
    instruction's source position (Python 3.11+) still locates the call.
    """
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is None:
        return None, ""
    line, end_line, column, end_column = next(itertools.islice(positions(), frame.f_lasti // 2, None),
                                              (None,) * 4)
    lines = linecache.getlines(frame.f_code.co_filename, frame.f_globals)
    if None in (line, end_line, column, end_column) or end_line > len(lines):
        return None, ""
    # Positions count UTF-8 bytes.
    encoded = [text.encode() for text in lines[line - 1:end_line]]
    encoded[-1] = encoded[-1][:end_column]
    encoded[0] = encoded[0][column:]
    text = b"".join(encoded).decode()
    try:
        return ast.parse(text, mode="eval").body, text
    except SyntaxError:
        return None, ""


def showgrad(x: Any, name: str | None = None) -> Any:
    """Return ``x``; report the gradient of this use of ``x`` when the backward pass knows it.

    ``x`` is a number or an array.  The report reads ``∂(label) = value``,
    where the label is the source text of the argument (``showgrad(a[1:] * 2)``
    reports ``∂(a[1:] * 2) = ...``) unless ``name`` is given; code whose source
    cannot be read (run from a string) gets the label ``x``.  The gradient shown is the one for *this use*:
    the cotangent of ``showgrad``'s output, not the total gradient of ``x``.
    Scalars print as Python numbers, arrays as lists.  A ``showgrad`` whose
    output receives no gradient reports ``None`` at the end of the pass.
    Inside ``jacobian`` or ``hessian`` it reports once per backward pass (per
    row, for either engine).  A value that does not depend on the
    differentiated arguments is traced from here on, so its report shows the
    gradient reaching this use.  Inside a nested differentiation it reports in
    the backward passes of the innermost one.  Outside any differentiation it
    returns ``x`` and prints nothing.

    >>> import zygote_nb.numpy as np
    >>> from zygote_nb.gradients import gradient
    >>> gradient(lambda a: np.sum(showgrad(a[1:] * 2) ** 2), np.array([1.0, 2.0, 3.0]))
    ∂(a[1:] * 2) = [ 8., 12.]
    (array([ 0., 16., 24.]),)
    >>> gradient(lambda a: showgrad(a) * a, 2.0)
    ∂(a) = 2.0
    (4.0,)
    """
    trace = current_trace(x)
    if trace is None:
        return x
    caller = user_frame(sys._getframe(1)) or sys._getframe(1)  # through a library's helper: the user's call
    label = name if name is not None else argument_label(caller)
    if not isbox(x) and structure.is_differentiable(x):
        x = new_box(x, trace.level, RecordedNode.new_root())  # a constant: its uses are recorded from here
    site = _Site(label, caller.f_code.co_filename, caller.f_lineno,
                 x._value if isbox(x) and x._trace == trace.level else None, trace)
    trace.pass_listeners.append(site)
    return showgrad_primitive(x, site)
