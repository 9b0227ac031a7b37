"""zygote_nb.implicit: gradients of zero-argument losses with respect to Params.

Covers the Utilities page's "Working with Grads" example line by line, its implicit
withgradient and jacobian examples, and a small model trained through Params/Grads with
zygote_nb.optimisers — gradients checked against central finite differences.
"""

import autograd.numpy as anp
import numpy
import pytest
from helpers import finite_difference_gradient

from zygote_nb.implicit import (
    implicit_gradient,
    implicit_jacobian,
    implicit_pullback,
    implicit_withgradient,
)
from zygote_nb.optimisers import Adam, Descent, Momentum, setup, update
from zygote_nb.grads import Grads
from zygote_nb.params import IdDict, Params


def tanh_layer_gradients(w, x, b):
    """Hand-derived: d/dw and d/db of sum(tanh(w x + b))."""
    slope = 1 - numpy.tanh(w * x + b) ** 2
    return slope * x, slope


def test_working_with_grads_example_line_by_line():
    rng = numpy.random.default_rng(0)
    w, x1, x2, b = (rng.random(2) for _ in range(4))
    gs1 = implicit_gradient(lambda: anp.sum(anp.tanh(w * x1 + b)), Params([w, b]))
    gs2 = implicit_gradient(lambda: anp.sum(anp.tanh(w * x2 + b)), Params([w, b]))
    for gs, x in ((gs1, x1), (gs2, x2)):
        expected_w, expected_b = tanh_layer_gradients(w, x, b)
        numpy.testing.assert_allclose(gs[w], expected_w)
        numpy.testing.assert_allclose(gs[b], expected_b)

    # accumulate gradients
    gs = gs1 + gs2
    numpy.testing.assert_allclose(gs[w], gs1[w] + gs2[w])
    numpy.testing.assert_allclose(gs[b], gs1[b] + gs2[b])

    # gradients and IdDict interact nicely
    before = {id(p): g.copy() for p, g in gs.items()}
    noise = IdDict((p, rng.normal(size=p.shape)) for p in gs.keys())
    gs += noise
    for p in gs:
        numpy.testing.assert_allclose(gs[p], before[id(p)] + noise[p])

    # clip gradients
    clipped = gs.map(lambda g: numpy.clip(g, -0.1, 0.1))
    for p in gs:
        numpy.testing.assert_array_equal(clipped[p], numpy.clip(gs[p], -0.1, 0.1))
    assert any(numpy.abs(g).max() > 0.1 for g in gs.values())

    # clip gradients in place
    gs.foreach(lambda g: numpy.clip(g, -0.1, 0.1, out=g))
    for p in gs:
        numpy.testing.assert_array_equal(gs[p], clipped[p])

    seen = []
    for p, g in gs.items():
        seen.append(p)
        assert g.shape == p.shape
    assert seen[0] is w and seen[1] is b

    # gradients must be with respect to the same parameter key set
    gs3 = implicit_gradient(lambda: anp.sum(anp.tanh(w * x2)), Params([w]))
    assert b not in gs3
    with pytest.raises(ValueError, match="parameter sets differ"):
        gs1 + gs3


def test_withgradient_implicit_example():
    w = numpy.array([3.0])
    res = implicit_withgradient(lambda: anp.sum(w**2), Params([w]))
    assert res.val == 9.0
    numpy.testing.assert_array_equal(res.grad[w], [6.0])
    assert isinstance(res.grad, Grads)


def test_jacobian_implicit_example():
    xs = numpy.array([[1, 2], [3, 4]])
    ys = numpy.array([5, 7, 9])
    Jxy = implicit_jacobian(lambda: ys[:2] + anp.sum(xs**2), Params([xs, ys]))
    numpy.testing.assert_array_equal(Jxy[ys], [[1, 0, 0], [0, 1, 0]])
    numpy.testing.assert_array_equal(Jxy[xs], [[2, 4, 6, 8], [2, 4, 6, 8]])


def test_pullback_back_is_reusable_and_scales_with_cotangent():
    w = numpy.array([1.0, -2.0])
    value, back = implicit_pullback(lambda: anp.sum(w**3), Params([w]))
    assert value == -7.0
    numpy.testing.assert_allclose(back(1.0)[w], 3 * w**2)
    numpy.testing.assert_allclose(back(2.0)[w], 6 * w**2)


class Dense:
    def __init__(self, n_in, n_out, rng, activation=anp.tanh):
        self.W = rng.normal(size=(n_out, n_in)) / numpy.sqrt(n_in)
        self.b = numpy.zeros((n_out, 1))
        self.activation = activation

    def __call__(self, x):
        return self.activation(self.W @ x + self.b)


class MLP:
    def __init__(self, sizes, seed=0):
        rng = numpy.random.default_rng(seed)
        self.layers = [Dense(n_in, n_out, rng) for n_in, n_out in zip(sizes[:-2], sizes[1:-1])]
        self.layers.append(Dense(sizes[-2], sizes[-1], rng, activation=lambda z: z))

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def params(self):
        return Params(array for layer in self.layers for array in (layer.W, layer.b))


INPUTS = numpy.linspace(-2, 2, 24).reshape(1, -1)
TARGETS = numpy.sin(1.5 * INPUTS)


def mse(model):
    return anp.mean((model(INPUTS) - TARGETS) ** 2)


@pytest.mark.parametrize("rule", [Descent(0.2), Momentum(0.05, 0.9), Adam(0.03)])
def test_mlp_trains_with_params_grads_and_optimisers(rule):
    model = MLP([1, 8, 8, 1])
    ps = model.params()
    arrays = list(ps)
    state = setup(rule, arrays)
    first = mse(model)
    for _ in range(60):
        gs = implicit_gradient(lambda: mse(model), ps)
        update(state, arrays, gs.values())
    assert [p is q for p, q in zip(model.params(), arrays)] == [True] * len(arrays)
    assert mse(model) < 0.3 * first


def test_mlp_gradients_match_finite_differences():
    model = MLP([1, 5, 4, 1], seed=3)
    ps = model.params()
    gs = implicit_gradient(lambda: mse(model), ps)
    for p in ps:

        def loss_at(value, p=p):
            saved = p.copy()
            p[...] = value
            try:
                return mse(model)
            finally:
                p[...] = saved

        numpy.testing.assert_allclose(gs[p], finite_difference_gradient(loss_at, p), rtol=1e-5, atol=1e-8)


def test_identity_restored_after_gradient_and_after_the_loss_raises():
    model = MLP([1, 3, 1])
    originals = [(layer, layer.W, layer.b) for layer in model.layers]
    implicit_gradient(lambda: mse(model), model.params())
    assert all(layer.W is W and layer.b is b for layer, W, b in originals)

    def failing():
        mse(model)
        raise RuntimeError("loss failed")

    with pytest.raises(RuntimeError, match="loss failed"):
        implicit_gradient(failing, model.params())
    assert all(layer.W is W and layer.b is b for layer, W, b in originals)


GLOBAL_WEIGHT = numpy.array([0.5, -1.0])


def global_loss():
    return anp.sum(GLOBAL_WEIGHT**2)


def test_module_global_parameter():
    gs = implicit_gradient(global_loss, Params([GLOBAL_WEIGHT]))
    numpy.testing.assert_allclose(gs[GLOBAL_WEIGHT], 2 * GLOBAL_WEIGHT)
    assert global_loss.__globals__["GLOBAL_WEIGHT"] is GLOBAL_WEIGHT


def test_tied_weight_gets_the_sum_of_both_uses():
    tied = numpy.array([1.0, 2.0])
    model = {"encoder": tied, "decoder": (tied, "label")}
    x, y = numpy.array([3.0, 4.0]), numpy.array([-1.0, 5.0])
    gs = implicit_gradient(lambda: anp.sum(model["encoder"] * x) + anp.sum(model["decoder"][0] * y), Params([tied]))
    numpy.testing.assert_allclose(gs[tied], x + y)
    assert model["encoder"] is tied and model["decoder"][0] is tied


def test_loss_iterating_over_the_params_themselves():
    w, b = numpy.array([1.0, 2.0]), numpy.array([3.0])
    ps = Params([w, b])
    gs = implicit_gradient(lambda: sum(anp.sum(p**2) for p in ps), ps)
    numpy.testing.assert_allclose(gs[w], 2 * w)
    numpy.testing.assert_allclose(gs[b], 2 * b)
    assert list(ps)[0] is w


def test_unused_parameter_gets_none():
    w, unused = numpy.array([2.0]), numpy.array([1.0])
    gs = implicit_gradient(lambda: anp.sum(w * unused), Params([w]))
    numpy.testing.assert_allclose(gs[w], [1.0])
    gs = implicit_gradient(lambda: anp.sum(w * 3.0), Params([w, unused]))
    assert gs[unused] is None


def test_loss_that_reaches_no_parameter_is_a_clear_error():
    w = numpy.array([2.0])

    def loss():
        return 1.0

    with pytest.raises(ValueError, match="none of the Params is reachable from the loss"):
        implicit_gradient(loss, Params([w]))
    assert loss() == 1.0


def test_bad_arguments_name_the_fix():
    w = numpy.array([2.0])
    with pytest.raises(TypeError, match=r"Params\(\[w, b\]\)"):
        implicit_gradient(lambda: anp.sum(w), [w])
    with pytest.raises(TypeError, match="zero-argument function"):
        implicit_gradient(3.0, Params([w]))
