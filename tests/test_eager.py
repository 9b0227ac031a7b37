"""zygote_nb.eager: eager updates train exactly like gradient-then-update, with a lower memory peak."""

import tracemalloc

import numpy
import pytest

import zygote_nb.numpy as np
from zygote_nb import gradient
from zygote_nb.checkpoint import checkpointed
from zygote_nb.eager import eager_update
from zygote_nb.optimisers import Adam, Descent, Momentum, setup, update


def three_layer_model(width, seed=0):
    random = numpy.random.default_rng(seed)
    return {"layers": [{"W": random.standard_normal((width, width)) / numpy.sqrt(width),
                        "b": random.standard_normal(width) / 10} for _ in range(3)]}


def dense(layer, h):
    """One layer on a batch of rows ``h`` (batch x width)."""
    return np.tanh(h @ layer["W"] + layer["b"])


def dense_weights_first(layer, h):
    """The same layer on a batch of columns (width x batch), the weight matrix written first."""
    return np.tanh(layer["W"].T @ h + layer["b"][:, None])


def loss(model, x, y, layer_function=dense):
    h = x
    for layer in model["layers"]:
        h = layer_function(layer, h)
    return np.sum((h - y) ** 2)


def eager_loss(state, model, x, y, checkpoint=False, layer_function=dense):
    h = x
    for layer_state, layer in zip(state["layers"], model["layers"]):
        layer = eager_update(layer_state, layer, update)
        h = checkpointed(layer_function, layer, h) if checkpoint else layer_function(layer, h)
    return np.sum((h - y) ** 2)


def ordinary_step(state, model, x, y, layer_function=dense):
    grads = gradient(loss, model, x, y, layer_function)[0]
    update(state, model, grads)


def eager_step(state, model, x, y, checkpoint=False, layer_function=dense):
    assert gradient(eager_loss, state, model, x, y, checkpoint, layer_function)[1] is None


def data(batch, width, seed=1):
    random = numpy.random.default_rng(seed)
    return random.standard_normal((batch, width)), random.standard_normal((batch, width))


@pytest.mark.parametrize("rule", [Descent(0.05), Momentum(0.05, 0.9), Adam(0.01)], ids=repr)
@pytest.mark.parametrize("checkpoint", [False, True], ids=["plain", "checkpointed"])
def test_training_with_eager_updates_ends_with_the_same_parameters(rule, checkpoint):
    x, y = data(4, 5)
    ordinary_model, eager_model = three_layer_model(5), three_layer_model(5)
    ordinary_state, eager_state = setup(rule, ordinary_model), setup(rule, eager_model)
    for _ in range(5):
        ordinary_step(ordinary_state, ordinary_model, x, y)
        eager_step(eager_state, eager_model, x, y, checkpoint)
    for ordinary_layer, eager_layer in zip(ordinary_model["layers"], eager_model["layers"]):
        for key in ("W", "b"):
            numpy.testing.assert_allclose(eager_layer[key], ordinary_layer[key], rtol=0, atol=1e-12)
    assert loss(eager_model, x, y) < loss(three_layer_model(5), x, y)


def peak_memory_ratio(layer_function):
    """Peak of an eager step over the peak of an ordinary one (tracemalloc)."""
    x, y = data(2, 400)
    if layer_function is dense_weights_first:
        x, y = x.T.copy(), y.T.copy()
    peaks = {}
    for name, step in (("ordinary", ordinary_step), ("eager", eager_step)):
        model = three_layer_model(400)
        state = setup(Descent(0.01), model)
        tracemalloc.start()
        try:
            step(state, model, x, y, layer_function=layer_function)
            peaks[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peaks["eager"] / peaks["ordinary"]


def test_peak_memory_of_a_step_is_lower():
    # Parameters (three 400 x 400 weights) dominate: the ordinary step holds all their
    # gradients until the pass ends, the eager one only the layer being updated (ratio ~0.53).
    assert peak_memory_ratio(dense) < 1


def test_peak_memory_is_lower_with_the_weights_written_first():
    assert peak_memory_ratio(dense_weights_first) < 1


def test_an_unused_leaf_is_updated_with_none_and_left_alone():
    model = {"used": numpy.array([1.0, 2.0]), "unused": numpy.array([5.0])}
    state = setup(Descent(0.5), model)
    gradient(lambda m: np.sum(eager_update(state, m, update)["used"] ** 2), model)
    numpy.testing.assert_array_equal(model["used"], [0.0, 0.0])  # x - 0.5 * 2x
    numpy.testing.assert_array_equal(model["unused"], [5.0])


def test_update_receives_the_model_itself_and_a_gradient_of_its_structure():
    seen = []
    model = [numpy.array([1.0, 2.0]), (numpy.array([3.0]), "tag")]
    state = setup(Descent(), model)

    def record(state, model, grad):
        seen.append((model, grad))

    def f(m):
        m = eager_update(state, m, record)
        return np.sum(m[0] * 3.0) + np.sum(m[1][0] ** 2)

    gradient(f, model)
    ((given_model, grad),) = seen
    assert given_model[0] is model[0] and given_model[1][0] is model[1][0]
    numpy.testing.assert_array_equal(grad[0], [3.0, 3.0])
    numpy.testing.assert_array_equal(grad[1][0], [6.0])
    assert grad[1][1] is None


def test_outside_differentiation_nothing_is_updated():
    model = {"W": numpy.ones(2)}
    assert eager_update(setup(Descent(), model), model, update) is model
    numpy.testing.assert_array_equal(model["W"], [1.0, 1.0])


@pytest.mark.parametrize("state", [
    {"W": None},
    {"layers": []},
    [None],
    None,
    {"W": setup(Momentum(), numpy.ones(3))},
], ids=["no state at the array", "other keys", "list for dict", "none", "another shape"])
def test_mismatched_state_is_a_one_line_error_at_the_call(state):
    model = {"W": numpy.ones(2)}
    with pytest.raises(ValueError) as error:
        gradient(lambda m: np.sum(eager_update(state, m, update)["W"]), model)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("eager_update(state, model, update): at model")
    assert message.endswith("build the state with optimisers.setup(rule, model) from this same model (or its part)")


def test_a_non_callable_update_is_a_one_line_error():
    model = numpy.ones(2)
    with pytest.raises(TypeError, match=r"pass e.g. zygote_nb.optimisers.update"):
        eager_update(setup(Descent(), model), model, "update")
