"""A notebook cell as a function of named inputs, run in the user's namespace.

The magics differentiate a cell such as ::

    %%gradient w
    prediction = np.tanh(features @ w)
    np.mean((prediction - labels) ** 2)

by treating it as ``cell(w)``: a call binds the (traced) input to the name
``w`` in the notebook's own namespace, runs the cell's statements there (so
they read every other notebook variable as a normal cell does), and returns the
value of the last expression. While it runs, every name that refers to NumPy
(``np``, ``numpy``, any alias, its submodules and functions imported from it) is
rebound to traceable numpy, so functions defined in earlier cells with a plain
``import numpy as np`` are differentiated too: their ``__globals__`` *is* this
namespace.

:func:`cell_function` hands out such a function and cleans up afterwards: on
success the namespace holds what the cell assigned, unboxed (as after a normal
cell); on failure it is exactly as before, and the error renders as a short
traceback of the cell's own lines.

>>> import numpy
>>> namespace = {"np": numpy, "x": numpy.array([1.0, 2.0])}
>>> with cell_function("y = x * x\\nnp.sum(y)", ["x"], namespace) as cell:
...     print(cell(*cell.inputs))
5.0
>>> namespace["y"], namespace["np"] is numpy
(array([1., 4.]), True)
"""

from __future__ import annotations

import ast
import contextlib
import io
import itertools
import linecache
import sys
import traceback
import types
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy
from autograd.tracer import getval, isbox
from IPython.core.error import UsageError

import zygote_nb.numpy as traceable_numpy

from .. import structure
from .. import frames
from ..flow.warning_lines import warnings_at_user_lines
from ..frames import is_user_frame

_cell_numbers = itertools.count(1)

_MISSING = object()


@dataclass(frozen=True)
class ParsedCell:
    """A cell split into its statements (in runs that end at an import) and its output expression."""

    statement_runs: tuple
    output: types.CodeType
    output_source: str
    filename: str


def parse_cell(source: str, header: str = "%%cell") -> ParsedCell:
    """Compile ``source``; its last statement must be an expression, the output.

    ``header`` is the magic line above the cell: line numbers in tracebacks
    count it, as the notebook does, and the source is registered with
    :mod:`linecache` so tracebacks show the cell's lines.

    >>> parse_cell("y = 2 * x\\ny + 1").output_source
    'y + 1'
    >>> parse_cell("y = 2 * x")
    Traceback (most recent call last):
    ...
    IPython.core.error.UsageError: the cell must end with an expression, the output to differentiate (its last statement is an assignment)
    """
    filename = f"<{header.split()[0]} cell {next(_cell_numbers)}>"
    running = next(reversed(frames.ipython_cell_numbers().values()), None)  # the cell that called the magic
    if running is not None:
        frames.name_cell(filename, f"In [{running}]")
    lines = [header + "\n"] + source.splitlines(keepends=True)
    linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    numbered_source = "\n" + source  # line 1 is the magic line, as in the notebook
    module = ast.parse(numbered_source, filename)
    if not module.body:
        raise UsageError("the cell is empty: write the code to differentiate, ending with an expression "
                         "(the output)")
    if not isinstance(module.body[-1], ast.Expr):
        raise UsageError(f"the cell must end with an expression, the output to differentiate "
                         f"(its last statement is {_describe(module.body[-1])})")
    output = module.body[-1]
    output_source = ast.get_source_segment(numbered_source, output.value)
    if output_source is None:
        output_source = ast.unparse(output.value)
    runs, current = [], []
    for statement in module.body[:-1]:
        current.append(statement)
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            runs.append(current)
            current = []
    runs.append(current)
    statement_runs = tuple(compile(ast.Module(run, type_ignores=[]), filename, "exec") for run in runs if run)
    return ParsedCell(statement_runs, compile(ast.Expression(output.value), filename, "eval"),
                      " ".join(output_source.split()), filename)


_STATEMENTS = {
    "Assign": "an assignment", "AugAssign": "an assignment", "AnnAssign": "an assignment",
    "If": "an if statement", "For": "a for loop", "AsyncFor": "a for loop", "While": "a while loop",
    "With": "a with block", "AsyncWith": "a with block", "Try": "a try statement", "TryStar": "a try statement",
    "FunctionDef": "a function definition", "AsyncFunctionDef": "a function definition",
    "ClassDef": "a class definition", "Import": "an import", "ImportFrom": "an import",
    "Assert": "an assert statement", "Match": "a match statement",
}


def _describe(statement: ast.stmt) -> str:
    """``an if statement``, ``a for loop``: a statement in words, with its article."""
    name = type(statement).__name__
    if name in _STATEMENTS:
        return _STATEMENTS[name]
    kind = name.lower()
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} statement"


def traceable_counterpart(value: Any) -> Any:
    """The traceable version of a NumPy module or function, or ``None`` if ``value`` is neither.

    >>> traceable_counterpart(numpy) is traceable_numpy
    True
    >>> traceable_counterpart(numpy.sin) is traceable_numpy.sin
    True
    >>> traceable_counterpart(numpy.float64) is None  # a type: the same object in both
    True
    """
    if isinstance(value, types.ModuleType):
        module_name, attribute = value.__name__, None
    elif callable(value) and not isinstance(value, type):
        module_name = getattr(value, "__module__", None) or "numpy"
        attribute = getattr(value, "__name__", None)
        if attribute is None or getattr(sys.modules.get(module_name), attribute, None) is not value:
            return None
    else:
        return None
    if module_name != "numpy" and not module_name.startswith("numpy."):
        return None
    counterpart: Any = traceable_numpy
    for part in module_name.split(".")[1:] + ([attribute] if attribute else []):
        counterpart = getattr(counterpart, part, None)
    return None if counterpart is None or counterpart is value else counterpart


def plain(value: Any) -> Any:
    """``value`` with every traced number or array inside it (containers too) unboxed.

    >>> plain([1.0, "label"])
    [1.0, 'label']
    """
    leaves, tree = structure.flatten(value)
    if not any(isbox(leaf) for leaf in leaves):
        return value
    return tree.rebuild([getval(leaf) for leaf in leaves])


class CellFunction:
    """The cell as a function of its inputs; see the module docstring.

    Each call starts from the namespace as it was before the first (so a cell
    such as ``count = count + 1`` gives the same result every time a
    derivative re-runs it). The first call is the one that counts: its printed
    output is shown and its assignments are kept; later calls (a Hessian runs
    the cell once per column) are silent.
    """

    def __init__(self, parsed: ParsedCell, input_names: list, namespace: dict,
                 check_output: Callable[[Any, str], None] | None = None):
        self.parsed = parsed
        self.input_names = list(input_names)
        self.namespace = namespace
        self.check_output = check_output
        self.snapshot = dict(namespace)
        self.inputs = tuple(namespace[name] for name in self.input_names)
        self.calls = 0
        self.output_size: int | None = None
        self.assigned: dict = {}
        self.deleted: list = []
        self.rebound: dict = {}

    @property
    def output_source(self) -> str:
        return self.parsed.output_source

    def __call__(self, *inputs: Any) -> Any:
        self.calls += 1
        first = self.calls == 1
        self.restore()
        self._rebind_numpy()
        self.namespace.update(zip(self.input_names, inputs))
        prepared = dict(self.namespace)
        quiet = contextlib.nullcontext() if first else contextlib.redirect_stdout(io.StringIO())
        with quiet:
            for run in self.parsed.statement_runs:
                exec(run, self.namespace)
                self._rebind_numpy()
            output = eval(self.parsed.output, self.namespace)
        if self.check_output is not None:
            self.check_output(output, self.output_source)
        if first:
            self._record_changes(prepared)
            self.output_size = int(numpy.size(getval(output))) if structure.is_differentiable(output) else None
        return output

    def _rebind_numpy(self) -> None:
        for name, value in list(self.namespace.items()):
            counterpart = traceable_counterpart(value)
            if counterpart is not None:
                self.namespace[name] = counterpart
                self.rebound[id(counterpart)] = value

    def _record_changes(self, prepared: dict) -> None:
        for name, value in self.namespace.items():
            if prepared.get(name, _MISSING) is not value and name != "__builtins__":
                self.assigned[name] = self.rebound[id(value)] if id(value) in self.rebound else plain(value)
        self.deleted = [name for name in prepared if name not in self.namespace]

    def restore(self) -> None:
        """Put the namespace back exactly as it was before the first call (same objects)."""
        for name in [name for name in self.namespace if name not in self.snapshot]:
            del self.namespace[name]
        for name, value in self.snapshot.items():
            if self.namespace.get(name, _MISSING) is not value:
                self.namespace[name] = value

    def commit(self) -> None:
        """Leave the namespace as a normal run of the cell would: the first call's assignments, unboxed."""
        self.restore()
        for name in self.deleted:
            self.namespace.pop(name, None)
        self.namespace.update(self.assigned)


def require_inputs(input_names: list, namespace: dict) -> None:
    """Each input must be a notebook variable, named once; a one-line :class:`UsageError` otherwise.

    >>> require_inputs(["x", "y"], {"x": 1.0})
    Traceback (most recent call last):
    ...
    IPython.core.error.UsageError: name 'y' is not defined: the inputs are notebook variables, define y in an earlier cell
    """
    for name in input_names:
        if not name.isidentifier():
            raise UsageError(f"{name!r} is not a variable name: list the input variables, e.g. %%gradient x y")
        if name not in namespace:
            raise UsageError(f"name {name!r} is not defined: the inputs are notebook variables, "
                             f"define {name} in an earlier cell")
    repeated = sorted({name for name in input_names if input_names.count(name) > 1})
    if repeated:
        raise UsageError(f"input {repeated[0]!r} is listed twice: name each input once")


@contextmanager
def cell_function(source: str, input_names: list, namespace: dict, header: str = "%%cell",
                  check_output: Callable[[Any, str], None] | None = None) -> Iterator[CellFunction]:
    """Yield the cell as a :class:`CellFunction`; commit its assignments on success, restore on failure.

    ``check_output(output, output_source)`` sees the output of every call (a
    magic raises a :class:`UsageError` there for an output of the wrong kind). A failure
    leaves the namespace exactly as it was and gets a short traceback
    (:func:`attach_cell_traceback`).
    """
    require_inputs(input_names, namespace)
    parsed = parse_cell(source, header)
    function = CellFunction(parsed, input_names, namespace, check_output)
    try:
        with warnings_at_user_lines(fallback=(parsed.filename, 1)):
            yield function
    except BaseException as error:
        function.restore()
        attach_cell_traceback(error)
        raise
    function.commit()


def user_frames(error: BaseException) -> types.TracebackType | None:
    """The traceback of ``error`` cut down to the user's frames (for a re-raised error, those of its cause)."""
    kept = [entry for entry in _traceback_entries(error.__traceback__) if is_user_frame(entry.tb_frame)]
    hidden = error.__cause__ or error.__context__
    if not kept and hidden is not None:
        kept = [entry for entry in _traceback_entries(hidden.__traceback__)
                if is_user_frame(entry.tb_frame)]
    chain = None
    for entry in reversed(kept):
        chain = types.TracebackType(chain, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return chain


def _traceback_entries(entry: types.TracebackType | None) -> list:
    entries = []
    while entry is not None:
        entries.append(entry)
        entry = entry.tb_next
    return entries


def short_traceback(error: BaseException) -> list[str]:
    """The lines of a traceback that shows only the user's frames, then the error.

    >>> def reciprocal(value):
    ...     return 1 / value
    >>> try:
    ...     with cell_function("y = 2 * x\\nreciprocal(x)", ["x"], {"x": 0, "reciprocal": reciprocal}) as cell:
    ...         cell(*cell.inputs)
    ... except ZeroDivisionError as error:
    ...     lines = short_traceback(error)
    >>> [line.strip() for line in lines if not line.startswith("  File")]
    ['Traceback (most recent call last):', 'cell(*cell.inputs)', 'reciprocal(x)', 'return 1 / value', '~~^~~~~~~', 'ZeroDivisionError: division by zero']
    """
    lines = "".join(traceback.format_exception(type(error), error, user_frames(error), chain=False))
    return lines.rstrip("\n").split("\n")


def attach_cell_traceback(error: BaseException) -> None:
    """Make IPython show ``error`` with :func:`short_traceback` (its ``_render_traceback_`` protocol).

    The lines are taken now, before the error travels up through IPython's
    own frames. The error keeps its type and its full ``__traceback__`` for ``%debug``.
    """
    if isinstance(error, (UsageError, SyntaxError)) or not isinstance(error, Exception):
        return
    lines = short_traceback(error)
    try:
        error._render_traceback_ = lambda: lines
    except AttributeError:  # an exception type with __slots__ keeps IPython's long traceback
        pass
