"""zygote_nb.showgrad: labels from the source, values against hand-derived gradients, once per pass."""

import json
import re
import sys

import numpy
import pytest
from IPython.core.interactiveshell import InteractiveShell

import zygote_nb.numpy as np
from zygote_nb import gradient, hessian, hessian_reverse, jacobian
from zygote_nb.forward import jvp
from zygote_nb.showgrad import Report, capture_reports, showgrad

from helpers import finite_difference_gradient, terminal_ipython


def test_utilities_page_first_example_reports_the_gradient_of_the_use(capsys):
    assert gradient(lambda a, b: showgrad(a) * b, 2, 3) == (3.0, 2.0)
    assert capsys.readouterr().out == "∂(a) = 3.0\n"


def test_gradient_shown_is_for_this_use_not_the_whole_variable(capsys):
    assert gradient(lambda a: showgrad(a) * a, 2) == (4.0,)
    assert capsys.readouterr().out == "∂(a) = 2.0\n"


def test_unused_showgrad_reports_none_when_the_pass_ends(capsys):
    def f(a, b):
        showgrad(a)
        return a * b

    assert gradient(f, 2, 3) == (3.0, 2.0)
    assert capsys.readouterr().out == "∂(a) = None\n"


def test_label_is_the_source_text_of_the_argument_and_arrays_print_readably(capsys):
    a = numpy.array([1.0, 2.0, 3.0])
    gradient(lambda a: np.sum(showgrad(a[1:] * 2) ** 2), a)
    # d/ds sum(s**2) = 2 s with s = 2 a[1:] = [4, 6]
    assert capsys.readouterr().out == "∂(a[1:] * 2) = [ 8., 12.]\n"


def test_scalars_print_as_python_numbers(capsys):
    gradient(lambda x: np.sum(showgrad(np.sum(x)) * 3.0), numpy.ones(2))
    out = capsys.readouterr().out
    assert out == "∂(np.sum(x)) = 3.0\n"
    assert "float64" not in out


def test_name_overrides_the_label(capsys):
    gradient(lambda a: showgrad(a, name="weight") * 5.0, 1.0)
    assert capsys.readouterr().out == "∂(weight) = 5.0\n"


def test_two_showgrads_on_one_line_get_their_own_labels():
    with capture_reports() as reports:
        gradient(lambda a, b: showgrad(a) * showgrad(b + 1), 2.0, 3.0)
    assert sorted((report.label, report.value) for report in reports) == [("a", 4.0), ("b + 1", 2.0)]


def test_outside_differentiation_returns_x_and_prints_nothing(capsys):
    x = numpy.array([1.0, 2.0])
    assert showgrad(x) is x
    assert jvp(lambda y: showgrad(y) * 2, 1.0, 1.0) == (2.0, 2.0)
    assert capsys.readouterr().out == ""


def test_capture_reports_collects_label_value_and_location_instead_of_printing(capsys):
    with capture_reports() as reports:
        gradient(lambda a: showgrad(a) * 7.0, 1.0)
        line_after_call = sys._getframe().f_lineno
    assert capsys.readouterr().out == ""
    assert reports == [Report("a", 7.0, __file__, line_after_call - 1)]
    assert str(reports[0]) == "∂(a) = 7.0"


def test_jacobian_reports_once_per_backward_pass():
    x = numpy.array([1.0, 2.0, 3.0])
    with capture_reports() as reports:
        J = jacobian(lambda x: showgrad(x) ** 2, x)[0]
    numpy.testing.assert_allclose(J, numpy.diag(2 * x))
    # Row k's pass seeds output k = s_k**2: the cotangent at showgrad's output s is 2 x_k e_k.
    assert [report.label for report in reports] == ["x"] * 3
    numpy.testing.assert_array_equal(numpy.stack([report.value for report in reports]), numpy.diag(2 * x))


def test_hessian_reports_once_per_backward_pass_with_the_plain_gradient():
    x = numpy.array([1.0, 2.0])
    f = lambda x: np.sum(showgrad(x) ** 3)  # noqa: E731
    # The row-by-row Hessian runs one backward pass per column; the batched engine
    # pushes all columns forward through a single recorded backward pass.
    for engine, passes in (("loop", 2), ("batched", 1)):
        with capture_reports() as reports:
            H = hessian(f, x, engine=engine)
        numpy.testing.assert_allclose(H, numpy.diag(6 * x))
        assert len(reports) == passes
        for report in reports:
            numpy.testing.assert_allclose(report.value, 3 * x**2)


def test_hessian_reverse_reports_once_for_its_one_inner_backward_pass():
    # Reverse over reverse runs the inner gradient once; the outer passes differentiate it, not re-run it.
    x = numpy.array([1.0, 2.0])
    for engine in ("loop", "batched"):
        with capture_reports() as reports:
            H = hessian_reverse(lambda x: np.sum(showgrad(x) ** 3), x, engine=engine)
        numpy.testing.assert_allclose(H, numpy.diag(6 * x))
        assert len(reports) == 1
        numpy.testing.assert_allclose(reports[0].value, 3 * x**2)


def test_labels_in_ipython_cells_including_a_function_from_an_earlier_cell(capsys):
    shell = InteractiveShell.instance()
    shell.run_cell("from zygote_nb.showgrad import showgrad\n"
                   "from zygote_nb import gradient\n"
                   "def scaled(a):\n"
                   "    return showgrad(a * 2) * a\n")
    shell.run_cell("result = gradient(scaled, 3.0)")
    shell.run_cell("other = gradient(lambda q: showgrad(q[0]) * 4.0, [1.0])")
    out = capsys.readouterr().out
    assert "∂(a * 2) = 3.0" in out
    assert "∂(q[0]) = 4.0" in out
    assert shell.user_ns["result"] == (12.0,)


def test_a_constant_reports_the_gradient_reaching_its_use():
    c = 3.0
    with capture_reports() as reports:
        assert gradient(lambda a: showgrad(c, name="c") * a, 2.0) == (3.0,)
    # the gradient reaching this use of c: d/dc (c · a) at a = 2, as Zygote prints
    assert [(report.label, report.value) for report in reports] == [("c", pytest.approx(2.0))]
    weights = numpy.array([1.0, -2.0, 0.5])
    with capture_reports() as reports:
        gradient(lambda a: np.sum(np.sin(showgrad(weights) * a)), 0.7)
    numpy.testing.assert_allclose(reports[0].value,
                                  finite_difference_gradient(lambda w: numpy.sum(numpy.sin(w * 0.7)), weights),
                                  rtol=1e-8)


def test_an_unused_showgrad_reports_once_per_row_with_either_jacobian_engine():
    def f(x):
        showgrad(x, name="unused")
        return showgrad(x, name="used") * 2.0

    x = numpy.array([1.0, 2.0, 3.0])
    counts = {}
    for engine in ("loop", "batched"):
        with capture_reports() as reports:
            jacobian(f, x, engine=engine)
        counts[engine] = sorted((report.label, report.value is None) for report in reports)
    assert counts["batched"] == counts["loop"] == [("unused", True)] * 3 + [("used", False)] * 3


def test_labels_in_a_gradient_cell_are_read_from_the_cells_own_source():
    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext zygote_nb", store_history=False)
    shell.run_cell("import numpy as np\nimport zygote_nb as zn\n"
                   "W = np.array([[1.0, 2.0], [3.0, 4.0]])\nx = np.array([0.5, -1.0])", store_history=False)
    with capture_reports() as reports:
        result = shell.run_cell("%%gradient x --no-widget\ny = zn.showgrad(W @ x)\n"
                                "z = zn.showgrad(\n    np.exp(x))\nnp.sum(y * z)", store_history=False)
    shell.run_cell("%unload_ext zygote_nb", store_history=False)
    assert result.error_in_exec is None
    by_label = {report.label: report.value for report in reports}
    assert set(by_label) == {"W @ x", "np.exp(x)"}
    W, x = numpy.array([[1.0, 2.0], [3.0, 4.0]]), numpy.array([0.5, -1.0])
    # the gradient reaching y is z, the one reaching z is y
    numpy.testing.assert_allclose(by_label["W @ x"], numpy.exp(x))
    numpy.testing.assert_allclose(by_label["np.exp(x)"], W @ x)


@pytest.mark.slow
def test_labels_in_a_terminal_ipython_cell_are_read_from_the_cells_own_source():
    shown = terminal_ipython(["%load_ext zygote_nb", "import numpy as np", "import zygote_nb as zn",
                              "W = np.array([[1.0, 2.0], [3.0, 4.0]])", "x = np.array([0.5, -1.0])",
                              "%%gradient x --no-widget", "y = zn.showgrad(W @ x)", "z = zn.showgrad(np.exp(x))",
                              "np.sum(y * z)", "", ""], last_prompt=7)
    W, x = numpy.array([[1.0, 2.0], [3.0, 4.0]]), numpy.array([0.5, -1.0])
    printed = {label: numpy.array(json.loads(values)) for label, values in re.findall(r"∂\((.+?)\) = (\[[^\]]*\])", shown)}
    assert set(printed) == {"W @ x", "np.exp(x)"}
    # the gradient reaching y is z = exp(x), the one reaching z is y = W @ x
    numpy.testing.assert_allclose(printed["W @ x"], numpy.exp(x), rtol=1e-7)
    numpy.testing.assert_allclose(printed["np.exp(x)"], W @ x, rtol=1e-7)
