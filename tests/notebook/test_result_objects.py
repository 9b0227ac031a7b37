"""Result objects: access, text summaries, HTML with every user string escaped."""

import numpy

from zygote_nb.checking import check_gradient
from zygote_nb.notebook.results import GradientResult, HessianResult, JacobianResult


def test_gradient_result_access_and_summary_of_containers():
    params = {"<w>": numpy.array([1.0, 2.0]), "label": "x"}
    result = GradientResult("loss", 1.5, {"params": params, "t": 2.0},
                            {"params": {"<w>": numpy.array([0.5, numpy.nan]), "label": None}, "t": None})
    assert result["t"] is None and result.grad["params"]["label"] is None
    text = result.summary()
    assert "params['<w>']: shape (2,) float64" in text and "1 NaN" in text
    assert "t" in text and "does not depend" in text


def test_html_escapes_user_strings():
    params = {"<script>alert(1)</script>": numpy.array([1.0])}
    result = GradientResult("np.sum(x < 3) & y", numpy.float64(2.0), {"p": params},
                            {"p": {"<script>alert(1)</script>": numpy.array([1.0])}})
    page = result._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "x &lt; 3) &amp; y" in page


def test_html_table_has_norm_min_max_and_nan_inf_counts():
    result = GradientResult("f", 0.0, {"x": numpy.zeros(3)}, {"x": numpy.array([3.0, -4.0, numpy.inf])})
    page = result.to_html()
    for heading in ("input", "shape", "norm", "min", "max", "NaN", "Inf"):
        assert f"<th>{heading}</th>" in page
    assert "<td>5</td>" in page  # norm of the finite entries


def test_check_report_in_text_and_html():
    x = numpy.array([1.0, 2.0])
    report = check_gradient(lambda v: (v ** 2).sum(), x)
    result = GradientResult("f", 5.0, {"x": x}, {"x": 2 * x}, report)
    assert "check: passed" in result.summary() and "check error" in result.to_html()


def test_small_matrices_print_in_full_and_large_ones_are_summarised():
    small = JacobianResult("y", numpy.zeros(2), {"x": numpy.zeros(2)}, {"x": numpy.array([[1.5, 0.0], [0.0, 2.5]])})
    assert "[[1.5 0. ]" in small.summary()
    large_matrix = numpy.arange(10000.0).reshape(100, 100)
    large = JacobianResult("y", numpy.zeros(100), {"x": numpy.zeros(100)}, {"x": large_matrix})
    text = large.summary()
    assert "100×100 matrix, entries in [0, 9999]" in text
    assert len(text.splitlines()) < 5


def test_jacobian_blocks_with_scalar_and_non_array_inputs():
    result = JacobianResult("y", numpy.zeros(2), {"a": 1.0, "b": numpy.zeros((2, 2)), "s": "text"},
                            {"a": numpy.array([1.0, 2.0]), "b": numpy.ones((2, 4)), "s": None})
    assert result.blocks() == [("a", 1), ("b", 4)]
    assert result.matrix.shape == (2, 5)
    assert "s: no Jacobian" in result.summary()


def test_hessian_summary_counts_eigenvalues_and_names_the_point():
    hessian = numpy.diag([2.0, -1.0, 0.0])
    result = HessianResult("f", 0.0, {"x": numpy.zeros(3)}, {"x": numpy.zeros(3)}, hessian)
    text = result.summary()
    assert "eigenvalues (ascending): [-1.  0.  2.]" in text
    assert "1 positive, 1 negative, 1 near zero" in text
    assert "degenerate" in text
    assert result.heatmap_png[:4] == b"\x89PNG"


def test_check_error_column_spans_the_rows_of_a_container_input():
    params = {"w": numpy.array([1.0, 2.0]), "b": 0.5}
    report = check_gradient(lambda p: (p["w"] ** 2).sum() + p["b"], params)
    result = GradientResult("f", 5.5, {"params": params}, {"params": report.gradient[0]}, report)
    page = result.to_html()
    assert page.count('rowspan="2"') == 1
    assert "params[&#x27;w&#x27;]" in page and "params[&#x27;b&#x27;]" in page
