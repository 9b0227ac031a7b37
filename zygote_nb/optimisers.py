"""Optimisation rules that update a model's arrays in place, after Optimisers.jl.

A *model* is an array or a nested ``dict`` / ``list`` / ``tuple`` of arrays, or
a plain Python object whose attributes hold them (a hand-written ``Dense``
layer, an ``MLP`` holding a list of layers, a dataclass).
``setup(rule, model)`` builds a *state tree* of the same structure, with a
:class:`Leaf` (the rule and its per-array state) at every trainable array —
a float or complex ``numpy.ndarray`` — and ``None`` everywhere else; an
object's state is a ``types.SimpleNamespace`` of its attributes' states, as its
gradient is a namespace of its attributes' gradients.
``update(state, model, grad)`` then moves every array of ``model`` one step
against ``grad``, which has the model's structure with ``None`` wherever no
gradient arrived (such a leaf, or a whole branch, is left alone).

Arrays are updated in place, so an integer array cannot be trained (its values
cannot become fractions) and is never skipped silently either: ``setup`` and
``update`` refuse it, naming where it is and the fix.

>>> import numpy as np
>>> setup(Descent(), {"W": np.array([[1, 2]])})
Traceback (most recent call last):
ValueError: the array at model['W'] has integer dtype int64 and cannot be trained in place: make it float (numpy.array(..., dtype=float) or .astype(float)), or keep integer data out of the model you train

>>> import numpy as np
>>> model = {"W": np.array([1.0, 2.0]), "name": "line"}
>>> state = setup(Descent(0.5), model)
>>> state
{'W': Leaf(Descent(lr=0.5), None), 'name': None}
>>> update(state, model, {"W": np.array([2.0, 2.0]), "name": None})["W"]
array([0., 1.])

An array that appears in the model more than once (a tied weight) gets one
:class:`Leaf`, and one step with the sum of its gradients, as in Optimisers.jl.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from .params import IdDict
from .structure import object_fields

__all__ = ["Descent", "Momentum", "Adam", "Leaf", "setup", "update"]


@dataclass(frozen=True)
class Descent:
    """Plain gradient descent: ``x -= lr * grad``.

    >>> import numpy as np
    >>> x = np.array([1.0, -1.0])
    >>> update(setup(Descent(0.1), x), x, np.array([1.0, 2.0]))
    array([ 0.9, -1.2])
    """

    lr: float = 0.1

    def init(self, x):
        """Descent keeps no state."""
        return None

    def apply(self, state, x, grad):
        """Return ``(new_state, step)``; the caller subtracts ``step`` from ``x``."""
        return state, self.lr * grad


@dataclass(frozen=True)
class Momentum:
    """Gradient descent with momentum: ``v = rho * v + lr * grad; x -= v``.

    >>> import numpy as np
    >>> x = np.array([1.0])
    >>> state = setup(Momentum(lr=0.1, rho=0.5), x)
    >>> update(state, x, np.array([1.0]))     # v = 0.1
    array([0.9])
    >>> update(state, x, np.array([1.0]))     # v = 0.5 * 0.1 + 0.1
    array([0.75])
    """

    lr: float = 0.01
    rho: float = 0.9

    def init(self, x):
        """The velocity, zeros like ``x``."""
        return np.zeros_like(x)

    def apply(self, state, x, grad):
        """Return ``(new_state, step)``; the velocity is updated in place."""
        velocity = state
        velocity *= self.rho
        velocity += self.lr * grad
        return velocity, velocity


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba), with bias correction and ``eps`` outside the square root.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) |g|^2``, and the step is
    ``lr * m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps)`` at step ``t``.

    >>> import numpy as np
    >>> x = np.array([1.0, 1.0])
    >>> update(setup(Adam(lr=0.1), x), x, np.array([3.0, -0.5]))  # first step is lr * sign(g)
    array([0.9, 1.1])
    """

    lr: float = 0.001
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8

    def init(self, x):
        """First and second moments (zeros like ``x``) and the running powers ``b1^t, b2^t``."""
        return (np.zeros_like(x), np.zeros_like(x), self.betas)

    def apply(self, state, x, grad):
        """Return ``(new_state, step)``; the moments are updated in place."""
        mean, square, powers = state
        beta1, beta2 = self.betas
        mean *= beta1
        mean += (1 - beta1) * grad
        square *= beta2
        square += (1 - beta2) * np.abs(grad) ** 2
        step = self.lr * (mean / (1 - powers[0])) / (np.sqrt(square / (1 - powers[1])) + self.eps)
        return (mean, square, (powers[0] * beta1, powers[1] * beta2)), step


@dataclass
class Leaf:
    """The rule and its state for one trainable array of a model.

    >>> import numpy as np
    >>> leaf = setup(Momentum(), np.zeros(2))
    >>> leaf
    Leaf(Momentum(lr=0.01, rho=0.9), ...)
    >>> leaf.fits(np.zeros(2)), leaf.fits(np.zeros(3))
    (True, False)
    """

    rule: Any
    state: Any

    def __repr__(self):
        state = "None" if self.state is None else "..."
        return f"Leaf({self.rule!r}, {state})"

    def fits(self, x) -> bool:
        """Whether every array in the state has the shape of ``x`` (the state was set up for such an array)."""
        parts = self.state if isinstance(self.state, tuple) else (self.state,)
        return all(part.shape == np.shape(x) for part in parts if isinstance(part, np.ndarray))


def _is_trainable(x):
    return isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.inexact)


def refuse_integer_array(x, path):
    """Raise for an integer ``numpy.ndarray`` at ``path``: in-place updates cannot train it.

    >>> refuse_integer_array(np.zeros(2), "model")  # a float array passes
    """
    if isinstance(x, np.ndarray) and x.dtype.kind in "iu":
        raise ValueError(
            f"the array at {path} has integer dtype {x.dtype} and cannot be trained in place: make it float "
            "(numpy.array(..., dtype=float) or .astype(float)), or keep integer data out of the model you train"
        )


def setup(rule, model):
    """Build the state tree for ``model``: a :class:`Leaf` per trainable array.

    ``rule`` is :class:`Descent`, :class:`Momentum`, :class:`Adam` or any object
    with ``init(x)`` and ``apply(state, x, grad) -> (state, step)``. Scalars,
    strings and ``None`` are not trainable and get ``None``; an integer array
    is refused with a ``ValueError`` (see the module docstring). A plain object
    gets a ``types.SimpleNamespace`` of its attributes' states.

    >>> import numpy as np
    >>> setup(Momentum(), [np.zeros(2), (np.zeros(3), 7)])
    [Leaf(Momentum(lr=0.01, rho=0.9), ...), (Leaf(Momentum(lr=0.01, rho=0.9), ...), None)]
    >>> class Dense:
    ...     def __init__(self):
    ...         self.W, self.activation = np.zeros(2), "relu"
    >>> setup(Descent(), Dense())
    namespace(W=Leaf(Descent(lr=0.1), None), activation=None)
    """
    if not (callable(getattr(rule, "init", None)) and callable(getattr(rule, "apply", None))):
        raise TypeError(
            f"setup needs an optimisation rule such as Descent(), Momentum() or Adam(), got {type(rule).__name__}"
        )
    leaves = IdDict()  # a tied array, met twice, gets its one Leaf again

    def build(node, path, inside=()):
        # ``inside``: the objects this node sits in, as for gradients (structure.flatten): a layer that
        # points back to its model is not entered again, while a layer used twice is, sharing its Leaves.
        refuse_integer_array(node, path)
        if _is_trainable(node):
            if node not in leaves:
                leaves[node] = Leaf(rule, rule.init(node))
            return leaves[node]
        if isinstance(node, Mapping):
            return {key: build(value, f"{path}[{key!r}]", inside) for key, value in node.items()}
        if isinstance(node, (list, tuple)):
            return _same_kind(node, [build(item, f"{path}[{index}]", inside) for index, item in enumerate(node)])
        fields = object_fields(node)
        if fields is not None and id(node) not in inside:
            inside = inside + (id(node),)
            return SimpleNamespace(**{name: build(value, f"{path}.{name}", inside) for name, value in fields.items()})
        return None

    return build(model, "model")


def _same_kind(sequence, items):
    if isinstance(sequence, list):
        return items
    if hasattr(sequence, "_make"):
        return sequence._make(items)
    return tuple(items)


def update(state, model, grad):
    """Move every trainable array of ``model`` one step against ``grad``, in place.

    ``state`` comes from ``setup(rule, model)`` (and is advanced in place);
    ``grad`` has the structure of ``model``, with ``None`` for any leaf or
    branch that got no gradient. Returns ``model`` (Optimisers.jl's ``update!``).

    >>> import numpy as np
    >>> model = {"layers": [{"W": np.ones(2)}, {"W": np.ones(2)}]}
    >>> state = setup(Descent(1.0), model)
    >>> update(state, model, {"layers": [None, {"W": np.array([0.5, 2.0])}]})
    {'layers': [{'W': array([1., 1.])}, {'W': array([ 0.5, -1. ])}]}
    """
    pending = IdDict()
    _collect(state, model, grad, "model", pending)
    for leaf, (x, total) in pending.items():
        leaf.state, step = leaf.rule.apply(leaf.state, x, total)
        x -= step
    return model


def _collect(state, node, grad, path, pending):
    """Pair each Leaf with its array and gradient, summing the gradients of a tied array."""
    if grad is None:
        return
    refuse_integer_array(node, path)
    if _is_trainable(node):
        if not isinstance(state, Leaf):
            raise ValueError(f"state has no Leaf for the array at {path}; rebuild it with setup(rule, model)")
        if not state.fits(node):
            raise ValueError(f"state at {path} does not fit an array of shape {node.shape} (it was set up for "
                             "another model); rebuild it with setup(rule, model)")
        grad = np.asarray(grad)
        if grad.shape != node.shape:
            raise ValueError(
                f"gradient at {path} has shape {grad.shape} but the array has shape {node.shape}; "
                "pass the gradient of this model"
            )
        if state in pending:
            x, total = pending[state]
            pending[state] = (x, total + grad)
        else:
            pending[state] = (node, grad)
    elif isinstance(node, Mapping):
        _expect(isinstance(state, Mapping) and state.keys() == node.keys(), "state", path)
        _expect(isinstance(grad, Mapping) and grad.keys() <= node.keys(), "gradient", path)
        for key, value in node.items():
            _collect(state[key], value, grad.get(key), f"{path}[{key!r}]", pending)
    elif isinstance(node, (list, tuple)):
        _expect(isinstance(state, (list, tuple)) and len(state) == len(node), "state", path)
        _expect(isinstance(grad, (list, tuple)) and len(grad) == len(node), "gradient", path)
        for index, item in enumerate(node):
            _collect(state[index], item, grad[index], f"{path}[{index}]", pending)
    elif object_fields(node) is not None:
        fields = object_fields(node)
        _expect(isinstance(state, SimpleNamespace) and vars(state).keys() == fields.keys(), "state", path)
        for name, value in fields.items():
            _collect(getattr(state, name), value, getattr(grad, name, None), f"{path}.{name}", pending)


def _expect(matches, what, path):
    if not matches:
        fix = "rebuild it with setup(rule, model)" if what == "state" else "pass a gradient with the model's structure"
        raise ValueError(f"{what} does not match the structure of the model at {path}; {fix}")
