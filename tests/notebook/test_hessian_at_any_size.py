"""%%hessian at any size, through the magic: dense when affordable, matrix-free beyond, checked by hand.

The independent paths are SciPy's ARPACK on Hessian-vector products written by
hand from the closed-form Hessian, and closed-form traces.
"""

import html
import re
import warnings

import numpy
import pytest
from scipy.sparse.linalg import LinearOperator, eigsh

from helpers import terminal_shell
from zygote_nb.notebook.hessian_cell import hessian_at_any_size
from zygote_nb.notebook.matrix_free import MatrixFreeHessianResult
from zygote_nb.notebook.results import HessianResult


@pytest.fixture
def shell():
    with terminal_shell("import numpy as np") as shell:
        yield shell


def run(shell, source):
    result = shell.run_cell(source, store_history=False)
    assert result.error_in_exec is None, result.error_in_exec


def printed_numbers(text, label):
    """The ``value ± bound`` pairs printed after ``label:`` in the summary."""
    line = next(line for line in text.splitlines() if line.strip().startswith(label + ":"))
    return [(float(value), float(bound)) for value, bound in re.findall(r"(-?[\d.e+-]+) ± ([\d.e+-]+)", line)]


def test_the_last_layer_of_an_mlp_2560_weights_is_dense_with_the_right_extreme_eigenvalues(shell, capsys):
    random = numpy.random.default_rng(0)
    shell.user_ns.update(hidden=numpy.tanh(random.standard_normal((64, 256))),
                         targets=numpy.eye(10)[random.integers(0, 10, 64)], W2=0.1 * random.standard_normal((256, 10)))
    run(shell, "%%hessian W2 -o curvature\nlogits = hidden @ W2\n"
               "np.mean(np.log(np.sum(np.exp(logits), axis=1)) - np.sum(targets * logits, axis=1))")
    text = capsys.readouterr().out
    assert "dense because 2,560 parameters ≤ 4,096" in text
    assert isinstance(shell.user_ns["curvature"], HessianResult)
    # By hand: H = (1/m) Σ hᵢhᵢᵀ ⊗ (diag pᵢ − pᵢpᵢᵀ), applied without forming it.
    hidden, weights = shell.user_ns["hidden"], shell.user_ns["W2"]
    logits = hidden @ weights
    probabilities = numpy.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)

    def by_hand(vector):
        moved = (hidden @ vector.reshape(256, 10)) * probabilities
        moved -= probabilities * moved.sum(axis=1, keepdims=True)
        return (hidden.T @ moved / 64).ravel()

    top = numpy.sort(eigsh(LinearOperator((2560, 2560), matvec=by_hand, dtype=float), k=3, which="LA",
                           return_eigenvectors=False))[::-1]
    for (value, bound), expected in zip(printed_numbers(text, "largest"), top):
        assert abs(value - expected) <= bound + 1e-5 * abs(expected)  # six printed figures
    assert "singular" in text  # softmax is unchanged by adding one number to every logit: a zero eigenvalue


def test_20000_weights_go_matrix_free_with_the_right_extremes_and_trace(shell, capsys):
    random = numpy.random.default_rng(1)
    shape = (200, 100)
    bulk, up, down = random.uniform(1.0, 2.0, shape), random.standard_normal(shape), random.standard_normal(shape)
    up /= numpy.linalg.norm(up)
    down /= numpy.linalg.norm(down)
    shell.user_ns.update(bulk=bulk, up=up, down=down, W=0.01 * random.standard_normal(shape))
    run(shell, "%%hessian W -o curvature\n"
               "0.5 * np.sum(bulk * W ** 2) + 15.0 * np.sum(up * W) ** 2 - 4.0 * np.sum(down * W) ** 2")
    text = capsys.readouterr().out
    result = shell.user_ns["curvature"]
    assert isinstance(result, MatrixFreeHessianResult)
    assert "matrix-free (20,000 parameters > 4,096" in text
    # By hand: H = diag(bulk) + 30 up upᵀ − 8 down downᵀ; its trace in closed form.
    by_hand = LinearOperator((20000, 20000), dtype=float, matvec=lambda v: bulk.ravel() * v
                             + 30 * up.ravel() * (up.ravel() @ v) - 8 * down.ravel() * (down.ravel() @ v))
    largest = eigsh(by_hand, k=1, which="LA", return_eigenvectors=False)[0]
    smallest = eigsh(by_hand, k=1, which="SA", return_eigenvectors=False)[0]
    (top, top_bound), *_ = printed_numbers(text, "largest")
    (bottom, bottom_bound), *_ = printed_numbers(text, "smallest")
    assert abs(top - largest) <= top_bound + 1e-5 * abs(largest)  # six printed figures
    assert abs(bottom - smallest) <= bottom_bound + 1e-5 * abs(smallest)
    estimate, stderr = map(float, re.search(r"trace ≈ ([\d.e+-]+) ± ([\d.e+-]+)", text).groups())
    assert abs(estimate - (bulk.sum() + 30 - 8)) <= 3 * stderr
    assert "the Hessian here is indefinite" in text
    assert "loss along the top eigenvector" in text


def test_either_way_can_be_forced_and_k_chooses_how_many_eigenvalues(shell, capsys):
    shell.user_ns["x"] = numpy.array([0.3, -0.2, 0.5, 1.0, 2.0])
    run(shell, "%%hessian x --matrix-free -k 2 -o free\nnp.sum(np.arange(1.0, 6.0) * x ** 2) - 7 * x[0] ** 2")
    free = shell.user_ns["free"]
    assert isinstance(free, MatrixFreeHessianResult)
    numpy.testing.assert_allclose(free.curvature.eigenvalues, [-12.0, 4.0, 8.0, 10.0], atol=1e-8)
    text = capsys.readouterr().out
    assert "forced with --matrix-free" in text
    assert len(printed_numbers(text, "largest")) == 2 and len(printed_numbers(text, "smallest")) == 2
    assert html.escape(free.summary()) in free.to_html()  # the notebook shows the numbers the terminal prints
    with pytest.raises(Exception, match="exclude each other"):
        shell.run_cell("%%hessian x --dense --matrix-free\nnp.sum(x ** 2)", store_history=False).raise_error()


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")  # the point of the test
@pytest.mark.parametrize("dense", [True, False])
def test_a_point_where_the_value_is_nan_warns_and_gives_no_verdict(dense):
    namespace = {"np": numpy, "x": numpy.array([-1.0, 2.0])}
    with pytest.warns(RuntimeWarning, match="not finite there"):
        result = hessian_at_any_size("np.sum(np.log(x))", ["x"], namespace, dense=dense)
    assert result.curvature.kind == "undefined"
    assert "no verdict" in result.curvature.verdict
    assert "definite" not in result.summary()


def test_ctrl_c_during_the_matrix_free_work_keeps_what_was_done():
    namespace = {"np": numpy, "x": numpy.linspace(1.0, 2.0, 50), "calls": []}
    source = ("calls.append(1)\n"
              "if len(calls) > 60:\n    raise KeyboardInterrupt\n"
              "np.sum(np.arange(50.0) * x ** 2)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = hessian_at_any_size(source, ["x"], namespace, dense=False)
    assert result.work.interrupted is not None and result.work.trace is None
    assert "stopped by Ctrl-C" in result.summary()
    largest, bound = result.curvature.eigenvalues[-1], result.curvature.errors[-1]
    assert abs(largest - 98.0) <= bound  # H = diag(2·arange(50)): the bound still holds
