"""``%%hessian`` at any size: the dense matrix when it is affordable, Hessian-vector products otherwise.

The dense Hessian of ``n`` parameters costs ``n`` products and ``8n²`` bytes;
it is formed when ``n`` is at most :data:`DENSE_LIMIT` and the matrix fits the
memory budget, and the output says which rule decided. Beyond, the cell's
curvature comes from Hessian-vector products
(:mod:`~zygote_nb.notebook.matrix_free`). Either way may be forced.

>>> import numpy
>>> result = hessian_at_any_size("np.sum(x ** 2)", ["x"], {"np": numpy, "x": numpy.ones(3)}, dense=False)
>>> result.curvature.kind, result.size
('minimum', 3)
"""

from __future__ import annotations

import warnings

import numpy
from IPython.core.error import UsageError

from ..engine.memory import budget_or_default, readable
from ..gradients import withgradient
from .cell import cell_function
from .curvature import EXTREMES
from .derivatives import flatten_inputs, hessian_of_cell, output_check, unflatten
from .matrix_free import MatrixFreeHessianResult, matrix_free_curvature

# Up to this many parameters the dense Hessian (8n² bytes, n products) is formed by default.
DENSE_LIMIT = 4096


def dense_decision(size: int, memory_budget: int | None) -> tuple[bool, str]:
    """Whether to form the dense Hessian of ``size`` parameters, and the rule that decided.

    >>> dense_decision(2560, 10 ** 9)
    (True, '2,560 parameters ≤ 4,096 and the matrix (52.4 MB) fits the memory budget of 1.0 GB')
    >>> dense_decision(20000, 10 ** 12)[1]
    '20,000 parameters > 4,096 (a dense Hessian would take 3.2 GB and 20,000 products)'
    """
    budget = budget_or_default(memory_budget)
    matrix_bytes = 8 * size * size
    if size > DENSE_LIMIT:
        return False, (f"{size:,} parameters > {DENSE_LIMIT:,} (a dense Hessian would take {readable(matrix_bytes)} "
                       f"and {size:,} products)")
    if matrix_bytes > budget:
        return False, f"the matrix ({readable(matrix_bytes)}) exceeds the memory budget of {readable(budget)}"
    return True, (f"{size:,} parameters ≤ {DENSE_LIMIT:,} and the matrix ({readable(matrix_bytes)}) fits the "
                  f"memory budget of {readable(budget)}")


def hessian_at_any_size(source: str, input_names: list, namespace: dict, *, dense: bool | None = None,
                        k: int = EXTREMES, memory_budget: int | None = None, reverse: bool = False,
                        header: str = "%%hessian"):
    """The Hessian result of a cell: dense (:class:`HessianResult`) or matrix-free (:class:`MatrixFreeHessianResult`).

    ``dense`` is ``None`` (decide by :func:`dense_decision`), ``True`` or
    ``False`` (forced). ``k`` is how many eigenvalues at each end a partial
    summary shows. A value that is NaN or infinite warns and gives no verdict.
    """
    if not isinstance(k, int) or k < 1:
        raise UsageError(f"-k needs a positive number of eigenvalues, got {k!r}: e.g. -k 6")
    size = sum(int(numpy.size(namespace[name])) for name in input_names if name in namespace)
    decided_dense, reason = dense_decision(size, memory_budget)
    if dense is not None:
        reason = f"forced with {'--dense' if dense else '--matrix-free'}; by default: " + reason
        decided_dense = dense
    if decided_dense:
        result = hessian_of_cell(source, input_names, namespace, reverse=reverse, memory_budget=memory_budget,
                                 header=header)
        result.size_rule = reason
        result.extremes = k
    else:
        with cell_function(source, input_names, namespace, header, output_check("%%hessian")) as cell:
            value, gradients = withgradient(cell, *cell.inputs)
            function, point = ((cell, cell.inputs[0]) if len(cell.inputs) == 1 else
                               (lambda flat: cell(*unflatten(flat, cell.inputs)), flatten_inputs(cell.inputs)))
            gradient_norm = float(numpy.sqrt(sum(numpy.sum(numpy.square(gradient)) for gradient in gradients
                                                 if gradient is not None)))
            work = matrix_free_curvature(function, point, float(value), gradient_norm, k)
        result = MatrixFreeHessianResult(cell.output_source, value, dict(zip(input_names, cell.inputs)),
                                         dict(zip(input_names, gradients)), size, work, reason)
    if not numpy.isfinite(float(result.value)):
        warnings.warn(f"%%hessian: the cell's value is {float(result.value)} at this point, so the function is not "
                      "finite there and its derivatives give no verdict", RuntimeWarning, stacklevel=2)
    return result
