"""Charts of a gradient flow, drawn with matplotlib into PNG bytes (the graph itself is :mod:`.flow_picture`'s SVG).

Two charts: the "gradient flow" bar chart of norms by source line or by input
(:class:`GradientNormsPicture`), and one gradient's entries as a heatmap, bars
or a histogram (:class:`GradientPicture`).  Each keeps its figure between
updates: a replayed backward pass changes bar lengths and image data,
not the layout, so the figure is cropped to what it draws once (when built)
and every later PNG costs one draw, or none when nothing visible changed.
Figures are made without pyplot, so drawing never touches the notebook's
current figure.  User text is drawn with ``parse_math=False``: a ``$`` in a
name stays a dollar sign.

>>> picture = GradientNormsPicture({"line 1: y = x ** 2": 2.0, "line 2: np.sum(y)": 1.0}, "by line")
>>> picture.png({"line 1: y = x ** 2": 2.0, "line 2: np.sum(y)": 1.0})[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib
import numpy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image, PngImagePlugin

from ..flow.statistics import as_host_array
from .flow_picture import NON_FINITE_COLOUR
from .heatmap import COLOUR_MAP as HEATMAP_COLOUR_MAP, shorten

BAR_COLOUR = "#1f77b4"
ENTRIES_AS_BARS = 64
MARGIN = 0.1  # inches of white around what is drawn, as savefig(bbox_inches="tight") leaves
RIGHT_SLACK = 0.2  # inches more on the right: tick labels there grow and shrink as the gradients change


def fix_layout(figure: Figure) -> FigureCanvasAgg:
    """Crop ``figure`` to what it draws, once, by resizing it and moving its axes; returns its Agg canvas.

    A tight bounding box per PNG costs a second draw; the pictures here keep
    their labels between updates, so the crop is worked out when they are built.
    """
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    drawn = figure.get_tightbbox(canvas.get_renderer())
    old_width, old_height = figure.get_size_inches()
    width, height = drawn.width + 2 * MARGIN + RIGHT_SLACK, drawn.height + 2 * MARGIN
    for axes in figure.axes:
        box = axes.get_position(original=True)
        axes.set_position([(box.x0 * old_width - drawn.x0 + MARGIN) / width,
                           (box.y0 * old_height - drawn.y0 + MARGIN) / height,
                           box.width * old_width / width, box.height * old_height / height], which="both")
    figure.set_size_inches(width, height)
    return canvas


def canvas_png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas drawn as PNG bytes; its renderer, and the text layouts cached on it, are reused.

    Encoded by Pillow straight from the canvas's buffer (``print_png`` copies it first) at the
    lightest zlib level: the same pixels, a PNG about a tenth larger, in half the encoding time.
    It carries matplotlib's own ``Software`` text, as ``savefig`` writes it.
    """
    canvas.draw()
    metadata = PngImagePlugin.PngInfo()
    metadata.add_text("Software", f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/")
    buffer = io.BytesIO()
    Image.frombuffer("RGBA", canvas.get_width_height(physical=True), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
                     ).save(buffer, format="png", compress_level=1, pnginfo=metadata)
    return buffer.getvalue()


class GradientNormsPicture:
    """The "gradient flow" bar chart: one horizontal bar per label, log scale, NaN/Inf in red.

    Built for one list of labels and a title; :meth:`png` redraws the bars for new norms.
    """

    def __init__(self, norms: dict[str, float | None], title: str):
        self.labels, self.title = list(norms), title
        self._shown: tuple | None = None
        self._png = b""
        figure = Figure(figsize=(7.5, min(8, 1.2 + 0.32 * max(len(self.labels), 1))))
        self._axes = axes = figure.subplots()
        axes.set_xscale("log")
        axes.set_yticks(range(len(self.labels)))
        axes.set_yticklabels([shorten(label, 60) for label in self.labels], fontsize=8, parse_math=False)
        axes.invert_yaxis()
        axes.set_xlabel("‖gradient‖")
        axes.set_title(title, fontsize=9, loc="left")
        self._draw_bars(norms)
        self._canvas = fix_layout(figure)

    def png(self, norms: dict[str, float | None]) -> bytes:
        """The chart for ``norms`` (keyed by this chart's labels) as PNG bytes."""
        shown = tuple(norms.values())
        if shown != self._shown:
            self._draw_bars(norms)
            self._shown, self._png = shown, canvas_png(self._canvas)
        return self._png

    def _draw_bars(self, norms: dict[str, float | None]) -> None:
        axes = self._axes
        for artist in [*axes.patches, *axes.texts]:
            artist.remove()
        finite = [norm for norm in norms.values() if norm is not None and math.isfinite(norm) and norm > 0]
        ceiling = max(finite) * 3 if finite else 1.0
        floor = min(finite) / 3 if finite else 0.1
        for row, label in enumerate(self.labels):
            norm = norms[label]
            if norm is None:
                axes.text(floor, row, " no gradient", va="center", fontsize=8, color="#666666")
                continue
            broken = not math.isfinite(norm)
            width = ceiling if broken else max(norm, floor)
            axes.barh(row, width - floor, left=floor, color=NON_FINITE_COLOUR if broken else BAR_COLOUR)
            if broken:
                axes.text(floor, row, " NaN" if math.isnan(norm) else " Inf", va="center", fontsize=8, color="white")
        axes.relim()
        axes.autoscale_view(scalex=False)
        axes.set_xlim(floor, ceiling)


def gradient_entries(gradient: Any) -> numpy.ndarray | None:
    """The gradient as real float64 entries (magnitudes of complex ones); ``None`` for a scalar or no array."""
    array = as_host_array(gradient)
    if array is None or array.size <= 1:
        return None
    return numpy.abs(array) if array.dtype.kind == "c" else array.astype(numpy.float64)


def gradient_kind(array: numpy.ndarray) -> str:
    """How a gradient is drawn: ``matrix`` (a heatmap), ``entries`` (a bar each) or ``histogram``."""
    if array.ndim == 2 and numpy.isfinite(array).any():
        return "matrix"
    return "entries" if array.ndim == 1 and array.size <= ENTRIES_AS_BARS else "histogram"


class GradientPicture:
    """One gradient's entries: a 2-D gradient as a heatmap centred on zero, a short vector entry by entry,
    any other array as a histogram.  The figure is kept while the kind, shape and title stay the same.

    >>> picture = GradientPicture()
    >>> picture.png(numpy.array([[1.0, -2.0], [0.5, 0.0]]), "J")[:4], picture.png(numpy.float64(3.0), "s")
    (b'\\x89PNG', None)
    """

    def __init__(self):
        self._built: tuple | None = None
        self._shown: numpy.ndarray | None = None
        self._png = b""

    def png(self, gradient: Any, title: str) -> bytes | None:
        """The picture of ``gradient`` titled ``title`` as PNG bytes; ``None`` for a scalar."""
        array = gradient_entries(gradient)
        if array is None:
            return None
        finite = array[numpy.isfinite(array)]
        non_finite = array.size - finite.size
        title += f" ({non_finite} NaN/Inf not shown)" if non_finite else ""
        built = (gradient_kind(array), array.shape, title)
        if built == self._built and numpy.array_equal(array, self._shown, equal_nan=True):
            return self._png
        if built != self._built:
            self._build(*built)
        kind, axes = built[0], self._axes
        if kind == "matrix":
            limit = float(numpy.abs(finite).max()) or 1.0
            self._image.set_data(numpy.where(numpy.isfinite(array), array, numpy.nan))
            self._image.set_norm(TwoSlopeNorm(0.0, -limit, limit))
        else:
            if kind == "entries":
                for bar, entry in zip(axes.patches, array):
                    bar.set_height(entry if numpy.isfinite(entry) else 0.0)
                    bar.set_color(BAR_COLOUR if numpy.isfinite(entry) else NON_FINITE_COLOUR)
            else:
                for bar in list(axes.patches):
                    bar.remove()
                axes.hist(finite, bins=min(40, max(5, finite.size // 2)), color=BAR_COLOUR)
            axes.relim()
            axes.autoscale_view()
        if built != self._built:
            self._canvas, self._built = fix_layout(axes.figure), built
        self._shown, self._png = array, canvas_png(self._canvas)
        return self._png

    def _build(self, kind: str, shape: tuple, title: str) -> None:
        figure = Figure(figsize=(4.2, 2.8))
        self._axes = axes = figure.subplots()
        if kind == "matrix":
            self._image = axes.imshow(numpy.zeros(shape), cmap=HEATMAP_COLOUR_MAP, norm=TwoSlopeNorm(0.0, -1.0, 1.0),
                                      aspect="auto", interpolation="nearest")
            figure.colorbar(self._image, ax=axes)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
            axes.set_xlabel("column")
            axes.set_ylabel("row")
        elif kind == "entries":
            axes.bar(numpy.arange(shape[0]), numpy.zeros(shape[0]), color=BAR_COLOUR)
            axes.axhline(0.0, color="#444444", linewidth=0.6)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.set_xlabel("index")
            axes.set_ylabel("gradient")
        else:
            axes.set_xlabel("gradient entry")
            axes.set_ylabel("count")
        axes.set_title(title, fontsize=8, loc="left")
        axes.title.set_parse_math(False)
