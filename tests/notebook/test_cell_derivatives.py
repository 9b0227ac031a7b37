"""Derivatives of cells against finite differences and hand-derived values."""

import numpy
import pytest
from helpers import finite_difference_gradient, finite_difference_jacobian
from IPython.core.error import UsageError

from zygote_nb.notebook.derivatives import (flatten_inputs, gradient_of_cell, hessian_of_cell, jacobian_of_cell,
                                            unflatten)


def namespace():
    return {"np": numpy, "x": numpy.array([0.3, -0.7, 1.1]), "w": numpy.array([[1.0, 2.0], [0.5, -1.0]]),
            "b": 0.25, "params": {"w": numpy.array([1.0, -2.0]), "tag": "layer"}}


def test_gradient_matches_finite_differences():
    ns = namespace()
    result = gradient_of_cell("np.sum(np.tanh(x) ** 2) * b", ["x", "b"], ns)
    numpy.testing.assert_allclose(
        result["x"], finite_difference_gradient(lambda v: numpy.sum(numpy.tanh(v) ** 2) * 0.25, ns["x"]), rtol=1e-6)
    assert result["b"] == pytest.approx(numpy.sum(numpy.tanh(ns["x"]) ** 2))


def test_gradient_of_a_container_input_and_a_tuple_output():
    result = gradient_of_cell("loss = np.sum(params['w'] ** 3)\nloss, 'aux'", ["params"], namespace())
    numpy.testing.assert_allclose(result["params"]["w"], [3.0, 12.0])
    assert result["params"]["tag"] is None
    assert result.value == (pytest.approx(-7.0), "aux")


def test_gradient_check_report():
    result = gradient_of_cell("np.sum(np.sin(x))", ["x"], namespace(), check=True)
    assert result.check.passed and result.check.worst_error < 1e-6


def test_gradient_check_does_not_repeat_showgrad_reports(capsys):
    ns = namespace()
    ns["showgrad"] = __import__("zygote_nb").showgrad
    result = gradient_of_cell("np.sum(showgrad(x) ** 2)", ["x"], ns, check=True)
    assert result.check.passed
    assert capsys.readouterr().out.count("∂(x) =") == 1


def test_array_output_of_gradient_is_a_usage_error_pointing_to_jacobian():
    ns = namespace()
    with pytest.raises(UsageError, match="%%jacobian") as excinfo:
        gradient_of_cell("y = 2 * x\ny", ["x"], ns)
    assert "\n" not in str(excinfo.value)
    assert "y" not in ns


def test_jacobian_of_two_inputs_matches_finite_differences():
    ns = namespace()
    result = jacobian_of_cell("np.tanh(w @ x[:2] + b)", ["x", "w"], ns)

    def in_x(v):
        return numpy.tanh(ns["w"] @ v[:2] + 0.25)

    def in_w(m):
        return numpy.tanh(m @ ns["x"][:2] + 0.25)

    numpy.testing.assert_allclose(result["x"], finite_difference_jacobian(in_x, ns["x"]), atol=1e-8)
    numpy.testing.assert_allclose(result["w"], finite_difference_jacobian(in_w, ns["w"]), atol=1e-8)
    assert result.matrix.shape == (2, 7)
    assert result.blocks() == [("x", 3), ("w", 4)]


def test_jacobian_of_a_string_output_is_a_usage_error():
    with pytest.raises(UsageError, match="str"):
        jacobian_of_cell("'text'", ["x"], namespace())


def test_hessian_of_one_input_is_the_hand_derived_matrix():
    ns = {"np": numpy, "x": numpy.array([1.0, 2.0])}
    result = hessian_of_cell("x[0] ** 2 * x[1] + np.sum(x ** 3)", ["x"], ns)
    # f = x0² x1 + x0³ + x1³: H = [[2 x1 + 6 x0, 2 x0], [2 x0, 6 x1]]
    numpy.testing.assert_allclose(result.hessian, [[10.0, 2.0], [2.0, 12.0]])
    numpy.testing.assert_allclose(result["x"], [4.0 + 3.0, 1.0 + 12.0])
    assert result.curvature.positive == 2 and not result.curvature.critical


@pytest.mark.parametrize("reverse", [False, True])
def test_hessian_of_several_inputs_matches_differences_of_the_gradient(reverse):
    ns = namespace()
    result = hessian_of_cell("np.sum(w @ x[:2]) * b ** 2", ["x", "w", "b"], ns, reverse=reverse)

    def gradient_at(flat):
        x, w, b = unflatten(flat, (ns["x"], ns["w"], ns["b"]))
        return numpy.concatenate([numpy.r_[w.sum(axis=0), 0.0] * b ** 2, numpy.outer(numpy.ones(2), x[:2]).ravel() * b ** 2,
                                  [2 * b * numpy.sum(w @ x[:2])]])

    expected = finite_difference_jacobian(gradient_at, flatten_inputs((ns["x"], ns["w"], ns["b"])))
    numpy.testing.assert_allclose(result.hessian, expected, atol=1e-7)
    numpy.testing.assert_allclose(result.block("b", "b"), [[2 * numpy.sum(ns["w"] @ ns["x"][:2])]])


def test_critical_points_are_classified():
    ns = {"np": numpy, "x": numpy.zeros(2)}
    assert hessian_of_cell("x[0] ** 2 + 3 * x[1] ** 2", ["x"], ns).curvature.kind == "minimum"
    assert hessian_of_cell("x[0] ** 2 - x[1] ** 2", ["x"], ns).curvature.kind == "saddle"
    assert hessian_of_cell("-x[0] ** 2 - x[1] ** 2", ["x"], ns).curvature.kind == "maximum"
    degenerate = hessian_of_cell("x[0] ** 2 + x[1] ** 4", ["x"], ns).curvature
    assert (degenerate.kind, degenerate.zero) == ("degenerate", 1)


def test_hessian_of_a_container_is_a_usage_error():
    with pytest.raises(UsageError, match="dict"):
        hessian_of_cell("np.sum(params['w'])", ["params"], namespace())


def test_long_jacobian_shows_a_progress_bar_and_a_short_one_does_not(capsys):
    ns = {"np": numpy, "x": numpy.linspace(0, 1, 100)}
    jacobian_of_cell("np.sin(x[:3])", ["x"], ns)
    assert "%|" not in capsys.readouterr().err
    jacobian_of_cell("np.sin(x)", ["x"], ns)
    assert "100%|" in capsys.readouterr().err


def test_long_hessian_shows_a_progress_bar(capsys):
    result = hessian_of_cell("np.sum(x ** 3)", ["x"], {"np": numpy, "x": numpy.linspace(0.1, 1.0, 70)})
    numpy.testing.assert_allclose(numpy.diag(result.hessian), 6 * numpy.linspace(0.1, 1.0, 70))
    assert "100%|" in capsys.readouterr().err


def test_recorded_flow_has_the_cells_operations_and_the_same_gradient():
    ns = {"np": numpy, "x": numpy.array([0.5, 1.5])}
    result = gradient_of_cell("y = np.sin(x)\nnp.sum(y * y)", ["x"], ns, record_flow=True)
    numpy.testing.assert_allclose(result["x"], numpy.sin(2 * ns["x"]))
    assert [node.name for node in result.flow.nodes] == ["x", "sin", "multiply", "sum"]
    assert gradient_of_cell("np.sum(x)", ["x"], ns).flow is None
