"""The magics' sharp edges, met as a user meets them in an in-process IPython (issue 15)."""

import warnings

import numpy
import pytest
from IPython.core.error import UsageError
from test_magics import rich_outputs, run, shell  # noqa: F401 (shell is the fixture: x and np defined)

from zygote_nb import MemoryBudgetError
from zygote_nb.errors import DifferentiationError


@pytest.mark.parametrize("magic", ["gradient", "jacobian", "hessian"])
@pytest.mark.parametrize("name, what", [("x", "the input x"), ("np", "the module np")])
def test_dash_o_refuses_an_inputs_or_a_modules_name(shell, magic, name, what):
    x, np = shell.user_ns["x"], shell.user_ns["np"]
    error = run(shell, f"%%{magic} x -o {name}\nnp.sum(x ** 3)")
    assert isinstance(error, UsageError) and f"-o {name} would replace {what}" in str(error)
    assert shell.user_ns["x"] is x and shell.user_ns["np"] is np


@pytest.mark.parametrize("magic", ["jacobian", "hessian"])
def test_memory_budget_reaches_the_engine(shell, magic):
    shell.run_cell("big = np.linspace(0.1, 1.0, 300)", store_history=False)
    cell = "np.sin(big) * big" if magic == "jacobian" else "np.sum(np.sin(big) * big)"
    forced = " --dense" if magic == "hessian" else ""  # an unforced %%hessian goes matrix-free when it does not fit
    assert isinstance(run(shell, f"%%{magic} big --no-plot{forced} --memory-budget 10KB\n{cell}"), MemoryBudgetError)
    assert run(shell, f"%%{magic} big --no-plot --memory-budget 1GB -o result\n{cell}") is None
    big = shell.user_ns["big"]
    derivative = numpy.sin(big) + big * numpy.cos(big)  # d/dx (x sin x)
    if magic == "jacobian":
        numpy.testing.assert_allclose(shell.user_ns["result"]["big"], numpy.diag(derivative), atol=1e-12)
    else:
        second = 2 * numpy.cos(big) - big * numpy.sin(big)
        numpy.testing.assert_allclose(shell.user_ns["result"].hessian, numpy.diag(second), atol=1e-12)


def test_a_hessian_that_does_not_fit_the_budget_goes_matrix_free(shell):
    shell.run_cell("big = np.linspace(0.1, 1.0, 300)", store_history=False)
    assert run(shell, "%%hessian big --no-plot --memory-budget 10KB -o result\nnp.sum(np.sin(big) * big)") is None
    result = shell.user_ns["result"]
    assert "budget" in result.reason and not hasattr(result, "hessian")
    big = shell.user_ns["big"]
    second = 2 * numpy.cos(big) - big * numpy.sin(big)  # the Hessian's diagonal: its eigenvalues
    curvature = result.curvature
    for eigenvalue, error in zip(curvature.eigenvalues, curvature.errors):
        assert numpy.min(numpy.abs(second - eigenvalue)) <= error + 1e-9
    assert abs(curvature.eigenvalues.max() - second.max()) <= 1e-6


def test_memory_budget_that_is_not_a_size_is_a_usage_error(shell):
    error = run(shell, "%%jacobian x --memory-budget lots\nx ** 2")
    assert isinstance(error, UsageError) and "--memory-budget needs a size such as 4GB" in str(error)


def test_check_of_a_random_cell_says_the_output_changed(shell, capsys):
    assert run(shell, "%%gradient x --check --no-widget\nnp.sum(x * np.random.rand(3))") is None
    out = capsys.readouterr().out
    assert "check: FAILED: the output changed between two evaluations at the same point" in out
    assert shell.user_ns["_grad"].check.passed is False


def test_check_below_finite_difference_resolution_is_inconclusive(shell, capsys):
    shell.run_cell("far = 20.5", store_history=False)
    assert run(shell, "%%gradient far --check --no-widget\nnp.exp(-far ** 2)") is None
    # The true gradient, -2x exp(-x^2), is about 1e-183: far below what differences resolve.
    assert abs(shell.user_ns["_grad"]["far"]) < 1e-180
    assert "check: inconclusive" in capsys.readouterr().out
    assert run(shell, "%%gradient x --check --no-widget\nnp.sum(x ** 2)") is None
    assert "check: passed" in capsys.readouterr().out


def test_an_integer_input_used_as_an_index_says_indices_should_not_be_inputs_and_nothing_else(shell):
    shell.run_cell("w = np.ones(2)\nindex = np.array([0, 2])", store_history=False)
    # A traced array indexed, then a plain array indexed (NumPy reads the traced index as an object array).
    for cell in ("%%gradient x index --no-widget\nnp.sum(x[index])", "%%gradient w index\nnp.sum(w * x[index])"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            error = run(shell, cell)
        assert isinstance(error, DifferentiationError)
        assert "every input is differentiated as floats" in str(error)
        assert "must not be an input" in str(error)
        assert [str(warning.message) for warning in caught] == []


def test_an_integer_input_used_only_as_a_size_gets_no_gradient(shell):
    shell.run_cell("n = 3", store_history=False)
    assert run(shell, "%%gradient x n --no-widget\nnp.sum(x * np.arange(n) + np.zeros(n))") is None
    numpy.testing.assert_allclose(shell.user_ns["_grad"]["x"], numpy.arange(3.0))  # d/dx sum(x * [0, 1, 2])
    assert shell.user_ns["_grad"]["n"] is None


OBJECT_SETUP = """
class Dense:
    def __init__(self, W, b):
        self.W, self.b, self.activation = W, b, "identity"
    def __call__(self, v):
        return self.W @ v + self.b
layer = Dense(np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]]), np.array([0.5, -0.5]))
"""


@pytest.mark.parametrize("widget", ["", " --no-widget"])
def test_gradient_of_an_object_input_differentiates_its_arrays_and_trains(shell, capsys, widget):
    shell.run_cell(OBJECT_SETUP, store_history=False)
    assert run(shell, f"%%gradient layer{widget}\nnp.sum(layer(x) ** 2)") is None
    layer, x = shell.user_ns["layer"], shell.user_ns["x"]
    residual = layer.W @ x + layer.b
    grad = shell.user_ns["_grad"]["layer"]
    numpy.testing.assert_allclose(grad.W, 2 * numpy.outer(residual, x))
    numpy.testing.assert_allclose(grad.b, 2 * residual)
    if widget:
        assert "layer.W: shape (2, 3)" in capsys.readouterr().out
    before = layer.W.copy()
    assert run(shell, "from zygote_nb.optimisers import Descent, setup, update\n"
                      "update(setup(Descent(0.1), layer), layer, _grad['layer'])") is None
    numpy.testing.assert_allclose(layer.W, before - 0.1 * 2 * numpy.outer(residual, x))


def test_statistics_tables_say_what_they_list(shell):
    (jacobian,) = rich_outputs(shell, "%%jacobian x\nnp.cumsum(x ** 2)")
    assert "the Jacobian&#x27;s block for each input (∂ output / ∂ input)</caption>" in jacobian.data["text/html"]
    (hessian,) = rich_outputs(shell, "%%hessian x\nnp.sum(x ** 4)")
    assert "the gradient for each input at this point (first derivatives" in hessian.data["text/html"]
    # the row is the gradient 4 x^3, which the caption names (not a block of the Hessian 12 x^2)
    norm = numpy.linalg.norm(4 * shell.user_ns["x"] ** 3)
    assert f"<td>{norm:.4g}</td>" in hessian.data["text/html"]


def test_a_result_shown_again_holds_its_picture_once(shell):
    assert run(shell, "%%jacobian x --no-plot -o result\nx ** 2") is None
    shell.display_formatter.active_types = ["text/plain", "text/html", "image/png"]
    data, _ = shell.display_formatter.format(shell.user_ns["result"])  # what `result` on a line shows
    assert ("image/png" in data) + data["text/html"].count("data:image/png") == 1


def test_the_statement_that_is_not_an_output_is_named_with_its_article(shell):
    error = run(shell, "%%gradient x\nif True:\n    y = 1")
    assert isinstance(error, UsageError) and "its last statement is an if statement" in str(error)
    error = run(shell, "%%gradient x\nfor i in range(2):\n    y = i")
    assert "its last statement is a for loop" in str(error)


def test_a_failing_cell_puts_names_back_but_not_changes_made_in_place(shell):
    shell.run_cell("history = [1, 2]\nkept = 'before'", store_history=False)
    history = shell.user_ns["history"]
    error = run(shell, "%%gradient x\nhistory.append(3)\nkept = 'after'\nnew_name = 1\nundefined_name + np.sum(x)")
    assert isinstance(error, NameError)
    assert shell.user_ns["kept"] == "before" and "new_name" not in shell.user_ns  # names: restored
    assert shell.user_ns["history"] is history and history == [1, 2, 3]  # in place: stays, as documented


def test_an_input_with_nothing_to_differentiate_is_explained_not_shown_empty(shell):
    shell.run_cell("class Settings:\n    def __init__(self):\n        self.name, self.size = 'run', 3\n"
                   "settings = Settings()", store_history=False)
    error = run(shell, "%%gradient settings\nnp.sum(x) * settings.size")
    assert isinstance(error, UsageError)
    assert "nothing to differentiate: no input holds a number or an array (settings is a Settings)" in str(error)


def test_eager_update_of_an_object_inside_a_gradient_cell_trains_it(shell):
    shell.run_cell(OBJECT_SETUP + "from zygote_nb import eager_update\n"
                   "from zygote_nb.optimisers import Descent, setup, update\n"
                   "state = setup(Descent(0.1), layer)", store_history=False)
    layer, x = shell.user_ns["layer"], shell.user_ns["x"]
    W, b = layer.W.copy(), layer.b.copy()
    residual = W @ x + b
    assert run(shell, "%%gradient layer --no-widget\nnp.sum(eager_update(state, layer, update)(x) ** 2)") is None
    assert shell.user_ns["_grad"]["layer"] is None  # applied in the backward pass, none left over
    numpy.testing.assert_allclose(layer.W, W - 0.1 * 2 * numpy.outer(residual, x))
    numpy.testing.assert_allclose(layer.b, b - 0.1 * 2 * residual)
