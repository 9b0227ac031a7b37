"""Heatmaps of Jacobians and Hessians, readable from 1×1 to 4096×4096.

The colour map diverges around zero (red positive, blue negative, white zero)
with symmetric limits, so the sign and size of every entry read at a glance.
A matrix larger than the picture has pixels is first reduced block by block to
the entry of largest magnitude, keeping its sign: an isolated large entry
stays visible instead of being averaged away (or skipped by resampling).
NaN entries are drawn black; the title counts NaN and infinite entries.

The figure is a plain :class:`matplotlib.figure.Figure` (no pyplot, so nothing
is shown or kept behind the caller's back):

>>> import numpy
>>> figure = heatmap_figure(numpy.array([[1.0, -3.0], [0.5, 2.0]]), title="J",
...                         row_label="output y", column_blocks=[("x", 2)])
>>> figure.axes[0].images[0].get_clim()
(-3.0, 3.0)
"""

from __future__ import annotations

import io
import math

import numpy
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.textpath import TextPath
from matplotlib.ticker import FixedLocator, MaxNLocator

FIGURE_SIZE = (6.4, 5.6)  # inches
DPI = 100
MATRIX_AXES = (0.14, 0.11, 0.62, 0.71)  # left, bottom, width, height as fractions of the figure
COLOUR_BAR_WIDTH = 0.03
COLOUR_MAP = "RdBu_r"
SMALL = 10  # up to this many rows and columns, every index is ticked and every entry written where it fits
NOISE = 1e-12  # entries this small next to the largest are rounding noise, written as 0
FONT_SIZES = (8, 7, 6)  # points, tried in turn until the longest entry fits its cell


def resolution() -> tuple[int, int]:
    """How many rows and columns of cells the matrix axes can show, one pixel each."""
    return (int(MATRIX_AXES[3] * FIGURE_SIZE[1] * DPI), int(MATRIX_AXES[2] * FIGURE_SIZE[0] * DPI))


def block_reduce(matrix: numpy.ndarray, max_rows: int, max_columns: int) -> tuple[numpy.ndarray, int, int]:
    """Reduce ``matrix`` to at most ``max_rows × max_columns`` cells, each the entry of largest magnitude.

    Returns the reduced matrix and the block height and width (1 where no
    reduction was needed). A block with a NaN reduces to NaN.

    >>> reduced, height, width = block_reduce(numpy.array([[1.0, -5.0, 2.0], [0.0, 3.0, 4.0]]), 1, 2)
    >>> reduced, height, width
    (array([[-5.,  4.]]), 2, 2)
    """
    rows, columns = matrix.shape
    height, width = math.ceil(rows / max_rows), math.ceil(columns / max_columns)
    if height == 1 and width == 1:
        return matrix, 1, 1
    largest = _reduce_blocks(_reduce_blocks(matrix, height, numpy.maximum).T, width, numpy.maximum).T
    smallest = _reduce_blocks(_reduce_blocks(matrix, height, numpy.minimum).T, width, numpy.minimum).T
    return numpy.where(-smallest > largest, smallest, largest), height, width


def _reduce_blocks(matrix: numpy.ndarray, height: int, reduction: numpy.ufunc) -> numpy.ndarray:
    """Reduce every ``height`` consecutive rows to one (the last block may be shorter)."""
    whole = matrix.shape[0] // height * height
    parts = [reduction.reduce(matrix[:whole].reshape(-1, height, matrix.shape[1]), axis=1)]
    if whole < matrix.shape[0]:
        parts.append(reduction.reduce(matrix[whole:], axis=0, keepdims=True))
    return numpy.concatenate(parts)


def finite_range(matrix: numpy.ndarray) -> tuple:
    """``(smallest, largest, nan_count, inf_count)`` over the finite entries (``None`` bounds if there are none).

    >>> finite_range(numpy.array([[1.0, numpy.nan], [-numpy.inf, 0.25]]))
    (0.25, 1.0, 1, 1)
    """
    smallest, largest = float(matrix.min(initial=numpy.inf)), float(matrix.max(initial=-numpy.inf))
    if matrix.size and numpy.isfinite(smallest) and numpy.isfinite(largest):
        return smallest, largest, 0, 0
    finite_mask = numpy.isfinite(matrix)
    finite = matrix[finite_mask]
    nan_count = int(numpy.isnan(matrix).sum())
    inf_count = int(matrix.size - finite_mask.sum()) - nan_count
    if not finite.size:
        return None, None, nan_count, inf_count
    return float(finite.min()), float(finite.max()), nan_count, inf_count


def colour_limit(value_range: tuple) -> float:
    """The symmetric colour limit for a :func:`finite_range`: the largest finite magnitude (1 when that is 0).

    >>> colour_limit((-3.0, 2.0, 0, 0)), colour_limit((None, None, 4, 0))
    (3.0, 1.0)
    """
    smallest, largest, _, _ = value_range
    limit = max(abs(smallest), abs(largest)) if smallest is not None else 0.0
    return limit if limit > 0 else 1.0


def describe_range(value_range: tuple) -> str:
    """``'entries in [-3, 2]'`` for a :func:`finite_range`, with counts of NaN and infinite entries.

    >>> describe_range(finite_range(numpy.array([[1.0, numpy.nan], [-numpy.inf, 0.25]])))
    'entries in [0.25, 1], 1 NaN, 1 Inf'
    """
    smallest, largest, nan_count, inf_count = value_range
    text = f"entries in [{smallest:.4g}, {largest:.4g}]" if smallest is not None else "no finite entries"
    if nan_count:
        text += f", {nan_count} NaN"
    if inf_count:
        text += f", {inf_count} Inf"
    return text


def heatmap_figure(matrix: numpy.ndarray, *, title: str, row_label: str,
                   column_blocks: list, row_blocks: list | None = None) -> Figure:
    """Draw ``matrix`` as a heatmap.

    ``column_blocks`` lists ``(name, size)`` of the inputs laid side by side
    along the columns; ``row_blocks`` does the same for the rows (a Hessian),
    or is ``None`` when the rows are one output called ``row_label``. Between
    blocks a line separates them and each block's name labels it along the
    top or the right.
    """
    matrix = numpy.asarray(matrix, dtype=float)
    matrix = matrix.reshape(matrix.shape[0] if matrix.ndim else 1, -1)
    rows, columns = matrix.shape
    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI)
    axes = figure.add_axes(MATRIX_AXES)
    reduced, height, width = block_reduce(matrix, *resolution())
    value_range = finite_range(matrix)  # one pass over a large matrix serves the colours and the title
    limit = colour_limit(value_range)
    colour_map = figure_colour_map()
    # Cell (i, j) is centred on (j, i), so ticks name matrix indices; a reduced cell spans its block.
    extent = (-0.5, reduced.shape[1] * width - 0.5, reduced.shape[0] * height - 0.5, -0.5)
    image = axes.imshow(reduced, cmap=colour_map, vmin=-limit, vmax=limit, interpolation="nearest",
                        aspect="auto", extent=extent)
    axes.set_xlim(-0.5, columns - 0.5)
    axes.set_ylim(rows - 0.5, -0.5)
    for axis, size in ((axes.xaxis, columns), (axes.yaxis, rows)):
        axis.set_major_locator(FixedLocator(range(size)) if size <= SMALL else MaxNLocator(nbins=6, integer=True))
    if rows <= SMALL and columns <= SMALL:
        _write_entries(axes, matrix, limit)
    right_names = [name for name, _ in row_blocks] if row_blocks and len(row_blocks) > 1 else []
    figure.colorbar(image, cax=figure.add_axes(colour_bar_axes(max(map(len, right_names), default=0))))
    axes.set_xlabel(_axis_label(column_blocks))
    axes.set_ylabel(_axis_label(row_blocks) if row_blocks else f"{shorten(row_label, 40)} (index)")
    _mark_blocks(axes, column_blocks, "x")
    if row_blocks:
        _mark_blocks(axes, row_blocks, "y")
    shown = f"; shown {reduced.shape[0]}×{reduced.shape[1]}, largest |entry| per block" if (height, width) != (1, 1) else ""
    axes.set_title(f"{shorten(title, 80)}\n{rows}×{columns}, {describe_range(value_range)}{shown}", fontsize=10,
                   pad=22 if len(column_blocks) > 1 else 8)
    return figure


def figure_colour_map():
    """The diverging map, with NaN in black so that it cannot pass for a zero."""
    return colormaps[COLOUR_MAP].with_extremes(bad="black")


def shorten(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` characters with `` … `` in the middle, so both ends stay readable.

    The cut falls between words where a space is near, so the ellipsis never
    runs into a number (``w,….01``).

    >>> shorten("np.mean((predict(w, b) - labels) ** 2)", 20)
    'np.mean( … ** 2)'
    >>> shorten("np.mean((predict(w, b) - y) ** 2) + 0.01 * np.sum(w ** 2)", 40)
    'np.mean((predict(w … * np.sum(w ** 2)'
    """
    if len(text) <= width:
        return text
    head_end = (width - 3) // 2
    tail_start = len(text) - (width - 3 - head_end)
    space_before = text.rfind(" ", 0, head_end)
    space_after = text.find(" ", tail_start)
    if space_before > head_end // 2:
        head_end = space_before
    if 0 <= space_after < tail_start + (len(text) - tail_start) // 2:
        tail_start = space_after + 1
    return text[:head_end].rstrip() + " … " + text[tail_start:].lstrip()


def colour_bar_axes(right_name_length: int) -> tuple:
    """The colour bar's place: just right of the matrix, past the row blocks' names (this many characters)."""
    left, bottom, width, height = MATRIX_AXES
    gap = 0.02 + (0.03 + 0.011 * right_name_length if right_name_length else 0.0)
    return (left + width + gap, bottom, COLOUR_BAR_WIDTH, height)


def without_noise(matrix: numpy.ndarray, scale_of: numpy.ndarray | None = None) -> numpy.ndarray:
    """``matrix`` with entries below ``NOISE`` times the largest finite magnitude (and ``-0.0``) set to ``0.0``.

    The largest magnitude is ``matrix``'s own, or that of ``scale_of`` (the
    whole matrix, when ``matrix`` is one block of it).

    >>> without_noise(numpy.array([[0.25, 5.55e-17], [-0.0, numpy.nan]]))
    array([[0.25,  0.  ],
           [0.  ,   nan]])
    >>> without_noise(numpy.array([5.55e-17, 1e-16]), scale_of=numpy.array([0.5, 1e-16]))
    array([0., 0.])
    """
    limit = colour_limit(finite_range(matrix if scale_of is None else scale_of))
    with numpy.errstate(invalid="ignore"):
        return numpy.where(numpy.abs(matrix) < NOISE * limit, 0.0, matrix)


def entry_labels(matrix: numpy.ndarray, digits: int) -> numpy.ndarray:
    """Each entry as text with ``digits`` significant digits, noise written ``0`` (see :func:`without_noise`).

    >>> entry_labels(numpy.array([[0.25, 5.55e-17], [-0.0, -0.12345]]), 3)
    array([['0.25', '0'],
           ['0', '-0.123']], dtype='<U6')
    """
    return numpy.array([[f"{entry:.{digits}g}" for entry in row] for row in without_noise(matrix)])


def fitting_labels(matrix: numpy.ndarray, cell_size: tuple) -> tuple | None:
    """``(labels, font size)`` for the largest font, then the most digits (3, else 2), whose widest label fits a cell.

    ``cell_size`` is a cell's ``(width, height)`` in points; ``None`` when no label fits.

    >>> fitting_labels(numpy.array([[-0.00992]]), (50.0, 50.0))[1]
    8
    >>> fitting_labels(numpy.array([[-0.00992]]), (5.0, 50.0)) is None
    True
    """
    width, height = cell_size
    candidates = []
    for digits in (3, 2):
        labels = entry_labels(matrix, digits)
        # Text width grows with the font size: measure each distinct label once at one point.
        widest = max((TextPath((0, 0), label, size=1).get_extents().width for label in set(labels.flat)), default=0)
        candidates.append((labels, widest))
    for size in FONT_SIZES:
        for labels, widest in candidates:
            if widest * size <= 0.9 * width and 1.3 * size <= height:
                return labels, size
    return None


def _write_entries(axes, matrix: numpy.ndarray, limit: float) -> None:
    rows, columns = matrix.shape
    cell_size = (MATRIX_AXES[2] * FIGURE_SIZE[0] * 72 / columns, MATRIX_AXES[3] * FIGURE_SIZE[1] * 72 / rows)
    fitting = fitting_labels(matrix, cell_size)
    if fitting is None:
        return
    labels, size = fitting
    for (row, column), entry in numpy.ndenumerate(matrix):
        dark = numpy.isnan(entry) or abs(entry) > 0.6 * limit
        axes.text(column, row, labels[row, column], ha="center", va="center", fontsize=size,
                  color="white" if dark else "black")


def _axis_label(blocks: list) -> str:
    names = ", ".join(name for name, _ in blocks)
    return f"{'inputs' if len(blocks) > 1 else 'input'} {names} (index)"


def _mark_blocks(axes, blocks: list, direction: str) -> None:
    """Separator lines between blocks, and each block's name at its centre on the opposite side."""
    if len(blocks) < 2:
        return
    boundaries = numpy.cumsum([size for _, size in blocks])
    starts = numpy.concatenate([[0], boundaries[:-1]])
    centres = [(start + end - 1) / 2 for start, end in zip(starts, boundaries)]
    names = [name for name, _ in blocks]
    line = axes.axvline if direction == "x" else axes.axhline
    for boundary in boundaries[:-1]:
        line(boundary - 0.5, color="black", linewidth=1.2)
    if direction == "x":
        top = axes.secondary_xaxis("top")
        top.set_xticks(centres, names)
    else:
        right = axes.secondary_yaxis("right")
        right.set_yticks(centres, names)


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (rendered with Agg, no display needed), cropped to what is drawn.

    >>> figure_png(heatmap_figure(numpy.eye(3), title="I", row_label="y", column_blocks=[("x", 3)]))[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
