"""The derivative of a notebook cell: what ``%%gradient``, ``%%jacobian`` and ``%%hessian`` compute.

Each function runs the cell as a function of the named inputs
(:func:`~zygote_nb.notebook.cell.cell_function`), differentiates it with the
core API, and returns a result object. They need no kernel: ``namespace`` is
any dict of variables.

>>> import numpy
>>> namespace = {"np": numpy, "x": numpy.array([1.0, 2.0, 3.0])}
>>> result = gradient_of_cell("squares = x ** 2\\nnp.sum(squares)", ["x"], namespace)
>>> float(result.value), result["x"]
(14.0, array([2., 4., 6.]))
>>> namespace["squares"]  # assigned by the cell, unboxed
array([1., 4., 9.])
"""

from __future__ import annotations

import re
import types
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy
from autograd.tracer import getval
from IPython.core.error import UsageError

import zygote_nb.numpy as traceable_numpy

from .. import structure, validation
from ..checking import check_gradient
from ..engine import MemoryBudgetError
from ..flow import trace_gradient
from ..flow.statistics import is_finite
from ..gradients import objective_cotangent, withgradient
from ..hessians import hessian, hessian_reverse
from ..jacobians import withjacobian
from .cell import cell_function
from .results import GradientResult, HessianResult, JacobianResult

def output_problem(output: Any, scalar: bool) -> str | None:
    """What is wrong with a cell's output for a magic that needs a real number (``scalar``) or a real array.

    >>> output_problem(numpy.ones(3), scalar=True)
    'is an array of shape (3,): use %%jacobian for an array output, or reduce it (np.sum)'
    >>> output_problem(numpy.ones(3), scalar=False) is None
    True
    """
    return validation.output_problem(output, scalar, "use %%jacobian for an array output, or reduce it (np.sum)")


def output_check(magic: str) -> Callable[[Any, str], None]:
    """Raise a one-line UsageError when the cell's output does not suit ``magic``.

    ``%%gradient`` takes a real number (or a tuple, list or dict led by one, as
    ``withgradient`` does), ``%%hessian`` a real number, ``%%jacobian`` a real
    number or array.
    """
    def check(output: Any, output_source: str) -> None:
        objective = objective_cotangent(output)[0] if magic == "%%gradient" else output
        problem = output_problem(objective, scalar=magic != "%%jacobian")
        if problem:
            raise UsageError(f"{magic} differentiates the cell's last expression, but `{output_source}` {problem}")
    return check


def gradient_of_cell(source: str, input_names: list, namespace: dict, *, check: bool = False,
                     record_flow: bool = False, header: str = "%%gradient") -> GradientResult:
    """The gradient of the cell's last expression with respect to the named variables of ``namespace``.

    If the output is a tuple, list or dict, its first element is
    differentiated and ``value`` is the whole output (as for
    :func:`~zygote_nb.withgradient`). ``check=True`` also compares the
    gradient with central finite differences
    (:func:`~zygote_nb.checking.check_gradient`). ``record_flow=True``
    records every operation for the gradient-flow view
    (:func:`~zygote_nb.flow.trace_gradient`) in ``result.flow``.
    An input is any structure of numbers and arrays, objects holding arrays
    in their attributes included; when no input holds one, there is nothing
    to differentiate and a ``UsageError`` says so.
    """
    require_something_to_differentiate("%%gradient", input_names, namespace)
    with cell_function(source, input_names, namespace, header, output_check("%%gradient")) as cell:
        flow = None
        if record_flow:
            flow = trace_gradient(cell, *cell.inputs, names=list(input_names), output_name=cell.output_source)
            value, gradients = flow.value, flow.gradients
        else:
            value, gradients = withgradient(cell, *cell.inputs)
            if not all(is_finite(leaf) for leaf in structure.flatten((value, gradients))[0]):
                # Only a recording can say where NaN or Inf came from: record this once.
                flow = trace_gradient(cell, *cell.inputs, names=list(input_names), output_name=cell.output_source)
        report = None
        if check:
            report = check_gradient(cell, *cell.inputs, progress="auto", computed=(value, gradients))
    return GradientResult(cell.output_source, value, dict(zip(input_names, cell.inputs)),
                          dict(zip(input_names, gradients)), report, flow)


def jacobian_of_cell(source: str, input_names: list, namespace: dict, *, memory_budget: int | None = None,
                     header: str = "%%jacobian") -> JacobianResult:
    """The Jacobian of the cell's last expression (a real number or array) with respect to each named variable.

    ``memory_budget`` (bytes) is passed to :func:`~zygote_nb.withjacobian`.

    >>> import numpy
    >>> result = jacobian_of_cell("x ** 2", ["x"], {"x": numpy.array([1.0, 2.0])})
    >>> result["x"]
    array([[2., 0.],
           [0., 4.]])
    """
    with cell_function(source, input_names, namespace, header, output_check("%%jacobian")) as cell, \
            budget_advice():
        value, jacobians = withjacobian(cell, *cell.inputs, progress="auto", memory_budget=memory_budget)
    return JacobianResult(cell.output_source, value, dict(zip(input_names, cell.inputs)),
                          dict(zip(input_names, jacobians)))


def hessian_of_cell(source: str, input_names: list, namespace: dict, *, reverse: bool = False,
                    memory_budget: int | None = None, header: str = "%%hessian") -> HessianResult:
    """The Hessian of the cell's scalar output over all entries of the named number and array variables.

    Several inputs are laid end to end (each in C order), so the matrix has a
    block per pair of inputs. ``reverse=True`` computes it reverse over
    reverse (:func:`~zygote_nb.hessian_reverse`) instead of forward over
    reverse.

    >>> import numpy
    >>> result = hessian_of_cell("x * y ** 2", ["x", "y"], {"x": 2.0, "y": 3.0})
    >>> result.hessian
    array([[0., 6.],
           [6., 4.]])
    >>> result.curvature.kind
    'saddle'
    """
    for name in input_names:
        if name in namespace and not _is_real_number_or_array(namespace[name]):
            raise UsageError(f"%%hessian differentiates numbers and real arrays, but {name} is a "
                             f"{type(namespace[name]).__name__}: pass its arrays as separate inputs")
    with cell_function(source, input_names, namespace, header, output_check("%%hessian")) as cell, \
            budget_advice():
        value, gradients = withgradient(cell, *cell.inputs)
        second_derivative = hessian_reverse if reverse else hessian
        if len(cell.inputs) == 1:
            matrix = second_derivative(cell, cell.inputs[0], progress="auto", memory_budget=memory_budget)
        else:
            matrix = second_derivative(lambda flat: cell(*unflatten(flat, cell.inputs)),
                                       flatten_inputs(cell.inputs), progress="auto", memory_budget=memory_budget)
    return HessianResult(cell.output_source, value, dict(zip(input_names, cell.inputs)),
                         dict(zip(input_names, gradients)), numpy.atleast_2d(matrix),
                         "reverse over reverse" if reverse else "forward over reverse")


_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def memory_size(text: str) -> int:
    """Bytes from a size such as ``4GB``, ``512MB``, ``2GiB`` or ``1e9`` (``--memory-budget``).

    >>> memory_size("4GB"), memory_size("1.5 GiB"), memory_size("1e6")
    (4000000000, 1610612736, 1000000)
    """
    match = re.fullmatch(r"\s*([0-9.]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).upper() if match else None
    if unit not in _SIZE_UNITS:
        raise UsageError(f"--memory-budget needs a size such as 4GB, 512MB or 1e9 (bytes), got {text!r}")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


@contextmanager
def budget_advice() -> Iterator[None]:
    """Add the magic's way of raising the budget to a :class:`~zygote_nb.MemoryBudgetError` from the engine."""
    try:
        yield
    except MemoryBudgetError as error:
        raise MemoryBudgetError(f"{error}; on the magic line: --memory-budget SIZE, e.g. --memory-budget 4GB") \
            from None


def require_something_to_differentiate(magic: str, input_names: list, namespace: dict) -> None:
    """Refuse inputs none of which holds a number or an array (the gradient would be empty).

    >>> require_something_to_differentiate("%%gradient", ["label"], {"label": "text"})
    Traceback (most recent call last):
    IPython.core.error.UsageError: %%gradient has nothing to differentiate: no input holds a number or an array (label is a str); name the arrays, or an object or container that holds them
    """
    present = [name for name in input_names if name in namespace]
    if present and not any(structure.flatten(namespace[name])[0] for name in present):
        kinds = ", ".join(f"{name} is a {type(namespace[name]).__name__}" for name in present)
        raise UsageError(f"{magic} has nothing to differentiate: no input holds a number or an array ({kinds}); "
                         "name the arrays, or an object or container that holds them")


def refuse_output_name(output: str, input_names: list, namespace: dict) -> None:
    """Refuse ``-o NAME`` where binding the result would replace an input or a module.

    >>> import numpy
    >>> refuse_output_name("np", ["x"], {"np": numpy})
    Traceback (most recent call last):
    IPython.core.error.UsageError: -o np would replace the module np: choose another name, e.g. -o result
    """
    if output in input_names:
        raise UsageError(f"-o {output} would replace the input {output}: choose another name, e.g. -o result")
    if isinstance(namespace.get(output), types.ModuleType):
        raise UsageError(f"-o {output} would replace the module {output}: choose another name, e.g. -o result")


def _is_real_number_or_array(value: Any) -> bool:
    return structure.is_differentiable(value) and numpy.result_type(getval(value)).kind != "c"


def flatten_inputs(inputs: tuple) -> numpy.ndarray:
    """The inputs' entries laid end to end as one float vector (C order within each).

    >>> flatten_inputs((1, numpy.array([[2.0, 3.0]])))
    array([1., 2., 3.])
    """
    return numpy.concatenate([numpy.ravel(numpy.asarray(value, dtype=float)) for value in inputs])


def unflatten(flat: Any, like: tuple) -> list:
    """Split a (traced) vector made by :func:`flatten_inputs` back into inputs shaped like ``like``.

    >>> unflatten(numpy.array([1.0, 2.0, 3.0]), (1, numpy.array([[2.0, 3.0]])))
    [np.float64(1.0), array([[2., 3.]])]
    """
    parts, start = [], 0
    for value in like:
        size = int(numpy.size(value))
        part = flat[start:start + size]
        parts.append(traceable_numpy.reshape(part, numpy.shape(value)) if numpy.ndim(value) else part[0])
        start += size
    return parts
