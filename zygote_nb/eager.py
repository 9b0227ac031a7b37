"""``eager_update``: update a model's parameters the moment their gradient is known.

``eager_update(state, model, update)`` returns ``model``.  In the backward
pass, as soon as the gradient of this use of ``model`` is complete, it calls
``update(state, model, grad)`` (typically :func:`zygote_nb.optimisers.update`,
which changes the arrays in place) and sends no gradient further back, so the
gradient of every layer is dropped as soon as it has been used instead of
being held until the whole backward pass ends.

>>> import zygote_nb.numpy as np
>>> from zygote_nb.gradients import gradient
>>> from zygote_nb.optimisers import Descent, setup, update
>>> model = {"w": np.array([1.0, 2.0])}
>>> state = setup(Descent(0.1), model)
>>> gradient(lambda m: np.sum(eager_update(state, m, update)["w"] ** 2), model)
(None,)
>>> model["w"]
array([0.8, 1.6])

Combine it with :func:`~zygote_nb.checkpoint.checkpointed` to save both the
activations and the gradients of a layer:
``h = checkpointed(layer, eager_update(state["layers"][i], model["layers"][i], update), h)``.
If several layers share a parameter array, eager updates give wrong results
(the array changes while the backward pass still needs it).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

import numpy
from autograd.extend import defjvp, defvjp, primitive
from autograd.tracer import getval, isbox

from . import array_library, structure
from .optimisers import Leaf, refuse_integer_array
from .pullback import current_trace


class _EagerGroup:
    """One ``eager_update`` call: collects its leaves' gradients in a backward pass, then updates once."""

    def __init__(self, state: Any, model: Any, tree: structure.Tree, traced: list, update: Callable):
        self.state, self.model, self.tree, self.update = state, model, tree, update
        # One level under each traced leaf's box: marks the node recorded for this call's own trace.
        self.traced_values = {position: leaf._value for position, leaf in traced}
        self.arrived: dict = {}

    def receive(self, position: int, cotangent: Any) -> None:
        self.arrived[position] = getval(cotangent)
        if len(self.arrived) == len(self.traced_values):
            self._flush()

    def start_pass(self) -> None:
        self.arrived = {}

    def end_pass(self) -> None:
        if self.arrived:  # some leaves were never used: update with what did arrive
            self._flush()

    def _flush(self) -> None:
        count = self.tree.leaf_count()
        gradients = [self.arrived.get(position) for position in range(count)]
        self.arrived = {}
        self.update(self.state, self.model, self.tree.gradient(gradients))


@primitive
def _eager_leaf(leaf, group, position):
    return leaf


def _update_instead_of_gradient(ans, leaf, group, position):
    def vjp(cotangent):
        if leaf is not group.traced_values.get(position):
            return cotangent  # an outer trace's node: eager_update is the identity there
        group.receive(position, cotangent)
        return None
    return vjp


defvjp(_eager_leaf, _update_instead_of_gradient)
# In forward mode the model is just passed along: its tangent too.
defjvp(_eager_leaf, lambda tangent, ans, leaf, group, position: tangent)


def _require_matching_state(state: Any, model: Any, path: str, inside: tuple = ()) -> None:
    """``state`` must mirror ``model``: the same containers, and some state at every trainable array.

    An integer array is refused as :func:`~zygote_nb.optimisers.setup` refuses it. An object met again
    inside itself was not entered by ``setup`` (its state is ``None``); under ``gradient`` such an
    object is the caller's, not the traced copy, so an object's ``None`` state is accepted below the
    top (``inside``: the ids of the objects on the way here).
    """
    value = getval(model)
    refuse_integer_array(value, path)
    fields = None if isinstance(model, (dict, list, tuple)) else structure.object_fields(value)
    if fields is not None and (id(value) in inside or (inside and state is None)):
        return
    problem = None
    if isinstance(model, dict):
        if not isinstance(state, dict) or state.keys() != model.keys():
            problem = f"a dict with keys {sorted(map(str, model))}"
    elif isinstance(model, (list, tuple)):
        if not isinstance(state, (list, tuple)) or len(state) != len(model):
            problem = f"a {type(model).__name__} of length {len(model)}"
    elif fields is not None:
        if not isinstance(state, SimpleNamespace) or vars(state).keys() != fields.keys():
            problem = f"a namespace with the attributes {sorted(fields)}"
    elif array_library.is_array(value) and numpy.issubdtype(value.dtype, numpy.inexact):
        if state is None or isinstance(state, (dict, list, tuple)):
            problem = "the state of one array (a Leaf)"
        elif isinstance(state, Leaf) and not state.fits(value):
            problem = f"a Leaf set up for an array of shape {numpy.shape(value)}"
    if problem is not None:
        raise ValueError(f"eager_update(state, model, update): at {path} the model has "
                         f"{type(value).__name__} but the state has {type(state).__name__}, expected "
                         f"{problem}: build the state with optimisers.setup(rule, model) from this same model "
                         f"(or its part)")
    if isinstance(model, dict):
        for key in model:
            _require_matching_state(state[key], model[key], f"{path}[{key!r}]", inside)
    elif isinstance(model, (list, tuple)):
        for index, item in enumerate(model):
            _require_matching_state(state[index], item, f"{path}[{index}]", inside)
    elif fields is not None:
        for name, item in fields.items():
            _require_matching_state(getattr(state, name), item, f"{path}.{name}", inside + (id(value),))


def eager_update(state: Any, model: Any, update: Callable) -> Any:
    """Return ``model``; when its gradient is known in the backward pass, call ``update(state, model, grad)``.

    ``model`` is an array, a nested dict / list / tuple of arrays, or a plain
    object holding them (one layer, say); ``state`` its optimiser state from
    :func:`zygote_nb.optimisers.setup`, which refuses integer arrays, as this
    does; ``update`` changes ``model`` in place,
    like :func:`zygote_nb.optimisers.update`.  No gradient is passed back for
    ``model``: ``gradient`` reports ``None`` for it.  Outside any
    differentiation it returns ``model`` and updates nothing.

    >>> import zygote_nb.numpy as np
    >>> from zygote_nb.gradients import gradient
    >>> from zygote_nb.optimisers import Descent, setup, update
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> x = np.array([1.0, 2.0])
    >>> state = setup(Descent(0.5), W)
    >>> _ = gradient(lambda W: np.sum(eager_update(state, W, update) @ x), W)
    >>> W
    array([[ 0.5, -1. ],
           [-0.5,  0. ]])
    """
    if not callable(update):
        raise TypeError(f"eager_update(state, model, update) needs a function as update, got "
                        f"{type(getval(update)).__name__}: pass e.g. zygote_nb.optimisers.update")
    _require_matching_state(state, model, "model")
    leaves, tree = structure.flatten(model)
    traced = [(position, leaf) for position, leaf in enumerate(leaves) if isbox(leaf)]
    trace = current_trace(traced[0][1]) if traced else None
    if trace is None:
        return model
    group = _EagerGroup(state, tree.rebuild([getval(leaf) for leaf in leaves]), tree, traced, update)
    trace.pass_listeners.append(group)
    return tree.rebuild([_eager_leaf(leaf, group, position) if isbox(leaf) else leaf
                         for position, leaf in enumerate(leaves)])
