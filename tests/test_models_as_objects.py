"""Models as objects (SPEC 6): a hand-written layer, a list of them, a dataclass, trained with no wrapping.

Every gradient is checked against the closed form of a linear layer's loss, or against the same
model written as dicts (the structure gradient already supported), never against itself.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import numpy
import pytest

import zygote_nb.numpy as np
from zygote_nb import eager_update, gradient
from zygote_nb.optimisers import Adam, Descent, Momentum, setup, update


class Dense:
    def __init__(self, W, b, activation="identity"):
        self.W, self.b, self.activation = W, b, activation

    def __call__(self, x):
        y = self.W @ x + self.b
        return np.tanh(y) if self.activation == "tanh" else y


class MLP:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


@dataclass(frozen=True)
class FrozenLinear:
    W: numpy.ndarray
    width: int = 2


X = numpy.array([1.0, -2.0, 0.5])


def random_mlp(seed=0):
    random = numpy.random.default_rng(seed)
    return MLP([Dense(random.standard_normal((4, 3)), random.standard_normal(4), "tanh"),
                Dense(random.standard_normal((1, 4)), random.standard_normal(1))])


def as_dicts(mlp):
    return {"layers": [{"W": layer.W, "b": layer.b} for layer in mlp.layers]}


def dict_loss(model):
    h = X
    for layer, activation in zip(model["layers"], ("tanh", "identity")):
        h = layer["W"] @ h + layer["b"]
        h = np.tanh(h) if activation == "tanh" else h
    return np.sum(h ** 2)


def object_loss(mlp):
    return np.sum(mlp(X) ** 2)


def test_a_dense_layers_gradient_is_a_namespace_of_its_fields_with_the_closed_form():
    layer = Dense(numpy.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]]), numpy.array([0.5, -0.5]))
    (grad,) = gradient(lambda layer: np.sum(layer(X) ** 2), layer)
    residual = layer.W @ X + layer.b  # d/dW sum(r^2) = 2 r x^T, d/db = 2 r
    assert isinstance(grad, SimpleNamespace) and grad.activation is None
    numpy.testing.assert_allclose(grad.W, 2 * numpy.outer(residual, X))
    numpy.testing.assert_allclose(grad.b, 2 * residual)
    assert layer.W[0, 1] == 2.0  # the caller's object is untouched


def test_an_mlp_of_layers_has_the_gradient_of_the_same_model_written_as_dicts():
    mlp = random_mlp()
    (grad,) = gradient(object_loss, mlp)
    (expected,) = gradient(dict_loss, as_dicts(mlp))
    for got, want in zip(grad.layers, expected["layers"]):
        numpy.testing.assert_allclose(got.W, want["W"])
        numpy.testing.assert_allclose(got.b, want["b"])


def test_a_frozen_dataclass_is_differentiated_and_its_settings_get_none():
    (grad,) = gradient(lambda model: np.sum(model.W ** 3) * model.width, FrozenLinear(numpy.array([1.0, 2.0])))
    numpy.testing.assert_allclose(grad.W, 2 * 3 * numpy.array([1.0, 4.0]))
    assert grad.width is None


def test_a_layer_that_points_back_to_its_model_is_entered_once():
    mlp = random_mlp()
    for layer in mlp.layers:
        layer.owner = mlp
    (grad,) = gradient(object_loss, mlp)
    (expected,) = gradient(dict_loss, as_dicts(mlp))
    numpy.testing.assert_allclose(grad.layers[0].W, expected["layers"][0]["W"])
    assert grad.layers[0].owner is None


@pytest.mark.parametrize("rule", [Descent(0.1), Momentum(0.05, 0.9), Adam(0.01)], ids=repr)
def test_setup_and_update_train_an_object_as_its_dict_twin(rule):
    mlp, twin = random_mlp(), as_dicts(random_mlp())
    state, twin_state = setup(rule, mlp), setup(rule, twin)
    assert isinstance(state, SimpleNamespace) and state.layers[0].activation is None
    for _ in range(3):
        update(state, mlp, gradient(object_loss, mlp)[0])
        update(twin_state, twin, gradient(dict_loss, twin)[0])
    for layer, twin_layer in zip(mlp.layers, twin["layers"]):
        numpy.testing.assert_allclose(layer.W, twin_layer["W"])
        numpy.testing.assert_allclose(layer.b, twin_layer["b"])
    assert not numpy.allclose(mlp.layers[0].W, random_mlp().layers[0].W)  # it did move


def test_eager_updates_of_object_layers_train_as_gradient_then_update():
    mlp, twin = random_mlp(), random_mlp()
    state, twin_state = setup(Descent(0.1), mlp), setup(Descent(0.1), twin)

    def eager_loss(mlp):
        h = X
        for layer_state, layer in zip(state.layers, mlp.layers):
            h = eager_update(layer_state, layer, update)(h)
        return np.sum(h ** 2)

    for _ in range(3):
        assert gradient(eager_loss, mlp) == (None,)
        update(twin_state, twin, gradient(object_loss, twin)[0])
    for layer, twin_layer in zip(mlp.layers, twin.layers):
        numpy.testing.assert_allclose(layer.W, twin_layer.W)
        numpy.testing.assert_allclose(layer.b, twin_layer.b)


def test_eager_update_of_an_object_with_a_state_of_another_shape_names_the_attribute():
    layer = Dense(numpy.ones((2, 3)), numpy.zeros(2))
    state = setup(Descent(), {"W": numpy.ones((2, 3))})
    with pytest.raises(ValueError, match=r"at model the model has Dense but the state has dict, expected a namespace"):
        gradient(lambda layer: np.sum(eager_update(state, layer, update)(X)), layer)


INTEGER_FIX = r"has integer dtype int64 and cannot be trained in place: make it float"


def test_setup_refuses_an_integer_array_naming_where_it_is():
    with pytest.raises(ValueError, match=r"^the array at model\['W'\] " + INTEGER_FIX):
        setup(Descent(1.0), {"W": numpy.array([[1, 2]])})
    with pytest.raises(ValueError, match=r"^the array at model " + INTEGER_FIX):
        setup(Descent(1.0), numpy.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"^the array at model.layers\[0\].W " + INTEGER_FIX):
        setup(Descent(1.0), MLP([Dense(numpy.ones((2, 2), dtype=int), numpy.zeros(2))]))


def test_update_refuses_an_integer_array_that_receives_a_gradient():
    model = {"W": numpy.array([1.0, 2.0])}
    state = setup(Descent(1.0), model)
    with pytest.raises(ValueError, match=r"^the array at model\['W'\] " + INTEGER_FIX):
        update(state, {"W": numpy.array([1, 2])}, {"W": numpy.array([1.0, 1.0])})


def test_eager_update_follows_the_same_integer_rule_as_setup():
    model = {"w": numpy.array([1.0, 2.0]), "k": numpy.array([1, 2])}
    with pytest.raises(ValueError, match=r"^the array at model\['k'\] " + INTEGER_FIX):
        setup(Descent(0.1), model)
    float_state = setup(Descent(0.1), {"w": numpy.ones(2), "k": numpy.ones(2)})
    with pytest.raises(ValueError, match=r"^the array at model\['k'\] " + INTEGER_FIX):
        eager_update(float_state, model, update)


def test_a_layer_used_twice_takes_one_step_with_both_uses_gradients():
    shared = Dense(numpy.array([[0.5, -0.25], [0.125, 1.0]]), numpy.array([0.1, -0.1]))
    twice, x = MLP([shared, shared]), numpy.array([1.0, 2.0])
    W, b = shared.W.copy(), shared.b.copy()
    (grad,) = gradient(lambda model: np.sum(model(x) ** 2), twice)
    total_W = grad.layers[0].W + grad.layers[1].W
    # independent path: central differences of the loss in W[0, 1], both uses moving together
    def loss_at(step):
        moved = W.copy()
        moved[0, 1] += step
        h = moved @ (moved @ x + b) + b
        return numpy.sum(h ** 2)
    assert total_W[0, 1] == pytest.approx((loss_at(1e-6) - loss_at(-1e-6)) / 2e-6, rel=1e-6)
    update(setup(Descent(0.1), twice), twice, grad)
    numpy.testing.assert_allclose(shared.W, W - 0.1 * total_W)
    numpy.testing.assert_allclose(shared.b, b - 0.1 * (grad.layers[0].b + grad.layers[1].b))


def test_eager_updates_of_a_model_whose_layers_point_back_to_it():
    mlp, twin = random_mlp(), random_mlp()
    for model in (mlp, twin):
        for layer in model.layers:
            layer.owner = model
    state, twin_state = setup(Descent(0.1), mlp), setup(Descent(0.1), twin)
    assert gradient(lambda m: np.sum(eager_update(state, m, update)(X) ** 2), mlp) == (None,)
    update(twin_state, twin, gradient(object_loss, twin)[0])
    numpy.testing.assert_allclose(mlp.layers[0].W, twin.layers[0].W)
    assert not numpy.allclose(mlp.layers[0].W, random_mlp().layers[0].W)


def test_a_gradient_check_of_an_object_nudges_its_arrays():
    from zygote_nb.checking import check_gradient

    layer = Dense(numpy.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]]), numpy.array([0.5, -0.5]), "tanh")
    report = check_gradient(lambda layer: np.sum(layer(X) ** 2), layer)
    assert report.passed and report.problem is None
    assert report.finite_differences[0].W.shape == (2, 3) and report.finite_differences[0].activation is None


def test_array_likes_are_data_not_models():
    import scipy.sparse

    matrix = scipy.sparse.csr_matrix(numpy.array([[1.0, 0.0], [0.0, 2.0]]))
    (grad_w, grad_matrix) = gradient(lambda w, m: np.sum(w ** 2 * m.diagonal()), numpy.array([1.0, 3.0]), matrix)
    numpy.testing.assert_allclose(grad_w, [2.0, 12.0])  # 2 w diag(M); the matrix was read as it is, untraced
    assert grad_matrix is None
