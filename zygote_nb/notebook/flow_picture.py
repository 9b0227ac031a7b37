"""The gradient-flow graph as an SVG picture, drawn from :func:`zygote_nb.flow.layout`, and as PNG.

Every box says what it is (the code that made it, the operation, the line)
and is filled by the log10 norm of the gradient that arrived at it, on a
scale of whole decades at least two wide (or the one the reader fixes).
The NaN/Inf origin is filled by what it *made* (red: a NaN or Inf), carries
``⚠`` and a dark border; hooks, ``showgrad``, groups, inputs and the output
have their own shapes; the legend under the graph explains every mark it draws (and no other).
Each box carries its source line and statistics as a ``<title>`` (the
tooltip), and ``data-key`` for the live view's clicks.  User text is
escaped, and nothing refers to an ``id``, so two pictures on one page never
share markers.  The PNG fallback is this SVG rasterised (:mod:`.flow_png`).

>>> import zygote_nb.numpy as np
>>> from zygote_nb.flow import display_graph, layout, trace_gradient
>>> flow = trace_gradient(lambda x: np.sum(np.log(x)), np.array([1.0, 0.0]))
>>> graph = display_graph(flow)
>>> svg = graph_svg(flow, graph, layout(graph))
>>> svg.startswith("<svg") and "⚠ np.log(…)" in svg and 'data-key="node 1"' in svg
True
"""

from __future__ import annotations

import math
from functools import lru_cache
from html import escape

from matplotlib import colormaps
from matplotlib.colors import to_hex, to_rgb

from ..flow import DisplayGraph, GradientFlow, GraphItem, GraphLayout
from ..flow.layout import CHARACTER_WIDTH, LINE_HEIGHT

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
COLOUR_MAP = "viridis"
NON_FINITE_COLOUR = "#d62728"
VANISHING_COLOUR = "#c7c7c7"
NO_GRADIENT_COLOUR = "#ffffff"
ORIGIN_BORDER = "#6b0000"
HOOK_BORDER = "#b15928"
SHOWGRAD_BORDER = "#6a3d9a"
SELECTED_BORDER = "#1f6fd1"
EDGE_COLOUR = "#555555"
MARK_COLOURS = (NON_FINITE_COLOUR, VANISHING_COLOUR, NO_GRADIENT_COLOUR, ORIGIN_BORDER, HOOK_BORDER, SHOWGRAD_BORDER,
                SELECTED_BORDER, EDGE_COLOUR, "#333333", "#eeeeee", "#000000")
MINIMUM_DECADES = 2
PAD = 10.0
TITLE_HEIGHT = 24.0
TITLE_SIZE = 12
LEGEND_ROW = 24.0
BAR_WIDTH, BAR_STEPS = 180.0, 36


def colour_scale(graph: DisplayGraph, vanishing: float, fixed: tuple[float, float] | None = None) -> tuple[int, int]:
    """The colour scale as whole log10 decades ``(low, high)``, at least two wide.

    ``fixed`` (two gradient norms) is taken as it is, widened to whole decades;
    otherwise the scale covers the finite, non-vanishing norms of the graph.

    >>> colour_scale(DisplayGraph([], [], False), 1e-7, fixed=(1e-3, 5.0))
    (-3, 1)
    """
    if fixed is not None:
        low, high = (math.log10(bound) for bound in sorted(fixed))
    else:
        logs = [math.log10(item.gradient_norm) for item in graph.items
                if item.finite and item.gradient_norm is not None and item.gradient_norm >= vanishing]
        low, high = (min(logs), max(logs)) if logs else (-1.0, 1.0)
    low, high = math.floor(low), math.ceil(high)
    missing = MINIMUM_DECADES - (high - low)
    if missing > 0:
        low, high = low - missing // 2, high + missing - missing // 2
    return low, high


def item_fill(item: GraphItem, scale: tuple[int, int], vanishing: float) -> str:
    """The box's colour: red for NaN/Inf made or arrived, grey when vanishing, white with no gradient."""
    if item.origin is not None or not item.finite:
        return NON_FINITE_COLOUR
    if item.gradient_norm is None:
        return NO_GRADIENT_COLOUR
    if item.gradient_norm < vanishing:
        return VANISHING_COLOUR
    return scale_colour(math.log10(item.gradient_norm), scale)


@lru_cache(maxsize=1)
def colour_table() -> tuple[str, ...]:
    """The colour map as 256 hex colours (``colormaps[name]`` builds a fresh copy on every look-up)."""
    colours = colormaps[COLOUR_MAP]
    return tuple(to_hex(colours(step / 255)) for step in range(256))


def scale_colour(decade: float, scale: tuple[int, int]) -> str:
    low, high = scale
    return colour_table()[round(255 * min(1.0, max(0.0, (decade - low) / (high - low))))]


def text_colour(fill: str) -> str:
    red, green, blue = to_rgb(fill)
    return "#000000" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "#ffffff"


def text_lines(lines, x: float, y: float, colour: str = "#000000", size: int = 11, bold_first: bool = False) -> str:
    """Lines of monospace text, the first baseline at ``y``."""
    parts = []
    for number, line in enumerate(lines):
        weight = ' font-weight="bold"' if bold_first and number == 0 else ""
        parts.append(f'<text x="{x:.1f}" y="{y + number * LINE_HEIGHT:.1f}" font-size="{size}"{weight} '
                     f'fill="{colour}" xml:space="preserve">{escape(line)}</text>')
    return "".join(parts)


def box_shape(kind: str, box, fill: str, origin: bool) -> str:
    """The box of one kind of item: its outline says what kind it is (see the legend)."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    stroke = f'stroke="{ORIGIN_BORDER}" stroke-width="3"' if origin else 'stroke="#333333" stroke-width="1.2"'
    if kind == "hook":
        cut = 6.0
        corners = [(x0 + cut, y0), (x1 - cut, y0), (x1, y0 + cut), (x1, y1 - cut), (x1 - cut, y1), (x0 + cut, y1),
                   (x0, y1 - cut), (x0, y0 + cut)]
        if not origin:
            stroke = f'stroke="{HOOK_BORDER}" stroke-width="2"'
        return f'<polygon points="{points_text(corners)}" fill="{fill}" {stroke}/>'
    rounding = {"input": 0.0, "showgrad": 10.0}.get(kind, 6.0)
    if kind == "showgrad" and not origin:
        stroke = f'stroke="{SHOWGRAD_BORDER}" stroke-width="2" stroke-dasharray="5 2"'
    shape = (f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{width:.1f}" height="{height:.1f}" rx="{rounding}" '
             f'fill="{fill}" {stroke}/>')
    if kind == "group":
        shape = (f'<rect x="{x0 + 3:.1f}" y="{y0 + 3:.1f}" width="{width:.1f}" height="{height:.1f}" rx="6" '
                 f'fill="#eeeeee" stroke="#333333" stroke-width="1"/>') + shape
    if kind == "output":
        shape += (f'<rect x="{x0 + 2.5:.1f}" y="{y0 + 2.5:.1f}" width="{width - 5:.1f}" height="{height - 5:.1f}" '
                  f'rx="4" fill="none" stroke="#333333" stroke-width="1"/>')
    return shape


def points_text(points) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def arrowhead(points) -> str:
    """A filled triangle with its tip at the polyline's end, along its last segment."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    dx, dy = (x1 - x0) / length, (y1 - y0) / length
    base_x, base_y = x1 - 8 * dx, y1 - 8 * dy
    corners = [(x1, y1), (base_x - 3.5 * dy, base_y + 3.5 * dx), (base_x + 3.5 * dy, base_y - 3.5 * dx)]
    return f'<polygon points="{points_text(corners)}" fill="{EDGE_COLOUR}"/>'


def node_tooltip(flow: GradientFlow, item: GraphItem) -> str:
    """What hovering a box shows: its source line, value and gradient statistics."""
    nodes = [flow.nodes[index] for index in item.members]
    first = nodes[0]
    lines = [" ".join(item.caption) if item.caption else item.label]
    if first.location is not None:
        lines.append(f"{first.location.place()}: {first.location.code}")
    if item.is_group:
        norm = "none" if item.gradient_norm is None else f"{item.gradient_norm:.4g}"
        lines.append(f"{len(nodes)} operations; combined gradient norm {norm}" + ("" if item.finite else " (NaN/Inf)"))
        return "\n".join(lines)
    lines.append("value: " + (first.value.describe() if first.value else "not numeric"))
    lines.append("gradient arriving: " + (first.gradient.describe() if first.gradient else "none"))
    if first.sent_back is not None:
        lines.append("gradient sent back: " + first.sent_back.describe())
    return "\n".join(lines)


def graph_svg(flow: GradientFlow, graph: DisplayGraph, picture: GraphLayout, selected: str | None = None,
              scale: tuple[int, int] | None = None, vanishing: float = 1e-7) -> str:
    """The whole picture as an SVG document: title, edges with arrowheads, boxes, legend."""
    scale = scale or colour_scale(graph, vanishing)
    parts = []
    for edge in picture.edges:
        dash = ' stroke-dasharray="4 3"' if edge.loop else ""
        parts.append(f'<polyline points="{points_text(edge.points)}" fill="none" stroke="{EDGE_COLOUR}" '
                     f'stroke-width="1.2"{dash}/>{arrowhead(edge.points)}')
    for item, node in zip(graph.items, picture.nodes):
        fill = item_fill(item, scale, vanishing)
        x0, y0, x1, y1 = node.box
        ring = ("visible" if item.key == selected else "hidden")
        parts.append(
            f'<g class="zygote-node" data-key="{escape(item.key)}" cursor="pointer">'
            f"<title>{escape(node_tooltip(flow, item))}</title>"
            f'<rect class="zygote-ring" x="{x0 - 4:.1f}" y="{y0 - 4:.1f}" width="{x1 - x0 + 8:.1f}" '
            f'height="{y1 - y0 + 8:.1f}" rx="8" fill="none" stroke="{SELECTED_BORDER}" stroke-width="2.5" '
            f'visibility="{ring}"/>'
            f"{box_shape(item.kind, node.box, fill, item.origin is not None)}"
            f"{text_lines(node.label.split(chr(10)), node.label_box[0], node.label_box[1] + 10.5, text_colour(fill), bold_first=True)}"
            "</g>")
    title = (f"{len(flow.operations)} operations" + (", grouped by source line" if graph.grouped else "")
             + " · fill: log10 ‖gradient arriving‖ · click a box for details")
    legend, legend_width, legend_height = legend_svg(scale, vanishing, marks_present(graph, picture, vanishing))
    title_width = len(title) * CHARACTER_WIDTH * TITLE_SIZE / 11  # the title is never cut off by a narrow graph
    width = max(picture.width, legend_width, title_width) + 2 * PAD
    height = TITLE_HEIGHT + picture.height + legend_height + 2 * PAD
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}">'
            f'<rect width="100%" height="100%" fill="#ffffff"/>'
            f"{text_lines([title], PAD, PAD + 10, size=TITLE_SIZE)}"
            f'<g transform="translate({PAD},{PAD + TITLE_HEIGHT})">{"".join(parts)}</g>'
            f'<g transform="translate({PAD},{PAD + TITLE_HEIGHT + picture.height + 8})">{legend}</g></svg>')


def marks_present(graph: DisplayGraph, picture: GraphLayout, vanishing: float) -> set[str]:
    """The marks the picture draws: its kinds of box, special fills, ``"origin"`` and ``"loop"`` (the legend explains only these)."""
    marks = {item.kind for item in graph.items}
    for item in graph.items:
        if item.origin is not None:
            marks.add("origin")
        if item.origin is not None or not item.finite:
            marks.add("NaN/Inf")
        elif item.gradient_norm is None:
            marks.add("no gradient")
        elif item.gradient_norm < vanishing:
            marks.add("vanishing")
    if any(edge.loop for edge in picture.edges):
        marks.add("loop")
    return marks


def legend_svg(scale: tuple[int, int], vanishing: float, marks: set[str]) -> tuple[str, float, float]:
    """The marks of the picture explained: the colour scale, then the special fills and shapes it uses. Returns (svg, width, height)."""
    low, high = scale
    parts = [text_lines(["‖gradient arriving‖"], 0, 12)]
    x = 21 * CHARACTER_WIDTH
    step = BAR_WIDTH / BAR_STEPS
    for number in range(BAR_STEPS):
        colour = scale_colour(low + (high - low) * (number + 0.5) / BAR_STEPS, scale)
        parts.append(f'<rect x="{x + number * step:.1f}" y="2" width="{step + 0.3:.1f}" height="12" fill="{colour}"/>')
    step = math.ceil((high - low) / 6)  # at most seven labels fit under the bar; both ends always have one
    for decade in [*range(low, high - step + 1, step), high]:
        tick = x + BAR_WIDTH * (decade - low) / (high - low)
        parts.append(f'<line x1="{tick:.1f}" y1="14" x2="{tick:.1f}" y2="18" stroke="#333333"/>')
        parts.append(f'<text x="{tick:.1f}" y="29" font-size="10" text-anchor="middle">1e{decade}</text>')
    x += BAR_WIDTH + 24
    fills = ((NON_FINITE_COLOUR, "NaN/Inf", "NaN/Inf"), (VANISHING_COLOUR, f"< {vanishing:g}", "vanishing"),
             (NO_GRADIENT_COLOUR, "no gradient", "no gradient"))
    for colour, words, mark in fills:
        if mark not in marks:
            continue
        parts.append(f'<rect x="{x:.1f}" y="2" width="14" height="12" fill="{colour}" stroke="#333333"/>')
        parts.append(text_lines([words], x + 18, 12))
        x += 18 + (len(words) + 2) * CHARACTER_WIDTH
    first_row_width = x
    samples = [("input", "input", "input"), ("operation", "operation", "operation"), ("output", "output", "output"),
               ("hook", "hook", "hook"), ("showgrad", "showgrad", "showgrad"), ("group", "one source line", "group"),
               ("operation", "⚠ first NaN/Inf made", "origin")]
    x, y = 0.0, 2 * LEGEND_ROW
    for kind, words, mark in samples:
        if mark not in marks:
            continue
        origin = mark == "origin"
        fill = NON_FINITE_COLOUR if origin else "#ffffff"
        parts.append(box_shape(kind, (x, y - 4, x + 22, y + 12), fill, origin))
        parts.append(text_lines([words], x + 28, y + 8))
        x += 28 + (len(words) + 2) * CHARACTER_WIDTH
    parts.append(f'<rect x="{x:.1f}" y="{y - 4:.1f}" width="22" height="16" rx="5" fill="none" '
                 f'stroke="{SELECTED_BORDER}" stroke-width="2.5"/>')
    parts.append(text_lines(["selected"], x + 28, y + 8))
    x += 28 + 10 * CHARACTER_WIDTH
    if "loop" in marks:
        parts.append(f'<line x1="{x:.1f}" y1="{y + 4:.1f}" x2="{x + 22:.1f}" y2="{y + 4:.1f}" stroke="{EDGE_COLOUR}" '
                     'stroke-width="1.2" stroke-dasharray="4 3"/>')
        parts.append(text_lines(["loop feeds an earlier line"], x + 28, y + 8))
        x += 28 + 27 * CHARACTER_WIDTH
    return "".join(parts), max(first_row_width, x), 2 * LEGEND_ROW + 16
