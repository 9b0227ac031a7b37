"""The ``%%gradient``, ``%%jacobian`` and ``%%hessian`` cell magics (``%load_ext zygote_nb``).

The magics are thin: they parse their options (declared with
``magic_arguments``, so ``%%gradient?`` documents every one), call one function
of the notebook layer (:mod:`~zygote_nb.notebook.derivatives`,
:mod:`~zygote_nb.notebook.hessian_cell`, :mod:`~zygote_nb.notebook.per_sample_cell`),
bind the result to a name and display it (:mod:`~zygote_nb.notebook.display`,
:mod:`~zygote_nb.notebook.per_sample_view`).

``%%hessian?`` shows the options first:

>>> print(DifferentiationMagics.hessian.__doc__.splitlines()[2])
  %%hessian [-o NAME] [--no-plot] [--reverse] [--memory-budget SIZE]
"""

from __future__ import annotations

import keyword

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .curvature import EXTREMES
from .derivatives import gradient_of_cell, jacobian_of_cell, memory_size, refuse_output_name
from .display import display_gradient_result, display_matrix_result, release_earlier_views
from .hessian_cell import hessian_at_any_size
from .per_sample_cell import per_sample_of_cell
from .per_sample_view import display_per_sample_result

INPUTS_HELP = "the notebook variables to differentiate with respect to: numbers and arrays"
OUTPUT_HELP = ("bind the result object to NAME (default {default}): .value, .grad, result['x']; "
               "not an input's name nor a module's")
BUDGET_HELP = ("the most memory the derivative's batched engine may use, e.g. 4GB, 512MB or 1e9 (bytes); "
               "above it the work goes in chunks or stops with MemoryBudgetError")


@magics_class
class DifferentiationMagics(Magics):
    """Cell magics that differentiate a cell's last expression with respect to named notebook variables."""

    def _options(self, magic, line: str):
        try:
            options = parse_argstring(magic, line)
        except UsageError as error:
            raise UsageError(f"{error} (%%{magic.__name__}? lists the options)") from None
        if not options.output.isidentifier() or keyword.iskeyword(options.output):
            raise UsageError(f"-o needs a variable name, got {options.output!r}: e.g. -o result")
        refuse_output_name(options.output, options.inputs, self.shell.user_ns)
        return options

    @magic_arguments(name="%gradient")
    @argument("inputs", nargs="+", metavar="NAME",
              help=INPUTS_HELP + ", or tuples, lists and dicts of them")
    @argument("-o", "--output", metavar="NAME", default="_grad", help=OUTPUT_HELP.format(default="_grad"))
    @argument("--no-widget", action="store_true",
              help="show the gradient as a static table and text instead of the gradient-flow widget "
                   "(with --per-sample: the table and text without the picture)")
    @argument("--check", action="store_true",
              help="also compare the gradient with central finite differences and report the worst "
                   "relative error (pass or fail)")
    @argument("--per-sample", action="store_true",
              help="the cell ends with the vector of per-example losses: show each example's gradient norm "
                   "(outliers named), the signal-to-noise ratio per input, and bind .per_sample[name]")
    @cell_magic
    def gradient(self, line: str, cell: str) -> None:
        """Differentiate the cell's last expression, a real number, with respect to the named variables.

        The cell runs as a normal cell, with np/numpy rebound to traceable
        numpy (functions from earlier cells included); the variables it
        assigns are kept. If the last expression is a tuple, its first element
        is differentiated. A failing cell puts every name back (changes made
        in place to objects stay). For an array output use %%jacobian; for a
        vector of per-example losses, --per-sample.

        Example::

            %%gradient w b --check
            prediction = np.tanh(features @ w + b)
            np.mean((prediction - labels) ** 2)
        """
        options = self._options(self.gradient, line)
        if options.per_sample:
            self._per_sample_gradient(options, line, cell)
            return
        if not options.no_widget:
            release_earlier_views(cell)  # never two recordings of one cell at once
        result = gradient_of_cell(self.shell.transform_cell(cell), options.inputs, self.shell.user_ns,
                                  check=options.check, record_flow=not options.no_widget,
                                  header=f"%%gradient {line}")
        self.shell.user_ns[options.output] = result
        display_gradient_result(result, widget=not options.no_widget, cell=cell)

    def _per_sample_gradient(self, options, line: str, cell: str) -> None:
        """``%%gradient --per-sample``: each example's gradient of the vector of losses the cell ends with."""
        if options.check:
            raise UsageError("--check compares one gradient with finite differences; drop it with --per-sample")
        result = per_sample_of_cell(self.shell.transform_cell(cell), options.inputs, self.shell.user_ns,
                                    header=f"%%gradient {line}")
        self.shell.user_ns[options.output] = result
        display_per_sample_result(result, picture=not options.no_widget)

    @magic_arguments(name="%jacobian")
    @argument("inputs", nargs="+", metavar="NAME", help=INPUTS_HELP)
    @argument("-o", "--output", metavar="NAME", default="_jac", help=OUTPUT_HELP.format(default="_jac"))
    @argument("--no-plot", action="store_true", help="do not draw the heatmap (text and table only)")
    @argument("--memory-budget", metavar="SIZE", type=memory_size, help=BUDGET_HELP)
    @cell_magic
    def jacobian(self, line: str, cell: str) -> None:
        """The Jacobian of the cell's last expression (a number or real array) with respect to the named variables.

        Shows a heatmap: rows are the output's entries, columns the inputs'
        entries (C order), one block per input. Long computations show a
        progress bar.

        Example::

            %%jacobian x
            np.cumsum(x ** 2)
        """
        options = self._options(self.jacobian, line)
        result = jacobian_of_cell(self.shell.transform_cell(cell), options.inputs, self.shell.user_ns,
                                  memory_budget=options.memory_budget, header=f"%%jacobian {line}")
        self.shell.user_ns[options.output] = result
        display_matrix_result(result, plot=not options.no_plot)

    @magic_arguments(name="%hessian")
    @argument("inputs", nargs="+", metavar="NAME", help=INPUTS_HELP + " (several are laid end to end)")
    @argument("-o", "--output", metavar="NAME", default="_hess", help=OUTPUT_HELP.format(default="_hess"))
    @argument("--no-plot", action="store_true", help="do not draw the heatmap (text and table only)")
    @argument("--reverse", action="store_true",
              help="compute reverse over reverse (hessian_reverse) instead of forward over reverse")
    @argument("--memory-budget", metavar="SIZE", type=memory_size, help=BUDGET_HELP)
    @argument("--dense", action="store_true", help="form the dense matrix whatever its size")
    @argument("--matrix-free", action="store_true",
              help="never form the matrix: eigenvalues, trace, density and slice from Hessian-vector products")
    @argument("-k", type=int, default=EXTREMES, metavar="K",
              help=f"how many eigenvalues at each end to find where not all are computed (default {EXTREMES})")
    @cell_magic
    def hessian(self, line: str, cell: str) -> None:
        """The Hessian of the cell's last expression, a real number, with respect to the named variables.

        Shows a heatmap, the sorted eigenvalues with the counts of positive,
        negative and near-zero ones, and whether the point is a minimum,
        maximum, saddle or degenerate. Beyond 4,096 parameters (or a matrix
        over the memory budget) it goes matrix-free: the k extreme eigenvalues
        with error bounds, the trace, the spectrum's density and the loss
        along the top eigenvector, from Hessian-vector products. Long
        computations show a progress bar; Ctrl-C keeps what was done.

        Example::

            %%hessian x
            np.sum(x ** 4) - np.sum(x ** 2)
        """
        options = self._options(self.hessian, line)
        if options.dense and options.matrix_free:
            raise UsageError("--dense and --matrix-free exclude each other: give one, or neither to decide by size")
        dense = options.dense if options.dense or options.matrix_free else None  # None: decide by size
        result = hessian_at_any_size(self.shell.transform_cell(cell), options.inputs, self.shell.user_ns,
                                     dense=dense,
                                     k=options.k, reverse=options.reverse, memory_budget=options.memory_budget,
                                     header=f"%%hessian {line}")
        self.shell.user_ns[options.output] = result
        display_matrix_result(result, plot=not options.no_plot)


MAGIC_NAMES = ("gradient", "jacobian", "hessian")


def load_extension(ipython) -> None:
    """Register the cell magics with ``ipython`` (what ``%load_ext zygote_nb`` calls)."""
    ipython.register_magics(DifferentiationMagics)


def unload_extension(ipython) -> None:
    """Remove the cell magics again (what ``%unload_ext zygote_nb`` calls)."""
    manager = ipython.magics_manager
    for name in MAGIC_NAMES:
        if isinstance(getattr(manager.magics["cell"].get(name), "__self__", None), DifferentiationMagics):
            del manager.magics["cell"][name]
    manager.registry.pop(DifferentiationMagics.__name__, None)
