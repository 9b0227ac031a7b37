"""zygote_nb.optimisers: each rule against a step written out by hand, over several steps."""

import collections
import math

import numpy as np
import pytest

from zygote_nb.optimisers import Adam, Descent, Leaf, Momentum, setup, update

GRADIENTS = [np.array([0.5, -2.0, 3.0]), np.array([-1.0, 0.25, 3.0]), np.array([2.0, 0.0, -4.0])]


def run_rule(rule, start):
    x = start.copy()
    state = setup(rule, x)
    for grad in GRADIENTS:
        assert update(state, x, grad) is x
    return x


def test_descent_matches_hand_written_steps():
    x = run_rule(Descent(0.3), np.array([1.0, 2.0, 3.0]))
    expected = np.array([1.0, 2.0, 3.0]) - 0.3 * sum(GRADIENTS)
    np.testing.assert_allclose(x, expected)


def test_momentum_matches_hand_written_steps():
    lr, rho = 0.05, 0.8
    x = run_rule(Momentum(lr, rho), np.array([1.0, 2.0, 3.0]))
    expected = [1.0, 2.0, 3.0]
    for i in range(3):
        velocity = 0.0
        for grad in GRADIENTS:
            velocity = rho * velocity + lr * grad[i]
            expected[i] -= velocity
    np.testing.assert_allclose(x, expected)


def test_adam_matches_hand_written_steps():
    lr, (b1, b2), eps = 0.01, (0.8, 0.9), 1e-3
    x = run_rule(Adam(lr, (b1, b2), eps), np.array([1.0, 2.0, 3.0]))
    expected = [1.0, 2.0, 3.0]
    for i in range(3):
        m = v = 0.0
        for t, grad in enumerate(GRADIENTS, start=1):
            m = b1 * m + (1 - b1) * grad[i]
            v = b2 * v + (1 - b2) * grad[i] ** 2
            expected[i] -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
    np.testing.assert_allclose(x, expected)


def test_defaults_follow_optimisers_jl():
    assert Descent() == Descent(lr=0.1)
    assert Momentum() == Momentum(lr=0.01, rho=0.9)
    assert Adam() == Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-8)


def test_float32_model_stays_float32_and_in_place():
    x = np.ones(3, dtype=np.float32)
    update(setup(Adam(), x), x, np.ones(3))
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, 1 - 0.001, rtol=1e-6)


Pair = collections.namedtuple("Pair", "weight bias")


def test_nested_model_updates_every_array_and_skips_none():
    first, second, bias = np.ones(2), np.ones((2, 2)), np.zeros(2)
    model = {"layers": [{"W": first, "b": bias}, Pair(second, None)], "name": "mlp"}
    state = setup(Descent(0.5), model)
    assert isinstance(state["layers"][0]["W"], Leaf)
    assert isinstance(state["layers"][1], Pair) and state["layers"][1].bias is None
    assert state["name"] is None
    grad = {"layers": [{"W": np.array([2.0, 4.0]), "b": None}, (np.full((2, 2), 2.0), None)]}
    assert update(state, model, grad) is model
    assert model["layers"][0]["W"] is first
    np.testing.assert_allclose(first, [0.0, -1.0])
    np.testing.assert_allclose(second, np.zeros((2, 2)))
    np.testing.assert_allclose(bias, [0.0, 0.0])


def test_whole_branch_without_gradient_is_left_alone():
    model = [np.ones(2), [np.ones(2), np.ones(2)]]
    update(setup(Descent(1.0), model), model, [np.ones(2), None])
    np.testing.assert_allclose(model[0], [0.0, 0.0])
    np.testing.assert_allclose(model[1][1], [1.0, 1.0])


def test_tied_array_takes_one_step_with_summed_gradient():
    shared = np.array([1.0])
    model = {"encoder": shared, "decoder": shared}
    state = setup(Momentum(lr=0.1, rho=0.0), model)
    assert state["encoder"] is state["decoder"]
    update(state, model, {"encoder": np.array([1.0]), "decoder": np.array([2.0])})
    np.testing.assert_allclose(shared, [1.0 - 0.1 * 3.0])


def test_setup_rejects_a_non_rule():
    with pytest.raises(TypeError, match="Descent"):
        setup(0.1, np.ones(2))


@pytest.mark.parametrize(
    "state_of, grad, message",
    [
        (lambda m: setup(Descent(), m)["a"], {"a": np.ones(2)}, "state does not match.*model\\b"),
        (lambda m: {"b": None}, {"a": np.ones(2)}, "state does not match.*setup"),
        (lambda m: setup(Descent(), m), [np.ones(2)], "gradient does not match.*model's structure"),
        (lambda m: setup(Descent(), m), {"a": np.ones(3)}, r"model\['a'\] has shape \(3,\)"),
        (lambda m: {"a": None}, {"a": np.ones(2)}, r"no Leaf for the array at model\['a'\]"),
        (lambda m: {"a": setup(Momentum(), np.ones(3))}, {"a": np.ones(2)},
         r"state at model\['a'\] does not fit an array of shape \(2,\).*setup\(rule, model\)"),
    ],
)
def test_mismatched_state_or_gradient_is_a_clear_error(state_of, grad, message):
    model = {"a": np.ones(2)}
    with pytest.raises(ValueError, match=message) as error:
        update(state_of(model), model, grad)
    assert "\n" not in str(error.value)
    np.testing.assert_array_equal(model["a"], np.ones(2))


def test_list_length_mismatch_names_the_path():
    model = {"layers": [np.ones(1), np.ones(1)]}
    with pytest.raises(ValueError, match=r"gradient does not match the structure of the model at model\['layers'\]"):
        update(setup(Descent(), model), model, {"layers": [np.ones(1)]})
