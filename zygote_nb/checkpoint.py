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

Traced values that ``f`` closes over (a layer's weights) get their gradients,
as in Zygote: they are found where :func:`~zygote_nb.params.substituted`
finds a loss's parameters (closure cells, globals, defaults, attributes) and
become inputs of the recorded call, so the recomputation sees them again.

>>> W = np.array([[1.0, 2.0], [0.5, -1.0]])
>>> gradient(lambda W: np.sum(checkpointed(lambda h: W @ h, np.ones(2))), W)
(array([[1., 1.],
       [1., 1.]]),)
"""

from __future__ import annotations

import types
from typing import Any, Callable

import autograd.numpy as traced_numpy
import numpy
from autograd.extend import defjvp_argnums, defvjp_argnums, primitive
from autograd.tracer import getval, isbox, trace_stack

from . import array_library, structure
from .forward import jvp
from .substitution import reachable_values, substituted
from .pullback import outside_traces, pullback, record


def _with_closure_as_now(f: Callable) -> Callable:
    """A copy of a plain function whose closure cells hold what ``f``'s hold now.

    The backward pass recomputes ``f`` later: by then a loop that made one
    closure per layer (``lambda h: W @ h`` in ``for W in Ws``) has moved its
    variable on, and ``f`` itself would read the last layer's ``W``.
    """
    if not isinstance(f, types.FunctionType) or not f.__closure__:
        return f
    cells = []
    for cell in f.__closure__:
        try:
            cells.append(types.CellType(cell.cell_contents))
        except ValueError:  # a variable not assigned yet: keep reading the live one
            cells.append(cell)
    copy = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, tuple(cells))
    copy.__kwdefaults__ = f.__kwdefaults__
    return copy


class _Call:
    """``f``, how its arguments are rebuilt from the primitive's flat leaves, and what it closes over.

    The primitive's leaves are the arguments' leaves followed by the traced
    values ``f`` closes over; a call puts the latter where ``f`` reads them.
    """

    def __init__(self, f: Callable, trees: list, captured: list, leaves: list):
        self.f, self.trees, self.captured = f, trees, captured
        self.argument_count = len(leaves) - len(captured)
        # The leaves one level under the innermost trace's boxes: exactly the arguments of
        # the node recorded for that trace, while outer traces' nodes get further unboxed ones.
        top = max((leaf._trace for leaf in leaves if isbox(leaf)), default=None)
        self.own_leaves = [leaf._value if isbox(leaf) and leaf._trace == top else leaf for leaf in leaves]

    def __call__(self, *leaves: Any) -> Any:
        arguments = structure.per_argument(self.trees, leaves[:self.argument_count],
                                           lambda tree, its_leaves: tree.rebuild(list(its_leaves)))
        if not self.captured:
            return self.f(*arguments)
        with substituted(self.f, self.captured, leaves[self.argument_count:]) as found:
            if not all(found):
                raise RuntimeError("checkpointed(f, ...): a traced value f closed over is no longer where f "
                                   "reads it when the backward pass recomputes f: pass it as an argument, "
                                   "e.g. checkpointed(lambda W, h: W @ h, W, h)")
            return self.f(*arguments)

    def belongs_to_innermost_trace(self, leaves: tuple) -> bool:
        return all(leaf is own for leaf, own in zip(leaves, self.own_leaves))

    def one_trace_deeper(self, *leaves: Any) -> Any:
        """``f`` traced once more and that trace dropped: instrumentation inside belongs to it, not to the caller's.

        An outer reverse pass (reverse over reverse) differentiates the
        innermost one; to it ``hook``, ``showgrad`` and ``eager_update`` are
        identities, as they are without ``checkpointed``.
        """
        return record(self, *leaves).value


@primitive
def _checkpointed_call(call, *leaves):
    with outside_traces():
        output = call(*leaves)
    if isbox(output):
        raise TypeError("checkpointed(f, ...): f reaches a traced value that is neither an argument nor found "
                        "in its closure, globals, defaults or attributes (up to 6 levels deep): pass it in, "
                        "e.g. checkpointed(lambda W, h: W @ h, W, h)")
    if not structure.is_differentiable(output):
        raise TypeError(f"checkpointed(f, ...) needs f to return a number or an array, got "
                        f"{type(output).__name__}: return one array (np.concatenate the parts)")
    return output


def _recomputed_cotangents(argnums, ans, args, kwargs):
    call, leaves = args[0], args[1:]

    def vjp(cotangent):
        recompute = call if call.belongs_to_innermost_trace(leaves) else call.one_trace_deeper
        _, back = pullback(recompute, *leaves)
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
    layer's parameters); ``f`` must return a number or an array and be pure.
    Traced values ``f`` closes over get their gradients too; ``f``'s closure
    cells are read when ``checkpointed`` is called, so a closure made in a
    loop recomputes with that iteration's values.  Hooks, ``showgrad`` and
    ``eager_update`` inside ``f`` act in the recomputed backward pass, once,
    as they would without ``checkpointed``.

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
    captured = []
    if trace_stack.top >= 0:  # a differentiation is running: f may close over its traced values
        f = _with_closure_as_now(f)
        captured = reachable_values(f, isbox)
    leaves = array_library.on_one_library(leaves + captured)
    return _checkpointed_call(_Call(f, trees, captured, leaves), *leaves)
