"""zygote_nb: Zygote.jl's differentiation utilities for NumPy code, and a notebook to see them.

>>> import zygote_nb as zn
>>> zn.gradient(lambda a, b: a / b, 1, 2)
(0.5, -0.25)
"""

from . import dispatch  # noqa: F401  (plain NumPy calls on traced values use traced NumPy)
from . import tangent_rules  # noqa: F401  (registers the forward-mode rules autograd lacks)
from . import array_methods  # noqa: F401  (x.copy(), x.dot(y), x.real, x // 2 ... on traced arrays)
from . import hooks
from .array_library import current_backend, set_backend, using_backend
from .buffer import Buffer
from .checkpoint import checkpointed
from .curvature import hessian_density, hessian_spectrum, hessian_trace, hvp, loss_landscape
from .eager import eager_update
from .engine import MemoryBudgetError
from .errors import DifferentiationError
from .flow import GradientFlow, trace_gradient
from .forwarddiff import forwarddiff
from .gradients import gradient, withgradient
from .hessians import diaghessian, hessian, hessian_reverse
from .hooks import hook
from .ignore import ignore_derivatives
from .jacobians import jacobian, withjacobian
from .grads import Grads
from .params import IdDict, Params
from .per_sample import PerSampleStatistics, per_sample_gradients, per_sample_statistics
from .pullback import pullback
from .showgrad import capture_reports, showgrad

__all__ = [
    "Buffer", "DifferentiationError", "GradientFlow", "Grads", "IdDict", "MemoryBudgetError", "Params", "PerSampleStatistics",
    "capture_reports", "checkpointed", "current_backend", "diaghessian", "eager_update", "forwarddiff", "gradient",
    "hessian", "hessian_density", "hessian_reverse", "hessian_spectrum", "hessian_trace", "hook", "hooks", "hvp",
    "ignore_derivatives", "jacobian", "loss_landscape", "per_sample_gradients", "per_sample_statistics", "pullback",
    "set_backend", "showgrad", "trace_gradient", "using_backend", "withgradient", "withjacobian",
]


def load_ipython_extension(ipython) -> None:
    """``%load_ext zygote_nb``: register the ``%%gradient``, ``%%jacobian`` and ``%%hessian`` cell magics."""
    from .notebook.magics import load_extension

    load_extension(ipython)


def unload_ipython_extension(ipython) -> None:
    """``%unload_ext zygote_nb``: remove the cell magics again."""
    from .notebook.magics import unload_extension

    unload_extension(ipython)
