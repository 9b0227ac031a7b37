"""A cell run as a function of named inputs: namespace integrity, NumPy rebinding, short tracebacks."""

import linecache
import math

import numpy
import pytest
from autograd.tracer import isbox
from IPython.core.error import UsageError

import zygote_nb.numpy as traceable_numpy
from zygote_nb import gradient
from zygote_nb.notebook.cell import cell_function, parse_cell, short_traceback, traceable_counterpart


def run_gradient(source, names, namespace):
    with cell_function(source, names, namespace, "%%gradient " + " ".join(names)) as cell:
        return gradient(cell, *cell.inputs)


def user_namespace():
    namespace = {"np": numpy, "x": numpy.array([1.0, 2.0]), "scale": 3.0}
    exec("def loss(v):\n    return np.sum(np.sin(v)) * scale", namespace)
    return namespace


def test_last_expression_is_the_output_and_lines_count_the_magic_line():
    parsed = parse_cell("y = x\n\ny + 1  # note", "%%gradient x")
    assert parsed.output_source == "y + 1"
    assert linecache.getline(parsed.filename, 4).rstrip() == "y + 1  # note"
    assert linecache.getline(parsed.filename, 1) == "%%gradient x\n"


@pytest.mark.parametrize("source, words", [("y = 2 * x", "is an assignment"), ("", "empty"),
                                           ("for i in range(2):\n    pass", "is a for loop"),
                                           ("if x:\n    pass", "is an if statement"),
                                           ("import math", "is an import"),
                                           ("def f():\n    pass", "is a function definition")])
def test_cell_without_an_output_is_a_usage_error(source, words):
    with pytest.raises(UsageError, match=words):
        parse_cell(source)


def test_syntax_error_points_at_the_cells_own_line():
    with pytest.raises(SyntaxError) as excinfo:
        parse_cell("y = 1\ny = = 2\ny")
    assert excinfo.value.lineno == 3  # the magic line is line 1


def test_earlier_function_with_plain_numpy_is_differentiated_and_numpy_restored():
    namespace = user_namespace()
    before = dict(namespace)
    (grad,) = run_gradient("value = loss(x)\nvalue", ["x"], namespace)
    numpy.testing.assert_allclose(grad, 3.0 * numpy.cos([1.0, 2.0]))
    assert namespace["np"] is numpy
    assert namespace["x"] is before["x"]
    assert namespace["value"] == pytest.approx(3.0 * (math.sin(1.0) + math.sin(2.0)))
    assert not isbox(namespace["value"])


def test_numpy_is_traceable_only_while_the_cell_runs():
    namespace = user_namespace()
    namespace["seen"] = []
    exec("def spy(v):\n    seen.append(np)\n    return np.sum(v)", namespace)
    run_gradient("spy(x)", ["x"], namespace)
    assert namespace["seen"] == [traceable_numpy]
    assert namespace["np"] is numpy


def test_aliases_submodules_and_imported_functions_are_rebound():
    namespace = {"x": numpy.array([0.5, 1.5])}
    exec("import numpy as onp\nimport numpy.linalg as la\nfrom numpy import sin", namespace)
    (grad,) = run_gradient("la.norm(sin(x)) + onp.sum(x)", ["x"], namespace)
    expected = numpy.sin([0.5, 1.5]) * numpy.cos([0.5, 1.5]) / numpy.linalg.norm(numpy.sin([0.5, 1.5])) + 1
    numpy.testing.assert_allclose(grad, expected)
    assert namespace["onp"] is numpy and namespace["la"] is numpy.linalg and namespace["sin"] is numpy.sin


def test_import_inside_the_cell_is_rebound_and_kept_as_plain_numpy():
    namespace = {"x": numpy.array([0.5, 1.5])}
    (grad,) = run_gradient("import numpy as npy\nnpy.sum(npy.exp(x))", ["x"], namespace)
    numpy.testing.assert_allclose(grad, numpy.exp([0.5, 1.5]))
    assert namespace["npy"] is numpy


def test_assigned_containers_are_unboxed_and_reassigned_inputs_kept():
    namespace = user_namespace()
    run_gradient("parts = {'squares': [x ** 2]}\nx = x * 2\nnp.sum(x)", ["x"], namespace)
    squares = namespace["parts"]["squares"][0]
    assert type(squares) is numpy.ndarray
    numpy.testing.assert_array_equal(squares, [1.0, 4.0])
    numpy.testing.assert_array_equal(namespace["x"], [2.0, 4.0])


def test_deleted_names_stay_deleted():
    namespace = user_namespace()
    run_gradient("del scale\nnp.sum(x)", ["x"], namespace)
    assert "scale" not in namespace


def test_failure_leaves_the_namespace_exactly_as_it_was():
    namespace = user_namespace()
    before = dict(namespace)
    with pytest.raises(ZeroDivisionError):
        run_gradient("new_name = 1\nscale = 0\nx = x * 2\n1 / scale", ["x"], namespace)
    assert namespace.keys() == before.keys()
    assert all(namespace[name] is before[name] for name in before)


def test_repeated_runs_start_from_the_same_namespace_and_print_once(capsys):
    namespace = {"count": 0, "x": numpy.array([1.0, 2.0])}
    with cell_function("count = count + 1\nprint('running')\nx @ x", ["x"], namespace) as cell:
        for _ in range(3):
            cell(*cell.inputs)
    assert namespace["count"] == 1
    assert capsys.readouterr().out == "running\n"


def test_undefined_and_repeated_inputs_are_usage_errors():
    namespace = user_namespace()
    with pytest.raises(UsageError, match="'z' is not defined"):
        run_gradient("x", ["z"], namespace)
    with pytest.raises(UsageError, match="twice"):
        run_gradient("x", ["x", "x"], namespace)


def test_traceback_shows_the_cells_lines_and_user_functions_only():
    namespace = user_namespace()
    exec("def broken(v):\n    return np.sum(v) + undefined_thing", namespace)
    with pytest.raises(NameError) as excinfo:
        run_gradient("a = 1\nbroken(x)", ["x"], namespace)
    text = "\n".join(excinfo.value._render_traceback_())
    assert "broken(x)" in text and "undefined_thing" in text
    assert "autograd" not in text and "zygote_nb" not in text
    assert text.splitlines()[-1] == "NameError: name 'undefined_thing' is not defined"


def test_differentiation_error_points_at_the_cell_line():
    namespace = user_namespace()
    with pytest.raises(TypeError) as excinfo:
        run_gradient("x[0] = 5.0\nnp.sum(x)", ["x"], namespace)
    lines = short_traceback(excinfo.value)
    assert any("x[0] = 5.0" in line for line in lines)
    assert "in-place assignment" in lines[-1]
    numpy.testing.assert_array_equal(namespace["x"], [1.0, 2.0])


def test_traceable_counterparts():
    assert traceable_counterpart(numpy) is traceable_numpy
    assert traceable_counterpart(numpy.linalg.norm) is traceable_numpy.linalg.norm
    assert traceable_counterpart(math.sin) is None
    assert traceable_counterpart(traceable_numpy) is None


def test_numpy_warnings_point_at_the_user_line_of_the_operation_in_both_passes():
    namespace = user_namespace()
    exec("def logarithm(v):\n    return np.log(v)", namespace)
    with pytest.warns(RuntimeWarning) as caught:
        run_gradient("y = logarithm(x - 1.0)\nz = y * 2.0\nnp.sum(np.sqrt(x - 1.0))", ["x"], namespace)
    places = {(warning.filename, warning.lineno, str(warning.message)) for warning in caught}
    # Forward: log(0) warns inside logarithm, a helper defined elsewhere.
    assert ("<string>", 2, "divide by zero encountered in log") in places
    # Backward: sqrt's derivative at 0 divides by zero; its operation is on the cell's line 4.
    backward = [(filename, line) for filename, line, message in places if "(in the backward pass)" in message]
    assert len(backward) == 1 and backward[0][0].startswith("<%%gradient") and backward[0][1] == 4
    assert not any("autograd" in filename for filename, _, _ in places)
