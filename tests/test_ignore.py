"""zygote_nb.ignore: the block cuts what it computes and what it binds, per thread, nested, around nested gradients."""

import threading

import numpy
import pytest
from IPython.core.interactiveshell import InteractiveShell

import zygote_nb as zn
import zygote_nb.numpy as np
from zygote_nb.ignore import ignore_derivatives

from helpers import finite_difference_gradient


def test_a_name_bound_to_a_traced_value_in_the_block_is_a_constant():
    def f(x):
        with ignore_derivatives():
            t = x
        return np.sum(x * t)

    x = numpy.array([1.0, 2.0])
    # t is x held constant: the gradient is t itself (the repro; it was 2x)
    numpy.testing.assert_allclose(zn.gradient(f, x)[0], x)
    numpy.testing.assert_allclose(zn.gradient(f, x)[0], finite_difference_gradient(lambda y: numpy.sum(y * x), x))


def test_names_bound_to_containers_and_computed_values_are_cut_and_earlier_names_are_not():
    def f(x):
        kept = x * 1.0
        with ignore_derivatives():
            pair = (x, {"double": 2.0 * x})
            scaled = x * 3.0
        return kept * pair[0] + pair[1]["double"] * x + scaled * x

    # x·c1 + c2·x + c3·x with the constants c1 = x, c2 = 2x, c3 = 3x taken at x = 1.5
    held = lambda y: y * 1.5 + 2 * 1.5 * y + 3 * 1.5 * y  # noqa: E731
    assert zn.gradient(f, 1.5)[0] == pytest.approx(6 * 1.5)
    assert zn.gradient(f, 1.5)[0] == pytest.approx(finite_difference_gradient(held, 1.5))


def test_a_block_at_the_top_of_a_gradient_cell_cuts_the_names_it_binds():
    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext zygote_nb", store_history=False)
    shell.run_cell("import numpy as np\nimport zygote_nb as zn\nx = np.array([1.0, 2.0])", store_history=False)
    result = shell.run_cell("%%gradient x --no-widget\nwith zn.ignore_derivatives():\n    t = x\nnp.sum(x * t)",
                            store_history=False)
    assert result.error_in_exec is None
    numpy.testing.assert_allclose(shell.user_ns["_grad"]["x"], [1.0, 2.0])
    shell.run_cell("%unload_ext zygote_nb", store_history=False)


def test_a_gradient_taken_inside_the_block_differentiates_as_usual():
    def f(x):
        with ignore_derivatives():
            slope = zn.gradient(lambda y: y**3, x)[0]  # 3x², cut from the outer gradient
        return slope * x

    assert zn.gradient(f, 2.0)[0] == pytest.approx(12.0)
    with ignore_derivatives():
        assert zn.gradient(lambda y: y**3, 2.0)[0] == pytest.approx(12.0)


def test_one_block_object_nests_in_itself():
    block = ignore_derivatives()

    def f(x):
        with block:
            with block:
                inner = x * 2.0
            outer = x * 3.0
        traced = x * 5.0
        return inner * x + outer * x + traced * x

    # constants 2x and 3x, then 5x² traced: 2x + 3x + 10x
    assert zn.gradient(f, 1.0)[0] == pytest.approx(15.0)
    assert zn.gradient(lambda x: x * x, 1.0) == (2.0,)


def test_leaving_by_an_exception_cuts_nothing_afterwards():
    def f(x):
        try:
            with ignore_derivatives():
                raise ValueError
        except ValueError:
            pass
        return x * x

    assert zn.gradient(f, 3.0) == (6.0,)


def test_another_thread_differentiates_untouched_while_one_is_inside_a_block():
    inside, done = threading.Event(), threading.Event()
    results = {}

    def in_block(x):
        with ignore_derivatives():
            inside.set()
            assert done.wait(10)  # the other thread differentiates now
            constant = x * 4.0
        return constant * x

    def worker():
        results["blocked"] = zn.gradient(in_block, 2.0)[0]

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(10)
    try:
        results["free"] = zn.gradient(lambda x: np.sin(x) * x, 0.7)[0]
    finally:
        done.set()
        thread.join()
    assert results["free"] == pytest.approx(numpy.sin(0.7) + 0.7 * numpy.cos(0.7))
    assert results["blocked"] == pytest.approx(8.0)  # 4x held constant, at x = 2
