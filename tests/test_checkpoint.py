"""zygote_nb.checkpoint: checkpointed gradients equal plain ones, with a measurably lower memory peak."""

import tracemalloc

import numpy
import pytest

import zygote_nb.numpy as np
from zygote_nb import gradient, hessian, hessian_reverse, jacobian
from zygote_nb.checkpoint import checkpointed
from zygote_nb.hooks import hook, scale
from zygote_nb.showgrad import capture_reports, showgrad

from helpers import finite_difference_gradient, finite_difference_jacobian

RANDOM = numpy.random.default_rng(3)


def layer(W, h):
    a = np.tanh(W @ h)
    return a + 0.1 * a * a


def chain(Ws, x, checkpoint):
    h = x
    for W in Ws:
        h = checkpointed(layer, W, h) if checkpoint else layer(W, h)
    return np.sum(h**2)


def test_gradient_equals_the_plain_gradient():
    Ws = [RANDOM.standard_normal((4, 4)) for _ in range(5)]
    x = RANDOM.standard_normal((4, 3))
    checkpointed_grads = gradient(chain, Ws, x, True)
    plain_grads = gradient(chain, Ws, x, False)
    for got, expected in zip(checkpointed_grads[0] + [checkpointed_grads[1]], plain_grads[0] + [plain_grads[1]]):
        numpy.testing.assert_array_equal(got, expected)
    assert chain(Ws, x, True) == chain(Ws, x, False)


def test_container_arguments_and_integer_arguments():
    params = {"W": RANDOM.standard_normal((3, 3)), "b": RANDOM.standard_normal(3)}
    x = RANDOM.standard_normal(3)

    def repeated(params, h, times):
        for _ in range(times):
            h = np.sin(params["W"] @ h + params["b"])
        return h

    with_checkpoint = gradient(lambda p, x: np.sum(checkpointed(repeated, p, x, 3)), params, x)
    without = gradient(lambda p, x: np.sum(repeated(p, x, 3)), params, x)
    for key in params:
        numpy.testing.assert_allclose(with_checkpoint[0][key], without[0][key], rtol=1e-14)
    numpy.testing.assert_allclose(with_checkpoint[1], without[1], rtol=1e-14)


def test_the_backward_pass_runs_the_function_again():
    calls = []

    def counted(h):
        calls.append(1)
        return np.sin(h)

    gradient(lambda x: np.sum(checkpointed(counted, x)), numpy.ones(2))
    assert len(calls) == 2


@pytest.mark.parametrize("engine", ["loop", "batched"])
def test_jacobian_and_hessians_through_checkpointed_layers(engine):
    Ws = [RANDOM.standard_normal((3, 3)) / 2 for _ in range(3)]
    f = lambda x, checkpoint: chain(Ws, x, checkpoint)  # noqa: E731
    x = RANDOM.standard_normal(3)
    plain = hessian(lambda x: f(x, False), x, engine="loop")
    numpy.testing.assert_allclose(hessian(lambda x: f(x, True), x, engine=engine), plain, atol=1e-12)
    numpy.testing.assert_allclose(hessian_reverse(lambda x: f(x, True), x, engine=engine), plain, atol=1e-12)
    numpy.testing.assert_allclose(jacobian(lambda x: checkpointed(layer, Ws[0], x), x, engine=engine)[0],
                                  jacobian(lambda x: layer(Ws[0], x), x, engine="loop")[0], atol=1e-14)


def test_hooks_and_showgrad_inside_keep_working():
    Ws = [RANDOM.standard_normal((3, 3)) for _ in range(3)]
    x = RANDOM.standard_normal(3)

    def watched(W, h):
        return hook(scale(2.0), showgrad(np.tanh(W @ h), name="activation"))

    def run(checkpoint):
        with capture_reports() as reports:
            def loss(x):
                h = x
                for W in Ws:
                    h = checkpointed(watched, W, h) if checkpoint else watched(W, h)
                return np.sum(h)
            grad = gradient(loss, x)[0]
        return grad, reports

    (checkpointed_grad, checkpointed_reports), (plain_grad, plain_reports) = run(True), run(False)
    numpy.testing.assert_allclose(checkpointed_grad, plain_grad, rtol=1e-14)
    assert [report.label for report in checkpointed_reports] == ["activation"] * 3
    for got, expected in zip(checkpointed_reports, plain_reports):
        numpy.testing.assert_allclose(got.value, expected.value, rtol=1e-14)


def peaks_and_gradients(loss, Ws, x):
    """``loss``'s gradients and tracemalloc peak, plain (``False``) and checkpointed (``True``)."""
    peaks, grads = {}, {}
    for checkpoint in (False, True):
        tracemalloc.start()
        try:
            grads[checkpoint] = gradient(loss, Ws, x, checkpoint)
            peaks[checkpoint] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peaks, grads


def test_peak_memory_is_at_most_half_of_the_plain_gradient():
    # 30 layers of width 2000; the activations (64 x 2000 floats, 1 MB) dominate, not the 64 x 64 weights.
    Ws = [RANDOM.standard_normal((64, 64)) / 8 for _ in range(30)]
    x = RANDOM.standard_normal((64, 2000))
    peaks, grads = peaks_and_gradients(chain, Ws, x)
    numpy.testing.assert_array_equal(grads[True][1], grads[False][1])
    for got, expected in zip(grads[True][0], grads[False][0]):
        numpy.testing.assert_array_equal(got, expected)
    assert peaks[True] / peaks[False] <= 0.5


def test_non_callable_is_a_one_line_error_naming_the_fix():
    with pytest.raises(TypeError) as error:
        checkpointed(numpy.ones(2), layer)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("checkpointed(f, *xs) needs a function as its first argument, got ndarray")


def closure_chain(Ws, x, checkpoint):
    """The layers close over their weights, one closure per loop iteration."""
    h = x
    for W in Ws:
        h = checkpointed(lambda h: layer(W, h), h) if checkpoint else layer(W, h)
    return np.sum(h**2)


def test_closed_over_weights_get_the_gradients_of_the_plain_program():
    Ws = [RANDOM.standard_normal((4, 4)) / 2 for _ in range(4)]
    x = RANDOM.standard_normal((4, 3))
    with_checkpoint, without = gradient(closure_chain, Ws, x, True), gradient(closure_chain, Ws, x, False)
    for got, expected in zip(with_checkpoint[0] + [with_checkpoint[1]], without[0] + [without[1]]):
        numpy.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-14)
    # and against finite differences of the checkpointed program itself, for one weight
    numpy.testing.assert_allclose(
        with_checkpoint[0][1],
        finite_difference_gradient(lambda W1: closure_chain([Ws[0], W1, *Ws[2:]], x, True), Ws[1]), atol=1e-6)


def test_closures_over_objects_globals_and_arguments_also_passed_in():
    class Dense:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def __call__(self, h):
            return np.tanh(self.W @ h + self.b)

    W, b, x = RANDOM.standard_normal((3, 3)), RANDOM.standard_normal(3), RANDOM.standard_normal(3)

    def loss(W, b, x, checkpoint):
        dense = Dense(W, b)
        # the object's attributes, and x both closed over and passed as the argument
        h = checkpointed(dense, x) if checkpoint else dense(x)
        mixed = checkpointed(lambda h: h * x, h) if checkpoint else h * x
        return np.sum(mixed**2)

    with_checkpoint, without = gradient(loss, W, b, x, True), gradient(loss, W, b, x, False)
    for got, expected in zip(with_checkpoint[:3], without[:3]):
        numpy.testing.assert_allclose(got, expected, rtol=1e-13)
    numpy.testing.assert_allclose(hessian(lambda x: loss(W, b, x, True), x),
                                  hessian_reverse(lambda x: loss(W, b, x, False), x), atol=1e-12)


def test_a_closure_over_a_loop_index_recomputes_with_that_iterations_value():
    def loss(x, checkpoint):
        h = x
        for power in (1.0, 2.0, 3.0):
            h = checkpointed(lambda h: np.sin(h) * power, h) if checkpoint else np.sin(h) * power
        return h

    assert gradient(loss, 0.4, True)[0] == pytest.approx(gradient(loss, 0.4, False)[0], rel=1e-14)
    assert gradient(loss, 0.4, True)[0] == pytest.approx(finite_difference_gradient(lambda x: loss(x, True), 0.4))


def test_closures_keep_the_memory_property():
    Ws = [RANDOM.standard_normal((64, 64)) / 8 for _ in range(20)]
    x = RANDOM.standard_normal((64, 1000))
    peaks, grads = peaks_and_gradients(closure_chain, Ws, x)
    for got, expected in zip(grads[True][0], grads[False][0]):
        numpy.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert peaks[True] / peaks[False] <= 0.5


def test_a_traced_value_out_of_reach_is_a_one_line_error_naming_the_fix():
    def loss(W):
        deep = [[[[[[[[W]]]]]]]]  # beyond the six levels that are searched
        return np.sum(checkpointed(lambda h: deep[0][0][0][0][0][0][0][0] @ h, numpy.ones(2)))

    with pytest.raises(TypeError) as error:
        gradient(loss, numpy.eye(2))
    assert "\n" not in str(error.value)
    assert str(error.value).endswith("pass it in, e.g. checkpointed(lambda W, h: W @ h, W, h)")


def hooked(x):
    return np.sin(checkpointed(lambda y: hook(lambda g: 2.0 * g, y) ** 2, x))


@pytest.mark.parametrize("engine", ["loop", "batched"])
def test_a_hook_inside_is_the_identity_to_an_outer_reverse_pass(engine):
    # The repro: the hooked gradient is 4 x cos x²; its derivative comes from differencing it.
    second = finite_difference_gradient(lambda x: gradient(hooked, float(x))[0], 0.3)
    assert gradient(hooked, 0.3)[0] == pytest.approx(4 * 0.3 * numpy.cos(0.09), rel=1e-14)
    assert hessian(hooked, 0.3, engine=engine) == pytest.approx(second, rel=1e-7)
    assert hessian_reverse(hooked, 0.3, engine=engine) == pytest.approx(second, rel=1e-7)
    assert gradient(lambda x: gradient(hooked, x)[0], 0.3)[0] == pytest.approx(second, rel=1e-7)
    x = numpy.array([0.3, -0.7])
    vector_hooked = lambda x: np.sum(hooked(x))  # noqa: E731
    numpy.testing.assert_allclose(
        jacobian(lambda x: gradient(vector_hooked, x)[0], x, engine=engine)[0],
        finite_difference_jacobian(lambda x: gradient(vector_hooked, x)[0], x), rtol=1e-7)


@pytest.mark.parametrize("engine", ["loop", "batched"])
def test_a_showgrad_inside_reports_as_often_as_without_checkpointed(engine):
    def f(x, checkpoint):
        inner = lambda y: showgrad(y, name="inside") ** 2  # noqa: E731
        return np.sin(checkpointed(inner, x) if checkpoint else inner(x))

    for operator in (hessian_reverse, hessian):
        with capture_reports() as plain:
            operator(lambda x: f(x, False), 0.3, engine=engine)
        with capture_reports() as reports:
            operator(lambda x: f(x, True), 0.3, engine=engine)
        assert len(reports) == len(plain) >= 1
        for got, expected in zip(reports, plain):
            assert float(got.value) == pytest.approx(float(expected.value), rel=1e-14)


def test_a_non_array_output_is_refused():
    with pytest.raises(TypeError, match="return a number or an array"):
        gradient(lambda x: checkpointed(lambda h: (h, h), x)[0], 1.0)
