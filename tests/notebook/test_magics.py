"""The cell magics in an in-process IPython: namespace integrity, options, errors, text and rich display."""

import numpy
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from helpers import terminal_shell
import zygote_nb.numpy as traceable_numpy


@pytest.fixture
def shell():
    with terminal_shell("import numpy as np\nx = np.array([0.5, -1.0, 2.0])\nscale = 3.0\n"
                        "def loss(v):\n    return np.sum(np.sin(v)) * scale") as shell:
        yield shell


def run(shell, source):
    result = shell.run_cell(source, store_history=False)
    return result.error_in_exec


def rich_outputs(shell, source):
    shell.display_formatter.active_types = ["text/plain", "text/html", "image/png"]
    with capture_output() as captured:
        assert run(shell, source) is None
    return captured.outputs


def test_load_and_unload_register_the_three_cell_magics(shell):
    cell_magics = shell.magics_manager.magics["cell"]
    assert {"gradient", "jacobian", "hessian"} <= set(cell_magics)
    shell.run_cell("%unload_ext zygote_nb")
    assert not {"gradient", "jacobian", "hessian"} & set(cell_magics)
    shell.run_cell("%load_ext zygote_nb")


def test_gradient_in_text_mode_binds_the_result_and_keeps_assignments(shell, capsys):
    before = dict(shell.user_ns)
    assert run(shell, "%%gradient x\nvalue = loss(x)\nvalue") is None
    result = shell.user_ns["_grad"]
    numpy.testing.assert_allclose(result["x"], 3.0 * numpy.cos([0.5, -1.0, 2.0]))
    assert result.value == pytest.approx(3.0 * numpy.sin([0.5, -1.0, 2.0]).sum())
    assert type(shell.user_ns["value"]) is numpy.float64
    assert all(shell.user_ns[name] is value for name, value in before.items() if name not in ("_grad",))
    assert shell.user_ns["np"] is numpy
    out = capsys.readouterr().out
    assert "gradient of value" in out and "x: shape (3,) float64" in out


def test_output_name_option(shell):
    assert run(shell, "%%gradient x -o named\nnp.sum(x ** 2)") is None
    numpy.testing.assert_allclose(shell.user_ns["named"].grad["x"], [1.0, -2.0, 4.0])
    assert isinstance(run(shell, "%%gradient x -o 1bad\nnp.sum(x)"), UsageError)


def test_numpy_is_traceable_during_the_cell_and_restored_after(shell):
    run(shell, "seen = []\ndef spy(v):\n    seen.append(np)\n    return np.sum(v)")
    assert run(shell, "%%gradient x\nspy(x)") is None
    assert shell.user_ns["seen"] == [traceable_numpy]
    assert shell.user_ns["np"] is numpy


def test_failing_cell_leaves_the_namespace_as_it_was_and_shows_a_short_traceback(shell, capsys):
    before = dict(shell.user_ns)
    error = run(shell, "%%gradient x\nnew_variable = 1\nscale = 0\nx = x * 2\nloss(x) + undefined_name")
    assert isinstance(error, NameError)
    assert shell.user_ns.keys() == before.keys()
    assert all(shell.user_ns[name] is value for name, value in before.items())
    out = capsys.readouterr().out
    assert "loss(x) + undefined_name" in out and "line 5" in out
    assert "autograd" not in out and "run_cell_magic" not in out and "zygote_nb/" not in out


@pytest.mark.parametrize("source, words", [
    ("%%gradient x --bogus\nnp.sum(x)", "unrecognized arguments: --bogus"),
    ("%%gradient nowhere\nnp.sum(x)", "'nowhere' is not defined"),
    ("%%gradient x\nx * 2", "%%jacobian"),
    ("%%jacobian x\n'text'", "str"),
    ("%%hessian x\nx * 2", "%%jacobian"),
    ("%%gradient x\ny = 2 * x", "must end with an expression"),
])
def test_usage_errors_are_one_line(shell, capsys, source, words):
    error = run(shell, source)
    assert type(error) is UsageError and words in str(error)
    err = capsys.readouterr().err
    assert err.startswith("UsageError:") and err.count("\n") == 1


def test_help_documents_every_option(shell, capsys):
    for magic, options in [("gradient", ["-o", "--no-widget", "--check", "NAME"]),
                           ("jacobian", ["-o", "--no-plot"]), ("hessian", ["-o", "--no-plot", "--reverse"])]:
        shell.run_cell(f"%%{magic}?")
        out = capsys.readouterr().out
        assert f"%%{magic} [-o NAME]" in out
        for option in options:
            assert option in out


def test_check_option_reports_the_worst_relative_error(shell, capsys):
    assert run(shell, "%%gradient x --check\nloss(x)") is None
    assert shell.user_ns["_grad"].check.passed
    assert "check: passed, worst relative error" in capsys.readouterr().out


def test_no_widget_option_shows_the_static_table(shell):
    outputs = rich_outputs(shell, "%%gradient x --no-widget\nloss(x)")
    assert "<th>norm</th>" in outputs[-1].data["text/html"]


def test_jacobian_and_hessian_display_a_heatmap_png(shell):
    for source in ("%%jacobian x\nnp.cumsum(x ** 2)", "%%hessian x\nnp.sum(x ** 4)"):
        (output,) = rich_outputs(shell, source)
        assert set(output.data) == {"text/plain", "text/html"}  # the picture once, inside the HTML
        assert output.data["text/html"].count("data:image/png;base64,") == 1
    numpy.testing.assert_allclose(shell.user_ns["_jac"]["x"], [[1.0, 0, 0], [1.0, -2.0, 0], [1.0, -2.0, 4.0]])
    numpy.testing.assert_allclose(shell.user_ns["_hess"].hessian, numpy.diag(12 * numpy.array([0.25, 1.0, 4.0])))


def test_no_plot_option_draws_nothing(shell):
    (output,) = rich_outputs(shell, "%%jacobian x --no-plot\nx ** 2")
    assert "image/png" not in output.data and "<img" not in output.data["text/html"]


def test_terminal_shows_text_and_draws_no_heatmap(shell, capsys):
    assert run(shell, "%%hessian x\nnp.sum(x ** 2) - x[0] * x[1]") is None
    out = capsys.readouterr().out
    assert "eigenvalues (ascending)" in out and "positive" in out
    assert "heatmap_png" not in vars(shell.user_ns["_hess"])


def test_hessian_reverse_option_and_critical_point(shell, capsys):
    run(shell, "origin = np.zeros(2)")
    assert run(shell, "%%hessian origin --reverse -o curvature\norigin[0] ** 2 - 2 * origin[1] ** 2") is None
    result = shell.user_ns["curvature"]
    numpy.testing.assert_allclose(result.hessian, [[2.0, 0.0], [0.0, -4.0]])
    assert result.method == "reverse over reverse"
    assert "a saddle point" in capsys.readouterr().out
