"""Pictures of a gradient flow, drawn with matplotlib into PNG bytes.

Three pictures: the graph laid out by depth with every box coloured by the
log10 norm of the gradient that reached it (:func:`draw_graph`), the
"gradient flow" bar chart of norms by source line or by input
(:func:`draw_gradient_norms`), and one gradient's entries as a heatmap or a
histogram (:func:`draw_gradient`).  Figures are made without pyplot, so
drawing never touches the notebook's current figure.  User text is drawn
with ``parse_math=False``: a ``$`` in a name stays a dollar sign.

>>> import zygote_nb.numpy as np
>>> from zygote_nb.flow import display_graph, trace_gradient
>>> flow = trace_gradient(lambda x: np.sum(np.exp(x)), np.array([0.0, 1.0]))
>>> draw_graph(flow, display_graph(flow))[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..flow import DisplayGraph, GradientFlow, GraphItem
from ..flow.statistics import as_host_array
from .heatmap import figure_png, shorten

NON_FINITE_COLOUR = "#d62728"
VANISHING_COLOUR = "#c7c7c7"
NO_GRADIENT_COLOUR = "#ffffff"
COLOUR_MAP = "viridis"
LABELLED_ITEMS = 60
ENTRIES_AS_BARS = 64
OUTPUT_NAME_WIDTH = 28  # characters of the output's name under its box; a cell's whole source would run into its neighbours


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


def draw_graph(flow: GradientFlow, graph: DisplayGraph, selected: str | None = None,
               vanishing: float = 1e-7) -> bytes:
    """The graph as a PNG: depth left to right, colour = log10 gradient norm, red = NaN/Inf, grey = vanishing."""
    positions = graph_positions(graph)
    columns = max((x for x, _ in positions), default=0) + 1
    rows = max((sum(1 for x, _ in positions if x == column) for column in range(int(columns))), default=1)
    figure = Figure(figsize=(min(14, 3.5 + 1.3 * columns), min(9, 2.2 + 0.45 * rows)))
    axes = figure.subplots()
    scale = colour_scale(graph, vanishing)
    axes.add_collection(LineCollection([(positions[start], positions[end]) for start, end in graph.edges],
                                       colors="#888888", linewidths=0.8, alpha=0.6, zorder=1))
    for position, item in enumerate(graph.items):
        x, y = positions[position]
        marker = "s" if item.is_input else ("D" if item.is_output else ("h" if item.is_group else "o"))
        selected_item = item.key == selected
        axes.scatter([x], [y], s=260 if item.is_group else 170, marker=marker, color=[item_colour(item, scale, vanishing)],
                     edgecolors="black" if selected_item else "#444444", linewidths=2.5 if selected_item else 0.8,
                     zorder=3)
        label = item_label(flow, item)
        if label and (len(graph.items) <= LABELLED_ITEMS or item.is_input or item.is_output or selected_item):
            axes.annotate(label, (x, y), xytext=(0, 11), textcoords="offset points", ha="center", fontsize=8,
                          parse_math=False, zorder=4,
                          fontweight="bold" if item.is_input or item.is_output else "normal")
        if item.is_output:
            axes.annotate(shorten(flow.output_name, OUTPUT_NAME_WIDTH), (x, y), xytext=(0, -11),
                          textcoords="offset points", ha="center", va="top", fontsize=8, parse_math=False,
                          zorder=4, fontweight="bold")
    axes.set_xlim(-0.6, columns - 0.2)
    low = min((y for _, y in positions), default=0)
    axes.set_ylim(low - 0.8, -low + 0.9)
    axes.set_axis_off()
    colour_bar = figure.colorbar(ScalarMappable(scale, colormaps[COLOUR_MAP]), ax=axes, fraction=0.04, pad=0.02)
    colour_bar.set_label("log10 ‖gradient‖")
    axes.legend(handles=[
        Line2D([], [], marker="o", linestyle="", color=NON_FINITE_COLOUR, label="NaN / Inf"),
        Line2D([], [], marker="o", linestyle="", color=VANISHING_COLOUR, label=f"‖g‖ < {vanishing:g}"),
        Line2D([], [], marker="o", linestyle="", markerfacecolor=NO_GRADIENT_COLOUR, markeredgecolor="#444444",
               label="no gradient"),
    ], loc="upper left", bbox_to_anchor=(0, -0.02), ncol=3, fontsize=8, frameon=False)
    title = f"{len(flow.operations)} operations" + (" grouped by source line" if graph.grouped else "")
    axes.set_title(title, fontsize=9, loc="left")
    return figure_png(figure)


def item_label(flow: GradientFlow, item: GraphItem) -> str:
    """Inputs by name, other boxes by operation (the output's name goes under its box)."""
    if item.is_input:
        return flow.nodes[item.members[0]].name
    return item.label


def draw_gradient_norms(norms: dict[str, float | None], title: str) -> bytes:
    """The "gradient flow" bar chart: one horizontal bar per label, log scale, NaN/Inf in red."""
    labels = list(norms)
    finite = [norm for norm in norms.values() if norm is not None and math.isfinite(norm) and norm > 0]
    ceiling = max(finite) * 3 if finite else 1.0
    floor = min(finite) / 3 if finite else 0.1
    figure = Figure(figsize=(7.5, min(8, 1.2 + 0.32 * max(len(labels), 1))))
    axes = figure.subplots()
    for row, label in enumerate(labels):
        norm = norms[label]
        if norm is None:
            axes.text(floor, row, " no gradient", va="center", fontsize=8, color="#666666")
            continue
        broken = not math.isfinite(norm)
        width = ceiling if broken else max(norm, floor)
        axes.barh(row, width - floor, left=floor, color=NON_FINITE_COLOUR if broken else "#1f77b4")
        if broken:
            axes.text(floor, row, " NaN" if math.isnan(norm) else " Inf", va="center", fontsize=8, color="white")
    axes.set_xscale("log")
    axes.set_xlim(floor, ceiling)
    axes.set_yticks(range(len(labels)))
    axes.set_yticklabels([shorten(label, 60) for label in labels], fontsize=8, parse_math=False)
    axes.invert_yaxis()
    axes.set_xlabel("‖gradient‖")
    axes.set_title(title, fontsize=9, loc="left")
    return figure_png(figure)


def draw_gradient(gradient: Any, title: str) -> bytes | None:
    """A 2-D gradient as a heatmap centred on zero, a short vector entry by entry, any other array as a
    histogram; ``None`` for a scalar."""
    array = as_host_array(gradient)
    if array is None or array.size <= 1:
        return None
    array = numpy.abs(array) if array.dtype.kind == "c" else array.astype(numpy.float64)
    figure = Figure(figsize=(4.2, 2.8))
    axes = figure.subplots()
    finite = array[numpy.isfinite(array)]
    if array.ndim == 2 and finite.size:
        limit = float(numpy.abs(finite).max()) or 1.0
        image = axes.imshow(numpy.where(numpy.isfinite(array), array, numpy.nan), cmap="RdBu_r",
                            norm=TwoSlopeNorm(0.0, -limit, limit), aspect="auto", interpolation="nearest")
        figure.colorbar(image, ax=axes)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("column")
        axes.set_ylabel("row")
    elif array.ndim == 1 and array.size <= ENTRIES_AS_BARS:
        axes.bar(numpy.arange(array.size), numpy.where(numpy.isfinite(array), array, 0.0),
                 color=[NON_FINITE_COLOUR if not numpy.isfinite(entry) else "#1f77b4" for entry in array])
        axes.axhline(0.0, color="#444444", linewidth=0.6)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("index")
        axes.set_ylabel("gradient")
    else:
        axes.hist(finite, bins=min(40, max(5, finite.size // 2)), color="#1f77b4")
        axes.set_xlabel("gradient entry")
        axes.set_ylabel("count")
    non_finite = array.size - finite.size
    axes.set_title(title + (f" ({non_finite} NaN/Inf not shown)" if non_finite else ""), fontsize=8, loc="left")
    axes.title.set_parse_math(False)
    return figure_png(figure)

