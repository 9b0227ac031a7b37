"""What the magics hand back: a cell's derivative, with its inputs, its value and a description of both.

Every result has ``.value`` (the cell's output), ``.grad`` (input name →
derivative), ``result["x"]`` for ``result.grad["x"]``, a text summary (what a
terminal shows) and an HTML table (what a notebook shows); Jacobians and
Hessians also draw a heatmap. Every string that comes from the user (names,
the output's source, values) is escaped in the HTML.

>>> import numpy
>>> result = GradientResult("np.sum(x ** 2)", 14.0, {"x": numpy.array([1.0, 2.0, 3.0])},
...                         {"x": numpy.array([2.0, 4.0, 6.0])})
>>> result["x"]
array([2., 4., 6.])
>>> print(result.summary())
gradient of np.sum(x ** 2) = 14
  x: shape (3,) float64, min 2, max 6, mean 4, norm 7.483
     [2. 4. 6.]
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy

from .. import structure
from ..checking import GradientCheck
from ..flow import GradientFlow, summarize
from ..flow.origin import origin_lines
from ..flow.recording import leaf_labels

from . import heatmap
from .curvature import EXTREMES, Curvature, caption_verdict, classify

FULL_ENTRIES = 64  # arrays up to this size are printed in full, larger ones summarised
# A summary line longer than the output wraps between words, never inside one (JupyterLab breaks anywhere).
SUMMARY_PRE = '<pre style="white-space:pre-wrap;word-break:normal;overflow-wrap:break-word">'


def format_value(value: Any) -> str:
    """A number as a short decimal, an array in full up to 64 entries (summarised beyond), anything else by repr.

    >>> format_value(numpy.float64(0.1 + 0.2)), format_value(numpy.arange(100.0))
    ('0.3', '[ 0.  1.  2. ... 97. 98. 99.]')
    """
    if isinstance(value, (bool, numpy.bool_)) or value is None:
        return repr(value)
    if isinstance(value, (int, float, numpy.integer, numpy.floating)):
        return f"{float(value) + 0.0:.6g}"  # + 0.0 turns -0.0 into 0
    if isinstance(value, numpy.ndarray):
        return numpy.array2string(value, precision=4, threshold=FULL_ENTRIES, edgeitems=3, suppress_small=True)
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _html_value(value: Any) -> str:
    """The value as inline code, or as a preformatted block when it takes several lines (a matrix)."""
    text = _escape(format_value(value))
    return f"<pre>{text}</pre>" if "\n" in text else f"<code>{text}</code>"


def headline(label: str, value: Any) -> str:
    """``label = value`` on one line, or with the value indented below it when it takes several.

    >>> print(headline("y", numpy.eye(2)))
    y =
      [[1. 0.]
       [0. 1.]]
    """
    text = format_value(value)
    if "\n" in text:
        indent = " " * (len(label) - len(label.lstrip()) + 2)
        return f"{label} =\n" + "\n".join(indent + line for line in text.splitlines())
    return f"{label} = {text}"


def describe_derivative(derivative: Any, kind: str = "gradient") -> str:
    """One line of statistics, or why there is no derivative."""
    summary = summarize(derivative)
    return summary.describe() if summary is not None else f"no {kind}: the output does not depend on it"


def _escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _code_spans(text: str) -> str:
    """Escaped ``text`` with its `backquoted` spans as code."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", _escape(text))


def _statistics_cells(derivative: Any) -> str:
    summary = summarize(derivative)
    if summary is None:
        return '<td colspan="6"><i>none: the output does not depend on it</i></td>'
    numbers = [summary.norm, summary.minimum, summary.maximum]
    cells = [f"<td>{_escape(summary.shape)}</td>"]
    cells += [f"<td>{'—' if number is None else f'{number:.4g}'}</td>" for number in numbers]
    cells += [f'<td style="color:{"#c00" if count else "inherit"}">{count}</td>'
              for count in (summary.nan_count, summary.inf_count)]
    return "".join(cells)


_TABLE_HEAD = ("<tr><th>input</th><th>shape</th><th>norm</th><th>min</th><th>max</th>"
               "<th>NaN</th><th>Inf</th>{extra}</tr>")


@dataclass
class GradientResult:
    """The gradient of a cell's output with respect to its named inputs (``%%gradient``).

    ``grad`` has the structure of each input (``None`` where the output does
    not depend on it); ``check`` is the finite-difference comparison when it
    was asked for (``--check``); ``flow`` the recorded operations for the
    gradient-flow view when they were recorded.
    """

    output_source: str
    value: Any
    inputs: dict
    grad: dict
    check: GradientCheck | None = None
    flow: GradientFlow | None = None

    def __getitem__(self, name: str) -> Any:
        return self.grad[name]

    def rows(self, name: str | None = None) -> list[tuple[str, Any]]:
        """``(path, gradient)`` for every number and array inside the inputs (or input ``name``), in order.

        >>> result = GradientResult("f", 0.0, {"p": {"w": numpy.ones(2), "tag": "x"}}, {"p": {"w": numpy.ones(2), "tag": None}})
        >>> [path for path, _ in result.rows()]
        ["p['w']"]
        """
        rows = []
        for input_name in ([name] if name is not None else self.inputs):
            _, tree = structure.flatten(self.inputs[input_name])
            rows.extend(zip(leaf_labels(input_name, tree), tree.leaves_of(self.grad[input_name])))
        return rows

    def summary(self) -> str:
        """The text a terminal shows: the value, and per input its gradient's statistics and entries."""
        lines = [headline(f"gradient of {self.output_source}", self.value)]
        width = max((len(path) for path, _ in self.rows()), default=0)
        for path, gradient in self.rows():
            if gradient is not None and numpy.ndim(gradient) == 0:
                lines.append(f"  {path.ljust(width)}: {format_value(gradient)}")
                continue
            lines.append(f"  {path.ljust(width)}: {describe_derivative(gradient)}")
            if gradient is not None:
                lines.extend(" " * (width + 4) + line for line in format_value(gradient).splitlines())
        if not self.rows():
            lines.append("  (no input is a number or an array: nothing to differentiate)")
        lines.extend(f"! {line}" for line in self.origin_lines())
        if self.check is not None:
            lines.append(check_sentence(self.check))
        return "\n".join(lines)

    def origin_lines(self) -> list[str]:
        """Where NaN or Inf first appeared, and why, when the flow was recorded (see :class:`~zygote_nb.flow.Origin`)."""
        if self.flow is None:
            return []
        return origin_lines((self.flow.forward_origin, self.flow.backward_origin))

    def to_html(self) -> str:
        """A table of input, shape, gradient norm, min, max and NaN/Inf counts, with the value and any check."""
        check_column = self.check is not None
        rows = []
        for position, name in enumerate(self.inputs):
            input_rows = self.rows(name)
            for index, (path, gradient) in enumerate(input_rows):
                extra = ""
                if check_column and index == 0:
                    error = self.check.errors[position]
                    extra = f'<td rowspan="{len(input_rows)}">{"" if error is None else f"{error:.2g}"}</td>'
                rows.append(f"<tr><td><code>{_escape(path)}</code></td>{_statistics_cells(gradient)}{extra}</tr>")
        head = _TABLE_HEAD.format(extra="<th>check error</th>" if check_column else "")
        check = f"<p>{_escape(check_sentence(self.check))}</p>" if check_column else ""
        origins = "".join(f"<p>{_code_spans(line)}</p>" for line in self.origin_lines())
        return (f"<div class=\"zygote-nb-result\"><p>gradient of <code>{_escape(self.output_source)}</code> = "
                f"{_html_value(self.value)}</p>"
                f"<table>{head}{''.join(rows)}</table>{origins}{check}</div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.summary())


def check_sentence(check: GradientCheck) -> str:
    """``'check: passed, worst relative error 3e-10 against finite differences (tolerance 0.0001)'``."""
    return check.sentence()


class MatrixResult:
    """What Jacobian and Hessian results share: a matrix in named blocks, drawn as a heatmap.

    A subclass is a dataclass with ``output_source``, ``value``, ``inputs`` and
    ``grad``, and provides ``matrix``, ``blocks()`` (``(input name,
    columns)`` in order), ``row_blocks()``, ``summary_body()`` and
    ``TABLE_CAPTION`` (what the statistics table under the picture lists) and ``TABLE_IS_BLOCK`` (whether
    those are blocks of the matrix).
    """

    def __getitem__(self, name: str) -> Any:
        return self.grad[name]

    @property
    def title(self) -> str:
        return self.titled(self.output_source)

    @property
    def plottable(self) -> bool:
        """Whether there is a matrix to draw (some input is a number or an array)."""
        return bool(self.blocks())

    def heatmap(self):
        """The heatmap as a :class:`matplotlib.figure.Figure`."""
        return heatmap.heatmap_figure(self.matrix, title=self.titled(heatmap.shorten(self.output_source, 48)),
                                      row_label=self.output_source,
                                      column_blocks=self.blocks(), row_blocks=self.row_blocks())

    @cached_property
    def heatmap_png(self) -> bytes:
        """The heatmap as PNG bytes (drawn once)."""
        return heatmap.figure_png(self.heatmap())

    def matrix_text(self) -> list[str]:
        """The matrix in full when small, else its statistics: what a terminal shows."""
        matrix = heatmap.without_noise(self.matrix)
        lines = [f"  {matrix.shape[0]}×{matrix.shape[1]} matrix, {heatmap.describe_range(heatmap.finite_range(matrix))}"]
        if matrix.size <= FULL_ENTRIES:
            lines.extend("    " + line for line in format_value(matrix).splitlines())
        return lines

    def table_entries(self, name: str) -> Any:
        """What the table lists for input ``name``, rounding noise written 0 as in the heatmap (``None`` stays)."""
        entries = self.grad[name]
        if entries is None or numpy.iscomplexobj(entries):
            return entries
        cleaned = heatmap.without_noise(numpy.asarray(entries), scale_of=self.matrix if self.TABLE_IS_BLOCK else None)
        return cleaned if numpy.ndim(entries) else float(cleaned)

    def to_html(self, plot: bool = True) -> str:
        """The heatmap (embedded as PNG) when ``plot``, then a table per input and the summary lines."""
        image = ""
        if plot and self.plottable:
            encoded = base64.b64encode(self.heatmap_png).decode("ascii")
            image = f'<img alt="{_escape(self.title)}" src="data:image/png;base64,{encoded}"/><br/>'
        rows = "".join(f"<tr><td><code>{_escape(name)}</code></td>{_statistics_cells(self.table_entries(name))}</tr>"
                       for name in self.inputs)
        body = f"{SUMMARY_PRE}{_escape(chr(10).join(self.summary_body()))}</pre>"
        caption = f'<caption style="text-align: left; white-space: nowrap">{_escape(self.TABLE_CAPTION)}</caption>'
        return (f'<div class="zygote-nb-result">{image}<p>{_escape(self.title)}; value '
                f"{_html_value(self.value)}</p>"
                f"<table>{caption}{_TABLE_HEAD.format(extra='')}{rows}</table>{body}</div>")

    def summary(self) -> str:
        """The text a terminal shows."""
        return "\n".join([self.title, headline("  value", self.value), *self.summary_body()])

    def _repr_html_(self) -> str:
        return self.to_html(plot=True)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.summary())


@dataclass
class JacobianResult(MatrixResult):
    """The Jacobian of a cell's output with respect to its named inputs (``%%jacobian``).

    ``grad[name]`` is ``J[k, i] = ∂ y.ravel()[k] / ∂ x.ravel()[i]`` (a vector for
    a number input, ``None`` for an input that is neither a number nor an
    array); ``matrix`` lays the inputs' Jacobians side by side.

    >>> result = JacobianResult("2 * x", numpy.array([2.0, 4.0]), {"x": numpy.array([1.0, 2.0])},
    ...                         {"x": numpy.array([[2.0, 0.0], [0.0, 2.0]])})
    >>> print(result.summary())
    Jacobian of 2 * x with respect to x
      value = [2. 4.]
      2×2 matrix, entries in [0, 2]
        [[2. 0.]
         [0. 2.]]
    """

    output_source: str
    value: Any
    inputs: dict
    grad: dict

    TABLE_CAPTION = "the Jacobian's block for each input (∂ output / ∂ input)"
    TABLE_IS_BLOCK = True  # its entries are the matrix's: noise is judged against the whole matrix

    def titled(self, output_text: str) -> str:
        return f"Jacobian of {output_text} with respect to {', '.join(self.inputs)}"

    def blocks(self) -> list[tuple[str, int]]:
        return [(name, _columns(jacobian)) for name, jacobian in self.grad.items() if jacobian is not None]

    def row_blocks(self) -> None:
        return None

    @cached_property
    def matrix(self) -> numpy.ndarray:
        """The Jacobians of the number and array inputs side by side, one column block per input (built once:
        the text, the table and the heatmap all read it)."""
        matrices = [numpy.reshape(jacobian, (numpy.shape(jacobian)[0], -1))
                    for jacobian in self.grad.values() if jacobian is not None]
        return numpy.hstack(matrices) if matrices else numpy.zeros((numpy.size(self.value), 0))

    def summary_body(self) -> list[str]:
        skipped = [name for name, jacobian in self.grad.items() if jacobian is None]
        lines = self.matrix_text() if self.plottable else []
        if len(self.blocks()) > 1:
            lines.extend(f"  {name}: " + (f"columns {start}–{start + size - 1}" if size > 1 else f"column {start}")
                         for (name, size), start in zip(self.blocks(), _starts(self.blocks())))
        lines.extend(f"  {name}: no Jacobian (only numbers and arrays get one)" for name in skipped)
        return lines


@dataclass
class HessianResult(MatrixResult):
    """The Hessian of a cell's scalar output with respect to its named inputs (``%%hessian``).

    ``hessian`` is the full matrix over the inputs' entries laid end to end
    (C order); ``block(a, b)`` is the part for inputs ``a`` and ``b``;
    ``grad`` holds the gradient, and ``curvature`` the eigenvalues and what
    kind of point this is.

    >>> result = HessianResult("x @ x", 0.0, {"x": numpy.zeros(2)}, {"x": numpy.zeros(2)}, 2 * numpy.eye(2))
    >>> result.curvature.verdict
    'a local minimum: every eigenvalue is positive'
    """

    output_source: str
    value: Any
    inputs: dict
    grad: dict
    hessian: numpy.ndarray
    method: str = "forward over reverse"
    extremes: int = EXTREMES
    size_rule: str = ""  # why %%hessian formed the dense matrix

    TABLE_CAPTION = "the gradient for each input at this point (first derivatives, not the Hessian)"
    TABLE_IS_BLOCK = False

    def titled(self, output_text: str) -> str:
        return f"Hessian of {output_text} with respect to {', '.join(self.inputs)}"

    @property
    def matrix(self) -> numpy.ndarray:
        return self.hessian

    def blocks(self) -> list[tuple[str, int]]:
        return [(name, int(numpy.size(value))) for name, value in self.inputs.items()]

    def row_blocks(self) -> list[tuple[str, int]]:
        return self.blocks()

    def block(self, row_input: str, column_input: str) -> numpy.ndarray:
        """The second derivatives ``∂²y / ∂row_input ∂column_input`` as a matrix."""
        spans = {name: (start, start + size) for (name, size), start in zip(self.blocks(), _starts(self.blocks()))}
        (row_start, row_end), (column_start, column_end) = spans[row_input], spans[column_input]
        return self.hessian[row_start:row_end, column_start:column_end]

    @cached_property
    def curvature(self) -> Curvature:
        gradient_norm = float(numpy.sqrt(sum(numpy.sum(numpy.square(gradient)) for gradient in self.grad.values()
                                             if gradient is not None)))
        return classify(self.hessian, gradient_norm, float(self.value), self.extremes)

    def heatmap(self):
        """The heatmap with the eigenvalue verdict under it."""
        return caption_verdict(super().heatmap(), self.curvature)

    def summary_body(self) -> list[str]:
        curvature = self.curvature
        rule = f"; dense because {self.size_rule}" if self.size_rule else ""
        return [*self.matrix_text(), f"  computed {self.method}{rule}", *curvature.lines()]


def _columns(jacobian: Any) -> int:
    return int(numpy.size(jacobian) // max(numpy.shape(jacobian)[0], 1)) if numpy.ndim(jacobian) > 1 else 1


def _starts(blocks: list) -> list[int]:
    return [int(start) for start in numpy.cumsum([0] + [size for _, size in blocks])[:-1]]
