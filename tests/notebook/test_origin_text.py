"""The NaN/Inf origin in every text form: ``--no-widget``, a text-only (terminal) front end,
``flow.summary()`` and the result's text, with an unambiguous place and the ``np.where`` story;
and, at the end, a real terminal IPython driven through a pseudo-terminal."""

import warnings

import numpy
import pytest

import zygote_nb.numpy as np
from helpers import finite_difference_gradient, terminal_ipython, terminal_shell
from zygote_nb import gradient
from zygote_nb.flow import trace_gradient


@pytest.fixture
def shell():
    with terminal_shell("import numpy as np\nz = np.array([1.0, 0.0, 2.0])") as shell:
        yield shell


def run_numbered(shell, source):
    """Run a cell as the notebook does (it gets a number, ``In [n]``); return n."""
    number = shell.execution_count
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = shell.run_cell(source, store_history=True)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return number


@pytest.mark.parametrize("option", ["--no-widget", ""])
def test_the_origin_sentence_names_the_cell_by_number_in_text_output(shell, capsys, option):
    number = run_numbered(shell, f"%%gradient z {option}\nw = z * 2.0\nnp.sum(np.log(w))")
    shown = capsys.readouterr().out
    assert f"! first Inf in the forward pass at In [{number}] line 3, log in `np.sum(np.log(w))`" in shown
    assert "value -inf at index 1 where w == 0" in shown
    assert f"! first Inf in the backward pass at In [{number}] line 3" in shown
    assert shell.user_ns["_grad"].summary() in shown  # the result's text carries the same lines


def test_a_helper_from_another_cell_is_named_by_its_own_cell_and_function(shell, capsys):
    defined = run_numbered(shell, "scale = 2.0\ndef helper(v):\n    return np.log(v * scale)")
    used = run_numbered(shell, "%%gradient z --no-widget\nnp.sum(helper(z))")
    shown = capsys.readouterr().out
    assert f"at In [{defined}] line 3 in helper, log in `return np.log(v * scale)`" in shown
    assert f"In [{used}]" not in shown.split("!", 1)[1].split("\n")[0]


def test_the_where_story_in_the_magic_and_its_rewrite_really_gives_a_finite_gradient(shell, capsys):
    run_numbered(shell, "%%gradient z --no-widget\ny = np.where(z > 0, np.sqrt(z), 0.0)\nnp.sum(y)")
    shown = capsys.readouterr().out
    assert "`np.sqrt(z)` is in the branch that `np.where(z > 0, …)` discards at index 1 where z == 0" in shown
    assert "0 × inf = NaN" in shown
    rewrite = "np.sqrt(np.where(z > 0, z, 1.0))"
    assert f"`{rewrite}` (checked: with it every gradient is finite)" in shown
    # Independently: the user's rewrite, differentiated afresh, is finite and agrees with finite
    # differences away from the kink (z == 0 itself is where the mask decides).
    rewritten = eval(f"lambda z: np.sum(np.where(z > 0, {rewrite}, 0.0))", {"np": np})
    point = shell.user_ns["z"]
    (fixed,) = gradient(rewritten, point)
    assert numpy.all(numpy.isfinite(fixed)) and fixed[1] == 0.0
    keep = point != 0
    assert numpy.allclose(fixed[keep], finite_difference_gradient(rewritten, point)[keep], rtol=1e-5)


def sqrt_where(x):
    return np.sum(np.where(x > 0, np.sqrt(x), 0.0))


def reciprocal_where(x):
    return np.sum(np.where(x != 0, 1.0 / x, 0.0))


def reciprocal_where_rewritten(x):
    return np.sum(np.where(x != 0, 1.0 / np.where(x != 0, x, 1.0), 0.0))


def test_flow_summary_carries_the_sentence_and_the_division_rewrite():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        flow = trace_gradient(reciprocal_where, numpy.array([2.0, 0.0]))
    text = flow.summary()
    line = reciprocal_where.__code__.co_firstlineno + 1
    assert f"! first NaN in the backward pass at test_origin_text.py:{line} in reciprocal_where, divide" in text
    assert "`1.0 / np.where(x != 0, x, 1.0)` (checked: with it every gradient is finite)" in text
    assert text.count("`1.0 / x` is in the branch") == 1  # forward and backward origins: told once
    assert flow.backward_origin.describe() in repr(flow) and flow.forward_origin.describe() in repr(flow)
    (fixed,) = gradient(reciprocal_where_rewritten, numpy.array([2.0, 0.0]))
    assert fixed.tolist() == [-0.25, 0.0]  # d/dx 1/x = -1/x², hand-derived; 0 where masked


def test_without_a_where_there_is_no_where_story():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        plain = trace_gradient(lambda x: np.sum(np.log(x)), numpy.array([1.0, 0.0]))
        weighted = trace_gradient(lambda x: np.sum(np.sqrt(x) * np.array([1.0, 0.0])), numpy.array([1.0, 0.0]))
    assert plain.forward_origin.explanation is None and plain.backward_origin.explanation is None
    story = weighted.backward_origin.explanation
    assert "0 × inf = NaN" in story and "where" not in story.replace("at index 1 where x", "")


def test_one_operation_is_singular():
    flow = trace_gradient(lambda x: np.sum(x), numpy.array([1.0]))
    assert flow.summary().startswith("gradient flow: 1 operation, ") and repr(flow).startswith("<GradientFlow: 1 operation,")


@pytest.mark.slow
def test_a_terminal_ipython_prints_the_origin_sentence_and_the_story():
    shown = terminal_ipython(["%load_ext zygote_nb", "import numpy as np", "z = np.array([1.0, 0.0, 2.0])",
                              "%%gradient z", "y = np.where(z > 0, np.sqrt(z), 0.0)", "np.sum(y)", "", ""],
                             last_prompt=5)
    assert "! first NaN in the backward pass at In [4] line 2, sqrt in `y = np.where(z > 0, np.sqrt(z), 0.0)`" in shown
    assert "`np.sqrt(np.where(z > 0, z, 1.0))` (checked: with it every gradient is finite)" in shown


def test_the_html_table_carries_the_sentence_with_code_spans(shell):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        shell.run_cell("%%gradient z --no-widget -o guarded\nnp.sum(np.where(z > 0, np.sqrt(z), 0.0))",
                       store_history=False)
    page = shell.user_ns["guarded"].to_html()
    assert "<p>first NaN in the backward pass at " in page
    assert "<code>np.sqrt(np.where(z &gt; 0, z, 1.0))</code> (checked: with it every gradient is finite)" in page
