"""zygote_nb.hooks: hook and the named transforms, against hand-derived gradients."""

import operator

import numpy
import pytest

import zygote_nb.numpy as np
from zygote_nb import gradient, hessian, hessian_reverse, jacobian
from zygote_nb.checkpoint import checkpointed
from zygote_nb.hooks import clip, hook, normalize, scale, zero


def test_utilities_page_hook_sees_the_gradient(capsys):
    def show(gradient_of_a):
        print(f"ā = {gradient_of_a}")
        return gradient_of_a

    assert gradient(lambda a, b: hook(show, a) * b, 2, 3) == (3.0, 2.0)
    assert capsys.readouterr().out == "ā = 3.0\n"


def test_utilities_page_hook_negates_the_gradient():
    assert gradient(lambda a, b: hook(operator.neg, a) * b, 2, 3) == (-3.0, 2.0)


def test_returning_none_drops_the_gradient_of_that_use_only():
    # f = h(a) * a: the hooked use would give a, the other use gives a as well.
    assert gradient(lambda a: hook(lambda g: None, a) * a, 2.0) == (2.0,)
    assert gradient(lambda a: hook(lambda g: None, a) * 3.0, 2.0) == (None,)


def test_hooks_compose_outer_first():
    # Upstream gradient 0.5: scale(3) then clip(1) gives 1.0; the other order gives 1.5.
    assert gradient(lambda x: hook(scale(3.0), hook(clip(1.0), x)) * 0.5, 0.0) == (1.0,)
    assert gradient(lambda x: hook(clip(1.0), hook(scale(3.0), x)) * 0.5, 0.0) == (1.5,)


def test_named_transforms_against_hand_values():
    g = numpy.array([3.0, -4.0])
    numpy.testing.assert_array_equal(clip(2.0)(g), [2.0, -2.0])
    numpy.testing.assert_array_equal(scale(-0.5)(g), [-1.5, 2.0])
    numpy.testing.assert_array_equal(zero()(numpy.array([numpy.inf, numpy.nan])), [0.0, 0.0])
    numpy.testing.assert_allclose(normalize()(g), [0.6, -0.8])
    numpy.testing.assert_array_equal(normalize()(numpy.zeros(2)), [0.0, 0.0])


def test_disabled_transforms_pass_the_gradient_through():
    g = numpy.array([3.0, -4.0])
    for transform in (clip(1.0), scale(2.0), zero(), normalize()):
        transform.enabled = False
        assert transform(g) is g


def test_transform_parameters_are_attributes_with_a_readable_repr():
    transform = clip(0.5)
    assert repr(transform) == "clip(threshold=0.5, enabled=True)"
    assert transform.parameters() == {"threshold": 0.5}
    transform.threshold = 0.1
    x = numpy.array([1.0, -2.0])
    assert gradient(lambda x: np.sum(hook(transform, x) * 4.0), x)[0].tolist() == [0.1, 0.1]
    assert repr(scale(2)) == "scale(factor=2, enabled=True)"
    assert zero().parameters() == {} and normalize().parameters() == {}


def test_clip_refuses_a_negative_threshold():
    with pytest.raises(ValueError, match="threshold >= 0"):
        clip(-1.0)


def test_hook_inside_jacobian():
    x = numpy.array([1.0, 2.0, 3.0])
    J = jacobian(lambda x: hook(scale(2.0), x) ** 2, x)[0]
    numpy.testing.assert_allclose(J, 2.0 * numpy.diag(2 * x))
    # Dropping the hooked use of x in x * x leaves the other use: J = diag(x).
    numpy.testing.assert_allclose(jacobian(lambda x: hook(lambda g: None, x) * x, x)[0], numpy.diag(x))


@pytest.mark.parametrize("engine", ["loop", "batched"])
def test_hook_inside_hessian_both_modes_agree_with_hand_derivation(engine):
    # The hooked gradient is 2 * 3 x**2, whose derivative is 2 * diag(6 x).
    x = numpy.array([1.0, -2.0])
    f = lambda x: np.sum(hook(scale(2.0), x) ** 3)  # noqa: E731
    numpy.testing.assert_allclose(hessian(f, x, engine=engine), 2.0 * numpy.diag(6 * x))
    numpy.testing.assert_allclose(hessian_reverse(f, x, engine=engine), 2.0 * numpy.diag(6 * x))


def test_hook_inside_checkpointed():
    x = numpy.array([1.0, -2.0])
    hooked = gradient(lambda x: np.sum(checkpointed(lambda y: hook(scale(-1.0), y) ** 2, x)), x)[0]
    numpy.testing.assert_allclose(hooked, -2 * x)


def test_non_callable_hook_is_a_one_line_error_naming_the_fix():
    with pytest.raises(TypeError) as error:
        gradient(lambda x: hook(x, lambda g: g), 1.0)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("hook(fn, x) needs a function of the gradient as its first argument, got float")
    assert message.endswith("e.g. hook(lambda g: 2 * g, x)")
