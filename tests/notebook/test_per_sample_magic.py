"""%%gradient --per-sample: the rows against the one-example replay, the corrupted label found, text and picture."""

import numpy
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from helpers import terminal_shell
import zygote_nb as zn
import zygote_nb.numpy as np
from zygote_nb.notebook.magics import DifferentiationMagics
from zygote_nb.notebook.per_sample_cell import per_sample_of_cell

LOSSES_CELL = """
hidden = np.tanh(points @ W1.T + b1)
scores = hidden @ W2.T
shifted = scores - np.max(scores, axis=1, keepdims=True)
log_probabilities = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
-log_probabilities[np.arange(len(labels)), labels]
"""


def one_example_loss(params, point, label):
    """The loss of one example, written separately from the cell: the independent path."""
    W1, b1, W2 = params
    scores = W2 @ np.tanh(W1 @ point + b1)
    return np.log(np.sum(np.exp(scores - np.max(scores)))) + np.max(scores) - scores[label]


def corrupted_classification(corrupted=17):
    """Three well-separated blobs, a small network fitted to them, and one label flipped before training."""
    rng = numpy.random.default_rng(3)
    centres = numpy.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    labels = numpy.repeat(numpy.arange(3), 20)
    points = centres[labels] + 0.6 * rng.normal(size=(60, 2))
    labels = labels.copy()
    labels[corrupted] = (labels[corrupted] + 1) % 3
    params = [rng.normal(size=(8, 2)) * 0.5, numpy.zeros(8), rng.normal(size=(3, 8)) * 0.5]

    def mean_loss(params):
        W1, b1, W2 = params
        scores = np.tanh(points @ W1.T + b1) @ W2.T
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        return -np.mean(shifted[numpy.arange(60), labels] - np.log(np.sum(np.exp(shifted), axis=1)))

    for _ in range(150):
        (gradients,) = zn.gradient(mean_loss, params)
        params = [p - 0.5 * g for p, g in zip(params, gradients)]
    W1, b1, W2 = params
    return {"np": np, "points": points, "labels": labels, "W1": W1, "b1": b1, "W2": W2}


@pytest.fixture(scope="module")
def namespace():
    return corrupted_classification()


def losses_jacobian(namespace, cell=LOSSES_CELL):
    """The Jacobian of the cell's losses vector, by zn.jacobian on the cell's code run as a function: the rows."""
    def losses(W1, b1, W2):
        scope = {**namespace, "W1": W1, "b1": b1, "W2": W2}
        body, last = cell.strip().rsplit("\n", 1)
        exec(body, scope)
        return eval(last, scope)

    params = [namespace[name] for name in ("W1", "b1", "W2")]
    return [J.reshape((60,) + p.shape) for J, p in zip(zn.jacobian(losses, *params), params)]


def test_rows_equal_the_one_example_loss_and_the_jacobian_and_the_corrupted_label_is_the_top_outlier(namespace):
    result = per_sample_of_cell(LOSSES_CELL, ["W1", "b1", "W2"], dict(namespace))
    assert result.method.startswith("replay of one example over the data points, labels")
    replayed = zn.per_sample_gradients(one_example_loss, (namespace["W1"], namespace["b1"], namespace["W2"]),
                                       namespace["points"], namespace["labels"])
    for name, rows, jacobian_rows in zip(["W1", "b1", "W2"], replayed, losses_jacobian(namespace)):
        numpy.testing.assert_allclose(result.per_sample[name], rows, rtol=0, atol=1e-12)
        numpy.testing.assert_allclose(result.per_sample[name], jacobian_rows, rtol=0, atol=1e-12)
    assert result.outliers()[0][0] == 17
    assert result.statistics.top(1)[0][0] == 17


BATCH_NORMALISED_CELL = """
h = points @ W1.T + b1
h = (h - h.mean(axis=0)) / (h.std(axis=0) + 1e-3)
scores = np.tanh(h) @ W2.T
shifted = scores - np.max(scores, axis=1, keepdims=True)
-(shifted[np.arange(len(labels)), labels] - np.log(np.sum(np.exp(shifted), axis=1)))
"""


def test_examples_that_interact_through_the_batch_take_the_jacobian_rows(namespace):
    result = per_sample_of_cell(BATCH_NORMALISED_CELL, ["W1", "b1", "W2"], dict(namespace))
    assert result.method.startswith("Jacobian rows (the examples' losses interact")
    for name, jacobian_rows in zip(["W1", "b1", "W2"], losses_jacobian(namespace, BATCH_NORMALISED_CELL)):
        numpy.testing.assert_allclose(result.per_sample[name], jacobian_rows, rtol=0, atol=1e-12)


def test_a_cell_ending_in_the_mean_loss_is_refused_in_one_line(namespace):
    with pytest.raises(UsageError, match="vector of per-example losses") as error:
        per_sample_of_cell(LOSSES_CELL.rstrip() + ".mean()", ["W1"], dict(namespace))
    assert "\n" not in str(error.value)


@pytest.fixture
def shell(namespace):
    with terminal_shell("import numpy as np", namespace) as shell:
        yield shell


def test_the_magic_binds_per_sample_and_prints_the_outlier(shell, capsys):
    assert shell.run_cell("%%gradient W1 W2 --per-sample" + LOSSES_CELL, store_history=False).error_in_exec is None
    result = shell.user_ns["_grad"]
    assert result.per_sample["W1"].shape == (60, 8, 2)
    numpy.testing.assert_allclose(result["W2"], result.per_sample["W2"].mean(axis=0))
    out = capsys.readouterr().out
    assert "#17:" in out and "outlier" in out and "signal-to-noise" in out and "W1:" in out


def test_the_rich_view_embeds_the_picture_and_the_table(shell):
    shell.display_formatter.active_types = ["text/plain", "text/html"]
    with capture_output() as captured:
        shell.run_cell("%%gradient W1 --per-sample -o seen" + LOSSES_CELL, store_history=False)
    html = captured.outputs[0].data["text/html"]
    assert "data:image/png;base64," in html and "<td>17</td>" in html and "outlier" in html


def test_no_widget_keeps_the_table_and_drops_the_picture_as_its_help_says(shell):
    shell.display_formatter.active_types = ["text/plain", "text/html"]
    with capture_output() as captured:
        shell.run_cell("%%gradient W1 --per-sample --no-widget -o seen" + LOSSES_CELL, store_history=False)
    html = captured.outputs[0].data["text/html"]
    assert "data:image/png" not in html and "<td>17</td>" in html
    assert "without the picture" in DifferentiationMagics.gradient.__doc__


def test_per_sample_with_check_is_a_usage_error(shell):
    result = shell.run_cell("%%gradient W1 --per-sample --check" + LOSSES_CELL, store_history=False)
    assert isinstance(result.error_in_exec, UsageError) and "drop it with --per-sample" in str(result.error_in_exec)
