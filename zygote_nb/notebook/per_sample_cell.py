"""``%%gradient W --per-sample``: per-example gradients of a cell that computes every example's loss.

The cell's last expression is the vector ``losses`` of the batch's per-example
losses, computed over the whole batch at once as usual NumPy code.  Two routes
lead from it to each example's gradient:

**The Jacobian's rows** (always right).  Row ``b`` of the Jacobian of ``losses``
with respect to ``W`` is ``∂ losses[b] / ∂ W``: exactly example ``b``'s gradient,
whatever the cell does — also when examples interact (batch normalisation: row
``b`` then also carries what ``losses[b]`` owes to the other examples through
the batch statistics).  The engine pulls all ``B`` unit cotangents back as one
batch, no loop over examples, but that is still about ``B`` backward passes.

**The one-example replay** (fast, when each loss depends only on its own
example).  The arrays the cell reads whose first axis has ``B`` entries are
taken as the data.  The cell is run on *one* example — each data array cut to a
batch of one, ``points[b:b+1]``, so that ``len(labels)`` and ``np.arange(n)`` in
its code still work — and :func:`~zygote_nb.per_sample_gradients` replays that
trace over all ``B`` examples in one sweep, a few times one gradient.  Because
"the first axis has ``B`` entries" is a guess, and examples may interact, the
replay's rows are kept only if the first and last example's loss alone equal
their losses in the batch and the rows sum to the gradient of ``sum(losses)``
(one more backward pass over the real cell); otherwise, or if the replay cannot
run, the magic takes the Jacobian.  ``result.method`` says which route it took
and why.

>>> import numpy
>>> namespace = {"x": numpy.array([[1.0, 2.0], [3.0, 0.0]]), "w": numpy.array([1.0, -1.0])}
>>> result = per_sample_of_cell("(x @ w) ** 2", ["w"], namespace)
>>> result.per_sample["w"]
array([[-2., -4.],
       [18.,  0.]])
>>> result["w"]  # the gradient of the mean loss
array([ 8., -2.])
"""

from __future__ import annotations

import contextlib
import io
import types
from dataclasses import dataclass
from typing import Any

import numpy
from autograd.tracer import getval
from IPython.core.error import UsageError

import zygote_nb.numpy as traceable_numpy

from ..gradients import withgradient
from ..jacobians import withjacobian
from ..per_sample import PerSampleStatistics, per_sample_gradients, per_sample_statistics
from .cell import CellFunction, cell_function
from .derivatives import output_problem
from .results import format_value

TOP_EXAMPLES = 5


@dataclass
class PerSampleResult:
    """Per-example gradients of a cell's vector of losses (``%%gradient --per-sample``).

    ``value`` is the losses vector; ``per_sample[name]`` has the examples along
    axis 0; ``grad[name]`` (also ``result[name]``) is the gradient of the mean
    loss; ``statistics`` holds the norms, cosines, top examples and
    signal-to-noise ratios (:func:`~zygote_nb.per_sample_statistics`).
    """

    output_source: str
    value: numpy.ndarray
    inputs: dict
    per_sample: dict
    statistics: PerSampleStatistics
    method: str = "Jacobian rows"

    @property
    def grad(self) -> dict:
        return {name: gradients.mean(axis=0) for name, gradients in self.per_sample.items()}

    def __getitem__(self, name: str) -> Any:
        return self.grad[name]

    def outliers(self) -> list:
        """``(index, loss, norm)`` of the examples whose gradient norm lies above Tukey's fence (Q3 + 1.5·IQR)."""
        norms = self.statistics.norms
        first, third = numpy.percentile(norms, [25, 75])
        fence = third + 1.5 * (third - first)
        return [(index, float(self.value[index]), norm) for index, norm in self.statistics.top(len(norms))
                if norm > fence]

    def summary(self) -> str:
        """The text a terminal shows: the norms, the top examples, the outliers and each input's noise."""
        stats = self.statistics
        lines = [f"per-sample gradients of {self.output_source}: {len(self.value)} examples, "
                 f"mean loss {format_value(float(numpy.mean(self.value)))}",
                 f"  computed by: {self.method}",
                 f"  gradient norms: median {format_value(float(numpy.median(stats.norms)))}, "
                 f"max {format_value(float(stats.norms.max()))}"]
        outliers = {index for index, _, _ in self.outliers()}
        lines.append(f"  largest norms (index, loss, norm, cosine with the mean gradient):")
        for index, norm in stats.top(TOP_EXAMPLES):
            flag = "  <- outlier" if index in outliers else ""
            lines.append(f"    #{index}: loss {format_value(float(self.value[index]))}, norm {format_value(norm)}, "
                         f"cosine {stats.cosines[index]:+.2f}{flag}")
        lines.append("  signal-to-noise ratio per input (‖mean gradient‖² / total variance over examples):")
        lines.extend(f"    {name}: {format_value(stats.snr[name])}" for name in stats.names)
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.summary())

    def _repr_html_(self) -> str:
        from .per_sample_view import per_sample_html

        return per_sample_html(self)


def per_sample_of_cell(source: str, input_names: list, namespace: dict,
                       header: str = "%%gradient --per-sample") -> PerSampleResult:
    """Per-example gradients of the cell's last expression, a vector of losses, with respect to the named inputs.

    Each named input must be a real number or array (a parameter). The one-example replay is tried first
    and kept only if it passes its checks; otherwise the rows come from the Jacobian (see the module's
    explanation). ``result.method`` says which.
    """
    for name in input_names:
        value = namespace.get(name)
        if name in namespace and not (isinstance(value, (int, float, numpy.ndarray)) and numpy.isrealobj(value)):
            raise UsageError(f"%%gradient --per-sample differentiates real numbers and arrays, but {name} is a "
                             f"{type(value).__name__}: name its arrays one by one")
    with cell_function(source, input_names, namespace, header, _check_losses) as cell:
        losses = numpy.asarray(getval(cell(*cell.inputs)), dtype=float).reshape(-1)
        rows, method = _replayed(cell, losses)
        if rows is None:
            jacobians = withjacobian(cell, *cell.inputs, progress="auto").grad
            rows = [numpy.reshape(jacobian, (losses.size,) + numpy.shape(value))
                    for value, jacobian in zip(cell.inputs, jacobians)]
            method = f"Jacobian rows ({method})"
    per_sample = dict(zip(input_names, rows))
    statistics = per_sample_statistics(per_sample, losses=losses)
    return PerSampleResult(cell.output_source, losses, dict(zip(input_names, cell.inputs)), per_sample,
                           statistics, method)


def _replayed(cell, losses: numpy.ndarray) -> tuple:
    """``(rows, method)`` from the one-example replay, or ``(None, why not)`` when it does not apply."""
    batch = losses.size
    data_names = [name for name in _names_read(cell.parsed) if name not in cell.input_names
                  and isinstance(cell.snapshot.get(name), numpy.ndarray) and cell.snapshot[name].ndim >= 1
                  and cell.snapshot[name].shape[0] == batch and cell.snapshot[name].dtype.kind in "iuf"]
    if not data_names:
        return None, f"no array the cell reads has {batch} examples along its first axis"
    examples = CellFunction(cell.parsed, cell.input_names + data_names, cell.namespace)
    data = [cell.snapshot[name] for name in data_names]
    # Each example as a batch of one, so the cell's code (len(labels), np.arange(n)) runs unchanged.
    batches = [array.reshape((batch, 1) + array.shape[1:]) for array in data]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            rows = per_sample_gradients(lambda params, *one: examples(*params, *one)[0], tuple(cell.inputs),
                                        *batches)
            alone = [float(getval(examples(*cell.inputs, *(array[b:b + 1] for array in data))[0]))
                     for b in (0, batch - 1)]
            summed = withgradient(lambda *params: traceable_numpy.sum(cell(*params)), *cell.inputs).grad
    except Exception as error:  # the replay does not apply to this cell; the Jacobian always does
        return None, f"the one-example replay does not apply: {str(error).splitlines()[0]}"
    finally:
        examples.restore()
    rows = [numpy.zeros((batch,) + numpy.shape(value)) if row is None else row
            for value, row in zip(cell.inputs, rows)]
    if not numpy.allclose(alone, losses[[0, -1]], rtol=1e-9, atol=1e-12) or not all(
            numpy.allclose(row.sum(axis=0), 0.0 if total is None else total, rtol=1e-9, atol=1e-12)
            for row, total in zip(rows, summed)):
        return None, "the examples' losses interact: each one alone differs from its loss in the batch"
    return rows, f"replay of one example over the data {', '.join(data_names)}"


def _names_read(parsed) -> list:
    """Every global name the cell's code mentions, in order (a superset of the arrays it reads)."""
    names: list = []
    codes = [*parsed.statement_runs, parsed.output]
    while codes:
        code = codes.pop(0)
        names.extend(name for name in code.co_names if name not in names)
        codes.extend(constant for constant in code.co_consts if isinstance(constant, types.CodeType))
    return names


def _check_losses(output: Any, output_source: str) -> None:
    problem = output_problem(output, scalar=False)
    if problem is None and numpy.ndim(output) != 1:
        problem = (f"has shape {numpy.shape(output)}: end the cell with the vector of per-example losses, "
                   "one entry per example (not their mean)")
    if problem:
        raise UsageError(f"%%gradient --per-sample needs the vector of per-example losses, but `{output_source}` "
                         f"{problem}")
