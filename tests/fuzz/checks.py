"""Every operator of zygote_nb on one function, checked against finite differences and each other.

:func:`operator_failures` runs ``f`` (array in, array out) through
``gradient``, ``jacobian`` (both engines), ``pullback``, forward mode
(``zygote_nb.forward.jvp``), ``hessian``, ``hessian_reverse`` and
``hessian(engine="loop")``, and compares each with an independent path:

- first derivatives with central finite differences of ``f`` (NumPy's own
  values, no tracing);
- the Hessian with central differences of the (already checked) gradient,
  and the three Hessian paths with each other, to a far tighter tolerance.

The scalar objective for ``gradient`` and the Hessians is ``sum(weights * f(x))``
with fixed weights, so every output entry matters.

>>> import numpy, zygote_nb.numpy as np
>>> operator_failures(lambda x: np.sin(x) * x, numpy.array([0.5, -1.0]))
[]
"""

from __future__ import annotations

from typing import Any, Callable

import numpy

import zygote_nb as zn
from zygote_nb.forward import jvp

STEP = 1e-6


def _as_input(x: Any, flat: numpy.ndarray) -> Any:
    return float(flat[0]) if isinstance(x, float) else flat.reshape(numpy.shape(x))


def _finite_difference_jacobian(f: Callable, x: Any, step: float = STEP) -> numpy.ndarray:
    flat = numpy.array(x, dtype=float).ravel()
    columns = []
    for index in range(flat.size):
        forward, backward = flat.copy(), flat.copy()
        forward[index] += step
        backward[index] -= step
        with numpy.errstate(all="ignore"):
            difference = numpy.ravel(f(_as_input(x, forward))) - numpy.ravel(f(_as_input(x, backward)))
        columns.append(difference / (2 * step))
    return numpy.stack(columns, axis=1)


def _close(computed: Any, expected: Any, tolerance: float) -> bool:
    computed, expected = numpy.asarray(computed, dtype=float), numpy.asarray(expected, dtype=float)
    if computed.size != expected.size:
        return False
    scale = max(1.0, float(numpy.max(numpy.abs(expected), initial=0.0)))
    return numpy.allclose(computed.ravel(), expected.ravel(), rtol=tolerance, atol=tolerance * scale)


def operator_failures(f: Callable, x: Any, tolerance: float = 1e-4) -> list[str]:
    """One line per operator whose result disagrees with its reference or raises; empty when all agree."""
    output = numpy.asarray(f(x))
    generator = numpy.random.default_rng(0)
    weights = generator.uniform(0.5, 1.5, size=output.shape)
    direction = generator.uniform(-1.0, 1.0, size=numpy.shape(x))
    direction = float(direction) if isinstance(x, float) else direction

    def objective(x):
        return zn.numpy.sum(weights * f(x))

    expected_jacobian = _finite_difference_jacobian(f, x)
    expected_gradient = weights.ravel() @ expected_jacobian
    checks = {
        "gradient": (lambda: zn.gradient(objective, x)[0], expected_gradient),
        "jacobian": (lambda: zn.jacobian(f, x)[0], expected_jacobian),
        "jacobian(engine='loop')": (lambda: zn.jacobian(f, x, engine="loop")[0], expected_jacobian),
        "pullback": (lambda: zn.pullback(f, x)[1](weights if output.ndim else float(weights))[0], expected_gradient),
        "forward jvp": (lambda: jvp(f, x, direction)[1], expected_jacobian @ numpy.ravel(direction)),
    }
    failures = []
    for name, (compute, expected) in checks.items():
        failures += _compare(name, compute, expected, tolerance)
    if failures:
        return failures
    gradient_function = lambda x: numpy.asarray(zn.gradient(objective, x)[0])  # noqa: E731
    expected_hessian = _finite_difference_jacobian(gradient_function, x, step=1e-5)
    hessians = {"hessian": lambda: zn.hessian(objective, x),
                "hessian_reverse": lambda: zn.hessian_reverse(objective, x),
                "hessian(engine='loop')": lambda: zn.hessian(objective, x, engine="loop")}
    for name, compute in hessians.items():
        failures += _compare(name, compute, expected_hessian, 1e2 * tolerance)
    if not failures:
        # Differences of the gradient are coarse; the three Hessian paths must agree far more closely.
        forward_over_reverse = zn.hessian(objective, x)
        for name in ("hessian_reverse", "hessian(engine='loop')"):
            failures += [line.replace("finite differences", "hessian")
                         for line in _compare(name, hessians[name], forward_over_reverse, 1e-8)]
    return failures


def _compare(name: str, compute: Callable, expected: Any, tolerance: float) -> list[str]:
    try:
        computed = compute()
    except Exception as error:  # a failure to report, with the program that caused it
        return [f"{name} raised {type(error).__name__}: {str(error).splitlines()[0][:200]}"]
    if computed is None:
        computed = numpy.zeros_like(expected)
    if _close(computed, expected, tolerance):
        return []
    return [f"{name} is wrong: {numpy.round(numpy.ravel(computed), 5)[:8]} where finite differences give "
            f"{numpy.round(numpy.ravel(expected), 5)[:8]}"]
