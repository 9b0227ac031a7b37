"""zygote_nb.checkpoint: checkpointed gradients equal plain ones, with a measurably lower memory peak."""

import tracemalloc

import numpy
import pytest

import zygote_nb.numpy as np
from zygote_nb import gradient, hessian, hessian_reverse, jacobian
from zygote_nb.checkpoint import checkpointed
from zygote_nb.hooks import hook, scale
from zygote_nb.showgrad import capture_reports, showgrad

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


def test_peak_memory_is_at_most_half_of_the_plain_gradient():
    # 30 layers of width 2000; the activations (64 x 2000 floats, 1 MB) dominate, not the 64 x 64 weights.
    Ws = [RANDOM.standard_normal((64, 64)) / 8 for _ in range(30)]
    x = RANDOM.standard_normal((64, 2000))
    peaks, grads = {}, {}
    for checkpoint in (False, True):
        tracemalloc.start()
        try:
            grads[checkpoint] = gradient(chain, Ws, x, checkpoint)
            peaks[checkpoint] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
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


def test_closed_over_traced_values_are_refused():
    with pytest.raises(TypeError, match=r"pass it in, e.g. checkpointed\(lambda W, h: W @ h, W, h\)"):
        gradient(lambda W: np.sum(checkpointed(lambda h: W @ h, numpy.ones(2))), numpy.eye(2))


def test_a_non_array_output_is_refused():
    with pytest.raises(TypeError, match="return a number or an array"):
        gradient(lambda x: checkpointed(lambda h: (h, h), x)[0], 1.0)
