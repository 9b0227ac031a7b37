"""``checkpointed``: trade time for memory by recomputing a call in the backward pass.

``checkpointed(f, *xs)`` returns ``f(*xs)``.  The forward pass runs ``f`` on
plain values, so none of its intermediates is recorded or kept; the backward
pass runs :func:`~zygote_nb.pullback.pullback` of ``f`` again at the same
inputs and pulls the cotangent back through that fresh trace.  The trace keeps
only the call's inputs and output, which lowers the peak memory of a gradient
through a long chain of such calls (see ``docs/checkpointing.md``).

>>> import zygote_nb.numpy as np
>>> from zygote_nb.gradients import gradient
>>> gradient(lambda x: checkpointed(lambda y: np.sum(np.sin(y) ** 2), x), 0.5)
(0.8414709848078965,)

``f`` must be pure (it runs twice) and receive every traced value it uses as an
argument: closed-over traced values would get no gradient, so they are refused.
"""

from __future__ import annotations

from typing import Any, Callable

import autograd.numpy as traced_numpy
import numpy
from autograd.extend import defjvp_argnums, defvjp_argnums, primitive
from autograd.tracer import getval, isbox

from . import backend, structure
from .forward import jvp
from .pullback import outside_traces, pullback


class _Call:
    """The function and how its arguments are rebuilt from the flat list of leaves the primitive sees."""

    def __init__(self, f: Callable, trees: list):
        self.f, self.trees = f, trees

    def __call__(self, *leaves: Any) -> Any:
        return self.f(*structure.per_argument(self.trees, leaves, lambda tree, its_leaves: tree.rebuild(list(its_leaves))))


@primitive
def _checkpointed_call(call, *leaves):
    with outside_traces():
        output = call(*leaves)
    if isbox(output):
        raise TypeError("checkpointed(f, ...): f uses a traced value it does not receive as an argument, "
                        "which would get no gradient: pass it in, e.g. checkpointed(lambda W, h: W @ h, W, h)")
    if not structure.is_differentiable(output):
        raise TypeError(f"checkpointed(f, ...) needs f to return a number or an array, got "
                        f"{type(output).__name__}: return one array (np.concatenate the parts)")
    return output


def _recomputed_cotangents(argnums, ans, args, kwargs):
    call, leaves = args[0], args[1:]

    def vjp(cotangent):
        _, back = pullback(call, *leaves)
        gradients = back(cotangent)
        # pullback hands complex arguments the conjugate gradient (Zygote's convention); the
        # trace around this call expects autograd's, so undo it.
        return tuple(traced_numpy.conj(gradients[argnum - 1])
                     if gradients[argnum - 1] is not None and numpy.iscomplexobj(getval(leaves[argnum - 1]))
                     else gradients[argnum - 1]
                     for argnum in argnums)
    return vjp


def _pushed_tangent(argnums, tangents, ans, args, kwargs):
    call, leaves = args[0], list(args[1:])
    total = None
    with outside_traces():
        for argnum, tangent in zip(argnums, tangents):
            position = argnum - 1

            def along(leaf, position=position):
                return call(*leaves[:position], leaf, *leaves[position + 1:])

            _, pushed = jvp(along, leaves[position], tangent)
            total = pushed if total is None else total + pushed
    return total


defvjp_argnums(_checkpointed_call, _recomputed_cotangents)
defjvp_argnums(_checkpointed_call, _pushed_tangent)


def checkpointed(f: Callable, *xs: Any) -> Any:
    """Return ``f(*xs)`` without keeping ``f``'s intermediates; the backward pass recomputes them.

    ``xs`` may be numbers, arrays, or tuples, lists and dicts of them (a
    layer's parameters); ``f`` must return a number or an array, be pure, and
    take every traced value it uses as an argument.  Hooks, ``showgrad`` and
    ``eager_update`` inside ``f`` act in the recomputed backward pass.

    >>> import zygote_nb.numpy as np
    >>> from zygote_nb.gradients import gradient
    >>> layer = lambda W, h: np.tanh(W @ h)
    >>> W, h = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([0.1, 0.2])
    >>> with_checkpoint = gradient(lambda W: np.sum(checkpointed(layer, W, h)), W)[0]
    >>> bool(np.allclose(with_checkpoint, gradient(lambda W: np.sum(layer(W, h)), W)[0]))
    True
    """
    if not callable(f):
        raise TypeError(f"checkpointed(f, *xs) needs a function as its first argument, got {type(getval(f)).__name__}: "
                        f"pass the function first, e.g. checkpointed(lambda W, h: np.tanh(W @ h), W, h)")
    leaves, trees = structure.flatten_arguments(xs)
    leaves = backend.on_one_library(leaves)
    return _checkpointed_call(_Call(f, trees), *leaves)
