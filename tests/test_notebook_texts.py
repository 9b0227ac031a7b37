"""Notebook text that said what was not so (issue 15), checked against the cells that show it."""

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def cells(name):
    return nbformat.read(NOTEBOOKS / name, as_version=4).cells


def test_the_tour_points_to_every_other_notebook():
    where_next = next(cell.source for cell in reversed(cells("01_tour.ipynb")) if "Where to go next" in cell.source)
    others = sorted(path.name for path in NOTEBOOKS.glob("*.ipynb") if path.name != "01_tour.ipynb")
    assert [name for name in others if name not in where_next] == []


def test_forward_versus_reverse_timings_are_printed_in_milliseconds():
    (timing,) = [cell.source for cell in cells("02_jacobians_and_hessians.ipynb") if "forward_jacobian(wide" in cell.source
                 and "print(" in cell.source and "outputs:" in cell.source]
    assert " ms" in timing and ":.3f}s" not in timing  # 0.000s said nothing for a fast Jacobian


def test_the_checkpointing_cost_is_not_stated_as_a_fixed_fraction():
    text = "\n".join(cell.source for cell in cells("04_training_with_params.ipynb") if cell.cell_type == "markdown")
    assert "a third more work" not in text  # the measurement beneath showed otherwise
    assert "The timings above show what that" in text


def test_the_magics_demo_says_what_a_failed_cell_restores():
    text = "\n".join(cell.source for cell in cells("magics_demo.ipynb") if cell.cell_type == "markdown")
    assert "exactly as it was" not in text and "*in place*" in text


def test_the_tour_says_checkpointed_functions_may_close_over_traced_values():
    import numpy

    import zygote_nb as zn
    import zygote_nb.numpy as np

    (text,) = [cell.source for cell in cells("01_tour.ipynb") if cell.cell_type == "markdown"
               and "checkpointed(f, *xs)" in cell.source]
    assert "take every traced" not in text and "close over traced" in text
    # What the text now claims: a closure over the weights gets the weights' gradient.
    W, h = numpy.array([[1.0, 2.0], [0.5, -1.0]]), numpy.array([0.1, 0.2])
    closing_over = zn.gradient(lambda W: np.sum(zn.checkpointed(lambda h: np.tanh(W @ h), h)), W)[0]
    plain = (1 - numpy.tanh(W @ h) ** 2)[:, None] * h[None, :]  # d sum(tanh(W h)) / dW by hand
    numpy.testing.assert_allclose(closing_over, plain, rtol=1e-12)
