"""Heatmaps checked through their matplotlib objects."""

import numpy
import pytest

from zygote_nb.notebook.heatmap import block_reduce, figure_png, heatmap_figure, resolution


def draw(matrix, column_blocks=None, row_blocks=None):
    column_blocks = column_blocks or [("x", matrix.shape[1])]
    return heatmap_figure(matrix, title="Jacobian of y", row_label="y", column_blocks=column_blocks,
                          row_blocks=row_blocks)


def matrix_axes(figure):
    return figure.axes[0]


def test_colour_limits_are_symmetric_around_zero_with_a_colour_bar():
    figure = draw(numpy.array([[0.5, 2.0], [-0.25, 1.0]]))
    image = matrix_axes(figure).images[0]
    assert image.get_clim() == (-2.0, 2.0)
    assert image.get_cmap().name.startswith("RdBu_r")
    assert len(figure.axes) >= 2  # the colour bar has its own axes


def test_axes_are_labelled_with_output_and_input_names_and_the_title_gives_shape_and_range():
    axes = matrix_axes(draw(numpy.array([[1.0, -3.0, 2.0]])))
    assert "y" in axes.get_ylabel() and "x" in axes.get_xlabel()
    assert "1×3" in axes.get_title() and "[-3, 2]" in axes.get_title()


def test_block_separators_and_labels_between_inputs():
    figure = draw(numpy.ones((4, 5)), column_blocks=[("a", 2), ("b", 3)])
    axes = matrix_axes(figure)
    vertical = [line.get_xdata()[0] for line in axes.lines]
    assert vertical == [1.5]  # between column 1 (end of a) and column 2 (start of b)
    top = [child for child in axes.child_axes]
    labels = [tick.get_text() for tick in top[0].get_xticklabels()]
    assert labels == ["a", "b"]


def test_hessian_blocks_are_separated_on_both_axes():
    blocks = [("a", 1), ("b", 2)]
    axes = matrix_axes(draw(numpy.eye(3), column_blocks=blocks, row_blocks=blocks))
    positions = sorted((line.get_xdata()[0], line.get_ydata()[0]) for line in axes.lines)
    assert len(positions) == 2
    assert "a, b" in axes.get_ylabel()


def test_single_input_has_no_separator():
    assert len(matrix_axes(draw(numpy.ones((3, 3)))).lines) == 0


def test_isolated_large_entry_survives_the_reduction_of_a_4096_matrix():
    matrix = numpy.random.default_rng(0).normal(scale=0.01, size=(4096, 4096))
    matrix[1234, 3001] = -50.0
    axes = matrix_axes(draw(matrix))
    image = axes.images[0]
    shown = numpy.asarray(image.get_array())
    rows, columns = resolution()
    assert shown.shape[0] <= rows and shown.shape[1] <= columns
    assert shown.min() == -50.0
    assert image.get_clim() == (-50.0, 50.0)
    assert "shown" in axes.get_title()


def test_block_reduce_keeps_the_signed_entry_of_largest_magnitude():
    matrix = numpy.array([[1.0, -4.0, 0.0], [3.0, 2.0, -1.0], [0.0, 0.0, 5.0]])
    reduced, height, width = block_reduce(matrix, 2, 2)
    assert (height, width) == (2, 2)
    numpy.testing.assert_array_equal(reduced, [[-4.0, -1.0], [0.0, 5.0]])


def test_nan_survives_the_reduction_and_is_counted():
    matrix = numpy.zeros((1000, 1000))
    matrix[10, 10] = numpy.nan
    reduced, _, _ = block_reduce(matrix, 100, 100)
    assert numpy.isnan(reduced[1, 1]) and numpy.isnan(reduced).sum() == 1
    assert "1 NaN" in matrix_axes(draw(matrix)).get_title()


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (300, 2), (5, 4096)])
def test_any_shape_draws_a_png(shape):
    assert figure_png(draw(numpy.arange(numpy.prod(shape), dtype=float).reshape(shape)))[:4] == b"\x89PNG"


def test_all_zero_matrix_gets_a_usable_colour_range():
    assert matrix_axes(draw(numpy.zeros((2, 2)))).images[0].get_clim() == (-1.0, 1.0)
