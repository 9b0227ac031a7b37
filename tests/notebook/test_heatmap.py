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


def softmax_jacobian(size=8):
    s = numpy.exp(numpy.linspace(-1.0, 2.0, size))
    s /= s.sum()
    return numpy.diag(s) - numpy.outer(s, s)


def drawn(figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return canvas.get_renderer()


@pytest.mark.parametrize("size", [1, 3, 8, 10])
def test_every_written_entry_fits_inside_its_cell(size):
    matrix = softmax_jacobian(size) * 1.2345
    figure = draw(matrix)
    renderer, axes = drawn(figure), matrix_axes(figure)
    entries = [text for text in axes.texts]
    assert len(entries) in (0, size * size)
    for text in entries:
        column, row = text.get_position()
        corner = axes.transData.transform([(column - 0.5, row - 0.5), (column + 0.5, row + 0.5)])
        box = text.get_window_extent(renderer)
        assert min(corner[:, 0]) <= box.x0 and box.x1 <= max(corner[:, 0]), text.get_text()
        assert min(corner[:, 1]) <= box.y0 and box.y1 <= max(corner[:, 1]), text.get_text()
    if size == 8:  # the softmax of notebook 02: written, not dropped
        assert entries


def test_rounding_noise_and_negative_zero_are_written_as_zero():
    axes = matrix_axes(draw(numpy.array([[0.25, 5.55e-17], [-0.0, -0.5]])))
    assert [text.get_text() for text in axes.texts] == ["0.25", "0", "0", "-0.5"]


def test_too_many_digits_for_the_cells_writes_nothing_rather_than_overflowing():
    matrix = numpy.full((10, 10), -1.23456e-7) + numpy.eye(10)  # 10 columns of '-1.23e-07' cannot fit
    figure = draw(matrix)
    renderer, axes = drawn(figure), matrix_axes(figure)
    cell_width = axes.get_window_extent(renderer).width / 10
    assert all(text.get_window_extent(renderer).width <= cell_width for text in axes.texts)


@pytest.mark.parametrize("row_blocks", [None, [("a", 1), ("weights", 3)]])
def test_the_colour_bar_sits_beside_the_matrix_clear_of_the_row_names(row_blocks):
    figure = draw(numpy.arange(16.0).reshape(4, 4), column_blocks=[("a", 1), ("weights", 3)], row_blocks=row_blocks)
    renderer = drawn(figure)
    matrix_box, bar_box = (axes.get_window_extent(renderer) for axes in (figure.axes[0], figure.axes[-1]))
    names_right = max((axes.get_tightbbox(renderer).x1 for axes in figure.axes[0].child_axes), default=matrix_box.x1)
    gap = bar_box.x0 - max(matrix_box.x1, names_right if row_blocks else matrix_box.x1)
    assert 0 < gap < 0.04 * figure.bbox.width


def test_the_text_summary_writes_rounding_noise_as_zero():
    from zygote_nb.notebook.results import JacobianResult

    jacobian = numpy.array([[0.4161, 5.551e-17], [-0.0, 0.8323]])
    summary = JacobianResult("y", numpy.zeros(2), {"x": numpy.zeros(2)}, {"x": jacobian}).summary()
    assert "e-17" not in summary and "-0." not in summary and "0.4161" in summary


def test_the_table_judges_a_block_s_noise_against_the_whole_matrix():
    from zygote_nb.notebook.results import HessianResult, JacobianResult

    # The second input's block holds only rounding noise next to the first block's entries.
    blocks = {"x": numpy.array([0.4161, 0.8323]), "scale": numpy.array([5.551e-17, -1.1e-16])}
    table = JacobianResult("y", numpy.zeros(2), {"x": 1.0, "scale": 2.0}, blocks).to_html()
    assert "e-17" not in table and "e-16" not in table and "0.8323" in table
    # A Hessian result's table lists the gradient: its tiny entries are judged against the gradient itself.
    gradient = {"x": numpy.array([3e-17, 2e-17])}
    hessian_table = HessianResult("f", 1.0, {"x": numpy.zeros(2)}, gradient, numpy.eye(2)).to_html()
    assert "3e-17" in hessian_table  # a gradient that small is the gradient, not noise of the Hessian


def test_a_long_summary_line_wraps_between_words_in_html():
    from zygote_nb.notebook.results import HessianResult

    page = HessianResult("f", 1.0, {"x": numpy.zeros(2)}, {"x": numpy.zeros(2)}, numpy.eye(2)).to_html()
    # JupyterLab's own <pre> style breaks anywhere ("memory bu|dget"); the summary's <pre> says otherwise.
    assert '<pre style="white-space:pre-wrap;word-break:normal;overflow-wrap:break-word">' in page
