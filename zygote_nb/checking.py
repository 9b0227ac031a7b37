"""``check_gradient``: compare a gradient with central finite differences.

A gradient check is the independent path that catches a wrong derivative: each
differentiable number among the arguments is nudged by ``±h`` and the change of
the output, ``(f(x + h) - f(x - h)) / 2h``, is compared with that entry of the
gradient.

>>> import zygote_nb.numpy as np
>>> report = check_gradient(lambda x, scale: scale * np.sum(np.sin(x)), np.array([0.1, 0.2]), 3.0)
>>> report.passed
True
>>> report.worst_error < 1e-6
True
>>> round(report.finite_differences[1], 6)  # ∂/∂scale = sin(0.1) + sin(0.2)
0.298503
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy
from autograd.tracer import getval

from . import structure, validation
from .gradients import objective_cotangent, withgradient
from .progress import Progress, progress_bar

# Central differences are exact to O(h²) and lose O(eps / h) to rounding; h = eps^(1/3) balances both.
RELATIVE_STEP = numpy.finfo(float).eps ** (1 / 3)

# An entry this small next to the function's value cannot be resolved by finite differences:
# below it, errors are measured absolutely (relative to this floor) instead.
RESOLUTION = 1e-5


class GradientCheck(NamedTuple):
    """How far the gradient is from central finite differences.

    ``errors`` has one entry per argument: the worst relative error over its
    entries, ``None`` for an argument with nothing to differentiate.
    ``finite_differences`` has the structure of ``gradient``.  ``problem`` says
    why the comparison proves nothing, when it does not: the output changed
    between two evaluations at the same point (the check then does not pass),
    or the gradient is too small for finite differences to resolve (``passed``
    is then what the numbers say, but it is only ``inconclusive``).
    """

    passed: bool
    worst_error: float
    tolerance: float
    errors: tuple
    gradient: tuple
    finite_differences: tuple
    problem: str | None = None

    @property
    def verdict(self) -> str:
        """``"passed"``, ``"FAILED"`` or ``"inconclusive"``."""
        if self.problem is not None and self.passed:
            return "inconclusive"
        return "passed" if self.passed else "FAILED"

    def sentence(self) -> str:
        """One line: the verdict, the worst relative error, and the problem if there is one.

        >>> import zygote_nb.numpy as np
        >>> check_gradient(lambda x: np.exp(-x ** 2), 20.0).sentence()  # doctest: +ELLIPSIS
        'check: inconclusive, worst relative error ... (tolerance 0.0001): every entry of the gradient ... is below 1e-05, ...'
        """
        if self.problem is not None and not self.passed and numpy.isnan(self.worst_error):
            return f"check: {self.verdict}: {self.problem}"
        line = (f"check: {self.verdict}, worst relative error {self.worst_error:.2g} against central finite "
                f"differences (tolerance {self.tolerance:g})")
        return line if self.problem is None else f"{line}: {self.problem}"


def relative_errors(gradient: numpy.ndarray, differences: numpy.ndarray, floor: float) -> numpy.ndarray:
    """``|g - d| / max(|g|, |d|, floor)`` entry by entry (NaN where either side is not finite).

    >>> relative_errors(numpy.array([2.0, 0.0]), numpy.array([2.002, 1e-12]), floor=1e-5)
    array([9.99000999e-04, 1.00000000e-07])
    """
    scale = numpy.maximum(numpy.maximum(numpy.abs(gradient), numpy.abs(differences)), floor)
    with numpy.errstate(invalid="ignore"):
        return numpy.abs(gradient - differences) / scale


def check_gradient(f: Callable, *args: Any, tolerance: float = 1e-4, progress: Progress = False,
                   computed: tuple | None = None) -> GradientCheck:
    """Compare :func:`~zygote_nb.gradient` of ``f`` at ``args`` with central finite differences.

    ``f`` returns a real number (or, as for ``withgradient``, a tuple, list or
    dict whose first element is one). Every real number and array inside the
    arguments (containers included) is checked; an entry's error is
    ``|gradient - difference| / max(|gradient|, |difference|, 1e-5 · (1 + |f|))``,
    so entries too small to resolve next to ``f``'s value count absolutely.
    The check passes when the worst error is at most ``tolerance``; a NaN or
    infinite entry on either side fails it. Two cases prove nothing and say
    so in ``problem``: an output that changes between two evaluations at the
    same point (``np.random`` in the function) fails with that reason, and a
    gradient whose every entry is below the resolution floor (but not exactly
    zero) is ``inconclusive``. ``f`` is called ``2n + 1`` times
    for ``n`` numbers, never with the arguments themselves modified;
    ``progress`` (``True``, ``False`` or ``"auto"``, see
    :mod:`zygote_nb.progress`) shows a bar over those calls.
    ``computed`` is a ``(value, gradient)`` pair already obtained from
    ``withgradient(f, *args)``, so that ``f``'s reports (``showgrad``) are not
    made twice.

    >>> import zygote_nb.numpy as np
    >>> from autograd.extend import primitive, defvjp
    >>> square = primitive(lambda x: x ** 2)
    >>> defvjp(square, lambda ans, x: lambda g: g * x)  # wrong: should be 2 * x
    >>> check_gradient(lambda x: np.sum(square(x)), np.array([1.0, 3.0])).passed
    False
    """
    validation.require_callable("check_gradient", f)
    value, gradient = withgradient(f, *args) if computed is None else computed
    objective = float(getval(objective_cotangent(value)[0]))
    floor = RESOLUTION * (1 + abs(objective))
    flattened = [structure.flatten(arg) for arg in args]
    again = float(getval(objective_cotangent(f(*args))[0]))
    if not _same_number(objective, again):
        nothing = (None,) * len(args)
        return GradientCheck(False, float("nan"), tolerance, nothing, gradient, nothing, (
            f"the output changed between two evaluations at the same point ({objective:.6g}, then {again:.6g}), "
            "so finite differences measure that change, not the gradient: make the function deterministic "
            "(fix its random numbers, e.g. numpy.random.default_rng(0) made inside it) to check it"))
    points = [[_real_point(leaf) for leaf in leaves] for leaves, _ in flattened]
    differences = [[numpy.zeros(point.shape) for point in leaf_points] for leaf_points in points]

    def objective_at(position: int, index: int, moved_point: numpy.ndarray) -> float:
        leaves, tree = flattened[position]
        moved_leaf = moved_point if isinstance(getval(leaves[index]), numpy.ndarray) else float(moved_point)
        moved_arg = tree.rebuild(leaves[:index] + [moved_leaf] + leaves[index + 1:])
        return float(getval(objective_cotangent(f(*args[:position], moved_arg, *args[position + 1:]))[0]))

    entries = [(position, index, i) for position, leaf_points in enumerate(points)
               for index, point in enumerate(leaf_points) for i in range(point.size)]
    for position, index, i in progress_bar(entries, progress, description="finite differences"):
        point = points[position][index]
        step = RELATIVE_STEP * max(1.0, abs(point.flat[i]))
        forward, backward = point.copy(), point.copy()
        forward.flat[i] += step
        backward.flat[i] -= step
        differences[position][index].flat[i] = (
            objective_at(position, index, forward) - objective_at(position, index, backward)) / (2 * step)

    errors, structured_differences = [], []
    for position, (leaves, tree) in enumerate(flattened):
        leaf_gradients = tree.leaves_of(gradient[position])
        leaf_errors = [_worst(relative_errors(_dense(leaf_gradient, difference), difference, floor))
                       for leaf_gradient, difference in zip(leaf_gradients, differences[position])]
        errors.append(max(leaf_errors, key=_nan_first) if leaf_errors else None)
        structured_differences.append(tree.gradient(
            [difference if isinstance(getval(leaf), numpy.ndarray) else float(difference)
             for leaf, difference in zip(leaves, differences[position])]) if leaves else None)
    checked = [error for error in errors if error is not None]
    worst_error = max(checked, key=_nan_first) if checked else 0.0
    return GradientCheck(bool(worst_error <= tolerance), worst_error, tolerance, tuple(errors), gradient,
                         tuple(structured_differences), _unresolved(flattened, gradient, differences, floor))


def _same_number(first: float, second: float) -> bool:
    """Equal up to rounding (summation order may differ between runs), or both NaN."""
    return bool(numpy.isclose(first, second, rtol=1e-12, atol=0.0, equal_nan=True))


def _unresolved(flattened: list, gradient: tuple, differences: list, floor: float) -> str | None:
    """Why agreement proves nothing when no entry of either side reaches the resolution floor, else ``None``."""
    sides = [numpy.abs(_dense(leaf_gradient, difference)).ravel()
             for (leaves, tree), arg_gradient, arg_differences in zip(flattened, gradient, differences)
             for leaf_gradient, difference in zip(tree.leaves_of(arg_gradient), arg_differences)]
    sides += [numpy.abs(difference).ravel() for arg_differences in differences for difference in arg_differences]
    largest = max((float(numpy.max(side, initial=0.0)) for side in sides), default=0.0)
    if largest == 0.0 or not largest < floor:  # exact agreement at zero, or something was resolved (or NaN)
        return None
    return (f"every entry of the gradient and of the differences (the largest is {largest:.2g}) is below "
            f"{floor:.2g}, the smallest change finite differences resolve next to the value; rescale the "
            "function or check at another point")


def _real_point(leaf: Any) -> numpy.ndarray:
    """The leaf as a float64 array to nudge entry by entry."""
    raw = getval(leaf)
    if numpy.iscomplexobj(raw):
        raise TypeError("check_gradient compares real arguments only: check np.real(z) and np.imag(z) "
                        "as two real arguments instead")
    return numpy.array(raw, dtype=numpy.float64)


def _dense(gradient: Any, like: numpy.ndarray) -> numpy.ndarray:
    """A leaf's gradient as an array; ``None`` (no dependence) is zeros."""
    return numpy.zeros(like.shape) if gradient is None else numpy.asarray(gradient, dtype=numpy.float64)


def _worst(errors: numpy.ndarray) -> float:
    return float("nan") if numpy.isnan(errors).any() else float(numpy.max(errors, initial=0.0))


def _nan_first(error: float) -> float:
    return float("inf") if numpy.isnan(error) else error
