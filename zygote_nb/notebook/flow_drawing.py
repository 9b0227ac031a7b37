"""Pictures of a gradient flow, drawn with matplotlib into PNG bytes.

Three pictures: the graph laid out by depth with every box coloured by the
log10 norm of the gradient that reached it (:class:`GraphPicture`), the
"gradient flow" bar chart of norms by source line or by input
(:class:`GradientNormsPicture`), and one gradient's entries as a heatmap, bars
or a histogram (:class:`GradientPicture`).  Each keeps its figure between
updates: a replayed backward pass changes colours, bar lengths and image data,
not the layout, so the figure is cropped to what it draws once (when built)
and every later PNG costs one draw, or none when nothing visible changed.
Figures are made without pyplot, so drawing never touches the notebook's
current figure.  User text is drawn with ``parse_math=False``: a ``$`` in a
name stays a dollar sign.

>>> import zygote_nb.numpy as np
>>> from zygote_nb.flow import display_graph, trace_gradient
>>> flow = trace_gradient(lambda x: np.sum(np.exp(x)), np.array([0.0, 1.0]))
>>> graph = display_graph(flow)
>>> picture = GraphPicture(flow, graph)
>>> picture.png(graph)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
>>> picture.png(graph) is picture.png(graph)  # nothing changed, nothing redrawn
True
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib
import numpy
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from PIL import Image, PngImagePlugin

from ..flow import DisplayGraph, GradientFlow, GraphItem
from ..flow.statistics import as_host_array
from .heatmap import COLOUR_MAP as HEATMAP_COLOUR_MAP, shorten

NON_FINITE_COLOUR = "#d62728"
VANISHING_COLOUR = "#c7c7c7"
NO_GRADIENT_COLOUR = "#ffffff"
BAR_COLOUR = "#1f77b4"
COLOUR_MAP = "viridis"
LABELLED_ITEMS = 60
ENTRIES_AS_BARS = 64
OUTPUT_NAME_WIDTH = 28  # characters of the output's name under its box; a cell's whole source would run into its neighbours
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


def graph_positions(graph: DisplayGraph) -> list[tuple[float, float]]:
    """``(x, y)`` of every item: x the rank of its depth, y its place among the items of that depth."""
    ranks = {depth: rank for rank, depth in enumerate(sorted({item.depth for item in graph.items}))}
    columns: dict[int, list[int]] = {}
    for position, item in enumerate(graph.items):
        columns.setdefault(ranks[item.depth], []).append(position)
    coordinates: list = [None] * len(graph.items)
    for rank, positions in columns.items():
        for row, position in enumerate(positions):
            coordinates[position] = (float(rank), (len(positions) - 1) / 2 - row)
    return coordinates


def colour_scale(graph: DisplayGraph, vanishing: float) -> Normalize:
    """The log10 range of the finite, non-vanishing gradient norms (a unit range if there are none)."""
    logs = [math.log10(item.gradient_norm) for item in graph.items
            if item.finite and item.gradient_norm is not None and item.gradient_norm >= vanishing]
    low, high = (min(logs), max(logs)) if logs else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    return Normalize(low, high)


def item_colour(item: GraphItem, scale: Normalize, vanishing: float):
    if not item.finite:
        return NON_FINITE_COLOUR
    if item.gradient_norm is None:
        return NO_GRADIENT_COLOUR
    if item.gradient_norm < vanishing:
        return VANISHING_COLOUR
    return colormaps[COLOUR_MAP](scale(math.log10(item.gradient_norm)))


def graph_shape(graph: DisplayGraph) -> tuple:
    """What fixes the graph's layout: its boxes and edges (a replay changes neither)."""
    return tuple((item.key, item.label) for item in graph.items), tuple(graph.edges), graph.grouped


class GraphPicture:
    """The graph, depth left to right, colour = log10 gradient norm, red = NaN/Inf, grey = vanishing.

    Built for one shape of graph (:func:`graph_shape`); :meth:`png` recolours
    the boxes from a graph of that shape and rings the selected one.
    """

    def __init__(self, flow: GradientFlow, graph: DisplayGraph, vanishing: float = 1e-7):
        self.shape = graph_shape(graph)
        self.vanishing = vanishing
        self._shown: tuple | None = None
        self._png = b""
        positions = graph_positions(graph)
        columns = max((x for x, _ in positions), default=0) + 1
        rows = max((sum(1 for x, _ in positions if x == column) for column in range(int(columns))), default=1)
        figure = Figure(figsize=(min(14, 3.5 + 1.3 * columns), min(9, 2.2 + 0.45 * rows)))
        axes = figure.subplots()
        scale = colour_scale(graph, vanishing)
        axes.add_collection(LineCollection([(positions[start], positions[end]) for start, end in graph.edges],
                                           colors="#888888", linewidths=0.8, alpha=0.6, zorder=1))
        self._boxes, self._labels = [], []
        for position, item in enumerate(graph.items):
            x, y = positions[position]
            marker = "s" if item.is_input else ("D" if item.is_output else ("h" if item.is_group else "o"))
            self._boxes.append(axes.scatter([x], [y], s=260 if item.is_group else 170, marker=marker,
                                            color=[item_colour(item, scale, vanishing)], edgecolors="#444444",
                                            linewidths=0.8, zorder=3))
            label = item_label(flow, item)
            always = len(graph.items) <= LABELLED_ITEMS or item.is_input or item.is_output
            if label:
                # Past LABELLED_ITEMS boxes only the selected one is named; its label waits, hidden.
                self._labels.append((item.key, always, axes.annotate(
                    label, (x, y), xytext=(0, 11), textcoords="offset points", ha="center", fontsize=8,
                    parse_math=False, zorder=4, visible=always,
                    fontweight="bold" if item.is_input or item.is_output else "normal")))
            if item.is_output:
                axes.annotate(shorten(flow.output_name, OUTPUT_NAME_WIDTH), (x, y), xytext=(0, -11),
                              textcoords="offset points", ha="center", va="top", fontsize=8, parse_math=False,
                              zorder=4, fontweight="bold")
        axes.set_xlim(-0.6, columns - 0.2)
        low = min((y for _, y in positions), default=0)
        axes.set_ylim(low - 0.8, -low + 0.9)
        axes.set_axis_off()
        self._colours = ScalarMappable(scale, colormaps[COLOUR_MAP])
        colour_bar = figure.colorbar(self._colours, ax=axes, fraction=0.04, pad=0.02)
        colour_bar.set_label("log10 ‖gradient‖")
        axes.legend(handles=[
            Line2D([], [], marker="o", linestyle="", color=NON_FINITE_COLOUR, label="NaN / Inf"),
            Line2D([], [], marker="o", linestyle="", color=VANISHING_COLOUR, label=f"‖g‖ < {vanishing:g}"),
            Line2D([], [], marker="o", linestyle="", markerfacecolor=NO_GRADIENT_COLOUR, markeredgecolor="#444444",
                   label="no gradient"),
        ], loc="upper left", bbox_to_anchor=(0, -0.02), ncol=3, fontsize=8, frameon=False)
        title = f"{len(flow.operations)} operations" + (" grouped by source line" if graph.grouped else "")
        axes.set_title(title, fontsize=9, loc="left")
        self._canvas = fix_layout(figure)

    def png(self, graph: DisplayGraph, selected: str | None = None) -> bytes:
        """The picture for ``graph`` (of this picture's shape) with ``selected`` ringed, as PNG bytes."""
        scale = colour_scale(graph, self.vanishing)
        colours = [item_colour(item, scale, self.vanishing) for item in graph.items]
        shown = (tuple(map(str, colours)), scale.vmin, scale.vmax, selected)
        if shown == self._shown:
            return self._png
        self._colours.set_clim(scale.vmin, scale.vmax)
        for box, item, colour in zip(self._boxes, graph.items, colours):
            ringed = item.key == selected
            box.set_facecolor([colour])
            box.set_edgecolor("black" if ringed else "#444444")
            box.set_linewidth(2.5 if ringed else 0.8)
        for key, always, label in self._labels:
            label.set_visible(always or key == selected)
        self._shown, self._png = shown, canvas_png(self._canvas)
        return self._png


def item_label(flow: GradientFlow, item: GraphItem) -> str:
    """Inputs by name, other boxes by operation (the output's name goes under its box)."""
    if item.is_input:
        return flow.nodes[item.members[0]].name
    return item.label


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
