"""``%%gradient W --per-sample``: per-example gradients of a cell that computes every example's loss.

The cell's last expression is the vector ``losses`` of the batch's per-example
losses, computed over the whole batch at once as usual NumPy code.  Row ``b``
of the Jacobian of ``losses`` with respect to the named inputs is
``∂ losses[b] / ∂ W``: exactly example ``b``'s gradient.  So the magic asks
the engine for that Jacobian, which pulls all ``B`` unit cotangents back
through the cell together as one batch (never a loop over examples), and
reshapes each input's block to ``(B,) + W.shape``.

Why not the one-example replay of :func:`~zygote_nb.per_sample_gradients`?
It needs the loss of *one* example and to know which axis of which array holds
the examples; a cell only gives the batch's losses, and its arrays do not say
which axis is the batch.  The Jacobian needs neither, and stays right when
examples interact (batch normalisation: row ``b`` then also carries what
``losses[b]`` owes to the other examples through the batch statistics).  It
costs about ``B`` backward passes done as one batch; for big batches call
``zn.per_sample_gradients`` on the one-example loss, which costs a few
gradients.

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

from dataclasses import dataclass
from typing import Any

import numpy
from IPython.core.error import UsageError

from ..jacobians import withjacobian
from ..per_sample import PerSampleStatistics, per_sample_statistics
from .cell import cell_function
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

    Each named input must be a real number or array (a parameter); the
    gradients are the Jacobian's rows (see the module's explanation).
    """
    for name in input_names:
        value = namespace.get(name)
        if name in namespace and not (isinstance(value, (int, float, numpy.ndarray)) and numpy.isrealobj(value)):
            raise UsageError(f"%%gradient --per-sample differentiates real numbers and arrays, but {name} is a "
                             f"{type(value).__name__}: name its arrays one by one")
    with cell_function(source, input_names, namespace, header, _check_losses) as cell:
        losses, jacobians = withjacobian(cell, *cell.inputs, progress="auto")
    losses = numpy.asarray(losses, dtype=float).reshape(-1)
    per_sample = {name: numpy.reshape(jacobian, (losses.size,) + numpy.shape(value))
                  for name, value, jacobian in zip(input_names, cell.inputs, jacobians)}
    statistics = per_sample_statistics(per_sample, losses=losses)
    return PerSampleResult(cell.output_source, losses, dict(zip(input_names, cell.inputs)), per_sample, statistics)


def _check_losses(output: Any, output_source: str) -> None:
    problem = output_problem(output, scalar=False)
    if problem is None and numpy.ndim(output) != 1:
        problem = (f"has shape {numpy.shape(output)}: end the cell with the vector of per-example losses, "
                   "one entry per example (not their mean)")
    if problem:
        raise UsageError(f"%%gradient --per-sample needs the vector of per-example losses, but `{output_source}` "
                         f"{problem}")
