"""The gradient-flow view: a recorded :class:`~zygote_nb.flow.GradientFlow` as widgets.

:class:`FlowView` shows the graph (:mod:`.flow_picture`'s SVG, laid out by
:func:`zygote_nb.flow.layout`, in the touchable :class:`.flow_graph.FlowGraph`:
clicking a box selects it, hovering shows its statistics), a banner naming
where NaN or Inf first appeared, a list of the operations (selecting one, here
or in the picture, shows its source line, value and gradient summaries, what a
NaN/Inf origin sent back, and a picture of its gradient),
the "gradient flow" bar chart, and one control per hook: moving a slider or
switching a hook off changes the hook's transform object and replays the
backward pass over the recorded operations (the forward pass does not run
again).

Outside a widget front end (nbconvert, GitHub, a docs page) the view's
display bundle also carries the graph as SVG inside its HTML (each picture stored once; a PNG
for front ends that show no HTML) and a text
summary, in an HTML form where every user string is escaped.

A recording keeps every intermediate value alive, so when a ``%%gradient``
cell runs again its older view gives up its recording, and only the newest
:data:`LIVE_RECORDINGS` cells' views keep theirs (:func:`retire_older_views`);
a released view keeps its picture and text, says that its recording was
released, and disables its controls.

>>> import zygote_nb.numpy as np
>>> from zygote_nb.flow import trace_gradient
>>> view = FlowView(trace_gradient(lambda x: np.sum(np.log(x)), np.array([1.0, 0.0])))
>>> sorted(view._repr_mimebundle_())
['application/vnd.jupyter.widget-view+json', 'image/png', 'text/html', 'text/plain']
"""

from __future__ import annotations

import base64
import html
import re
import weakref
from typing import Callable

import ipywidgets as widgets

from ..flow import GROUP_THRESHOLD, DisplayGraph, GradientFlow, GraphItem, GraphLayout, display_graph, gradient_norms, layout
from ..flow.reports import tunable_parameters
from ..flow.text import describe_hook
from .flow_drawing import GradientNormsPicture, GradientPicture
from .flow_graph import FlowGraph
from .flow_picture import colour_scale, graph_svg
from .flow_png import svg_png

LIVE_RECORDINGS = 4  # views of different cells that keep their recordings (each holds every intermediate array)

_EMPTY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


MINIMUM_ZOOM = 0.8  # flow_graph.js's floor too: smaller, the 11-unit labels cannot be read
# The operation list keeps a readable width; the details take the rest and wrap inside it.
PANEL_LAYOUTS = {"list": {"flex": "0 0 auto", "width": "44%", "min_width": "320px", "margin": "0 12px 0 0"},
                 "details": {"flex": "1 1 0", "min_width": "0", "padding": "0 0 0 8px"}}


class FlowView(widgets.VBox):
    """Widgets showing one gradient flow; ``on_replay(callback)`` hears of every replayed backward pass.

    ``vanishing`` is the gradient norm below which a box is greyed;
    ``group_threshold`` the number of operations above which they are grouped
    by source line; ``colour_range``, two gradient norms such as ``(1e-6, 1.0)``,
    fixes the colour scale (by default it covers the graph's norms, widened to
    at least two whole decades).
    """

    def __init__(self, flow: GradientFlow, vanishing: float = 1e-7, group_threshold: int = GROUP_THRESHOLD,
                 colour_range: tuple[float, float] | None = None):
        self.flow = flow
        self.vanishing = vanishing
        self.colour_range = colour_range
        self.released = False
        self._layout: tuple[tuple, GraphLayout] | None = None
        self._drawn_selection: str | None = None
        self.group_threshold = group_threshold
        self.expanded: frozenset = frozenset()
        self._refreshing = False
        self._replay_listeners: list[Callable[[GradientFlow], None]] = []
        # Kept between updates, so that a replay recolours and redraws them instead of building them anew.
        self._norms_pictures: dict[str, GradientNormsPicture] = {}
        self._gradient_picture = GradientPicture()
        self.banner = widgets.HTML()
        self.report_list = widgets.HTML()
        self.graph_picture = FlowGraph()
        self.node_list = widgets.Select(description="operation", rows=8, layout=widgets.Layout(width="100%"),
                                        style={"description_width": "initial"})
        # The list takes what the button leaves: the button is never pushed under the details beside it.
        self.group_list = widgets.Dropdown(description="group", style={"description_width": "initial"},
                                           layout=widgets.Layout(flex="1 1 auto", width="auto", min_width="0"))
        self.expand_button = widgets.Button(description="expand group", icon="expand",
                                            layout=widgets.Layout(flex="0 0 auto", width="auto"))
        self.details = widgets.HTML()
        self.gradient_image = widgets.Image(format="png", layout=widgets.Layout(display="none", width="380px"))
        self.hook_controls = widgets.VBox()
        # The charts are drawn by matplotlib, which costs more than the whole view: only when asked for.
        self._gradient_wanted = False
        self.layer_choice = widgets.ToggleButtons(options=[("off", "off"), ("by source line", "line"),
                                                           ("by input", "input")],
                                                  description="gradient flow", style={"description_width": "initial"})
        self.layer_image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        for widget, name in ((self, "zygote-flow"), (self.banner, "zygote-flow-banner"), (self.report_list, "zygote-flow-reports"),
                             (self.graph_picture, "zygote-flow-graph"), (self.node_list, "zygote-flow-nodes"),
                             (self.details, "zygote-flow-details"), (self.hook_controls, "zygote-flow-hooks"),
                             (self.layer_image, "zygote-flow-layers")):
            widget.add_class(name)
        self.node_list.observe(self._show_selected, "value")
        self.graph_picture.observe(self._select_clicked, "selected")
        self.expand_button.on_click(self._toggle_group)
        self.group_list.observe(self._label_expand_button, "value")
        self.layer_choice.observe(lambda _: self._draw_layers(), "value")
        self._build_hook_controls()
        grouping = widgets.HBox([self.group_list, self.expand_button], layout=widgets.Layout(width="100%"))
        super().__init__([
            self.banner, self.report_list, self.graph_picture,
            widgets.HBox([widgets.VBox([self.node_list, grouping], layout=widgets.Layout(**PANEL_LAYOUTS["list"])),
                          widgets.VBox([self.details, self.gradient_image], layout=widgets.Layout(**PANEL_LAYOUTS["details"]))]),
            self.hook_controls, self.layer_choice, self.layer_image,
        ])
        self.refresh()

    def on_replay(self, callback: Callable[[GradientFlow], None]) -> None:
        """Call ``callback(flow)`` after every backward pass that a control replays."""
        self._replay_listeners.append(callback)

    def replay(self) -> None:
        """Replay the backward pass (after a hook changed) and redraw everything."""
        self.flow.replay()
        for listener in self._replay_listeners:
            listener(self.flow)
        self.refresh()

    def refresh(self) -> None:
        """Redraw the banner, graph, operation list, details and bar chart from the flow as it is."""
        self.graph = display_graph(self.flow, self.group_threshold, self.expanded)
        self.banner.value = banner_html(self.flow) + (RELEASED_NOTE if self.released else "")
        self.report_list.value = reports_html(self.flow)
        selected = self.node_list.value
        options = [(item_option(self.flow, item), item.key) for item in self.graph.items]
        keys = [key for _, key in options]
        self._refreshing = True
        try:
            self.node_list.options = options
            self.node_list.value = selected if selected in keys else self._default_selection()
        finally:
            self._refreshing = False
        groups = [(item_option(self.flow, item), item.key) for item in self.graph.items if item.is_group]
        groups += [(f"{key.removeprefix('line ')} (expanded)", key) for key in sorted(self.expanded)]
        chosen = self.group_list.value
        self.group_list.options = groups
        group_keys = [key for _, key in groups]
        self.group_list.value = chosen if chosen in group_keys else (group_keys[0] if group_keys else None)
        self.group_list.layout.display = "flex" if groups else "none"
        self.expand_button.layout.display = "flex" if groups else "none"
        self._label_expand_button()
        self._update_hook_readouts()
        self._draw_graph()
        self._show_selected()
        self._draw_layers()

    def select(self, key: str) -> None:
        """Select a box of the drawing by its key (``node 3`` or ``line <file>:<n>``)."""
        self.node_list.value = key

    def _default_selection(self) -> str | None:
        origin = self.flow.backward_origin or self.flow.forward_origin
        if origin is not None:
            return next(item.key for item in self.graph.items if origin.node in item.members)
        return self.graph.items[0].key if self.graph.items else None

    def _selected_item(self) -> GraphItem | None:
        return next((item for item in self.graph.items if item.key == self.node_list.value), None)

    def graph_svg(self) -> str:
        """The graph as it is now drawn, selection ringed, as an SVG document."""
        shape = graph_shape(self.graph)
        if self._layout is None or self._layout[0] != shape:
            self._layout = shape, layout(self.graph)
        return graph_svg(self.flow, self.graph, self._layout[1], self.node_list.value,
                         colour_scale(self.graph, self.vanishing, self.colour_range), self.vanishing)

    def release(self) -> None:
        """Give up the recording (the memory of every intermediate array); the picture and text stay, controls stop."""
        self.flow.release()
        self.released = True
        self._replay_listeners.clear()  # they hold the cell's result, and with it a gradient per input
        self._gradient_picture = GradientPicture()
        for control in self._hook_controls_list:
            control.disabled = True
        self.banner.value = banner_html(self.flow) + RELEASED_NOTE

    def _draw_graph(self) -> None:
        self._drawn_selection = self.node_list.value
        self.graph_picture.svg = self.graph_svg()
        self.graph_picture.selected = self.node_list.value or ""

    def _select_clicked(self, change) -> None:
        if any(item.key == change["new"] for item in self.graph.items):
            self.node_list.value = change["new"]

    def _draw_layers(self) -> None:
        by = self.layer_choice.value
        self.layer_image.layout.display = "none" if by == "off" else "block"
        if by == "off":
            return
        norms = gradient_norms(self.flow, by)
        picture = self._norms_pictures.get(by)
        if picture is None or picture.labels != list(norms):
            title = "gradient norm by source line" if by == "line" else "gradient norm by input"
            picture = self._norms_pictures[by] = GradientNormsPicture(norms, title)
        self.layer_image.value = picture.png(norms)

    def _show_selected(self, change=None) -> None:
        if self._refreshing:
            return
        item = self._selected_item()
        self.details.value = item_details_html(self.flow, item) if item is not None else ""
        self._gradient_wanted = self._gradient_wanted or change is not None
        picture = None
        if item is not None and len(item.members) == 1 and self._gradient_wanted and not self.released:
            node = self.flow.nodes[item.members[0]]
            title = f"gradient arriving at #{node.index} {node.name}"
            picture = self._gradient_picture.png(node.gradient_array, title)
        self.gradient_image.value = picture or _EMPTY_PNG
        self.gradient_image.layout.display = "block" if picture else "none"
        if change is not None:
            self.graph_picture.selected = self.node_list.value or ""

    def _toggle_group(self, _button=None) -> None:
        key = self.group_list.value
        if key is None:
            return
        self.expanded = self.expanded - {key} if key in self.expanded else self.expanded | {key}
        self.refresh()

    def _label_expand_button(self, _change=None) -> None:
        expanded = self.group_list.value in self.expanded
        self.expand_button.description = "collapse group" if expanded else "expand group"

    def _build_hook_controls(self) -> None:
        rows = []
        self._hook_readouts = []
        self._hook_controls_list: list = []
        uses: dict[int, list] = {}  # one transform hooked in a loop is one control, not one per iteration
        for node in self.flow.hooks:
            uses.setdefault(id(node.hook), []).append(node)
        for nodes in uses.values():
            node = nodes[0]
            where = node.location.place() if node.location else "hook"
            where += f" ({len(nodes)} uses)" if len(nodes) > 1 else ""
            switch = widgets.Checkbox(value=bool(getattr(node.hook, "enabled", True)), description="on",
                                      indent=False, layout=widgets.Layout(width="4em"))
            controls: list = [widgets.HTML(f"<b>{html.escape(where)}</b>")]
            if hasattr(node.hook, "enabled"):
                switch.observe(self._hook_setter(node.hook, "enabled"), "value")
                controls.append(switch)
                self._hook_controls_list.append(switch)
            for name, value in tunable_parameters(node.hook).items():
                slider = widgets.FloatSlider(value=value, min=_slider_minimum(value), max=_slider_maximum(value),
                                             step=_slider_maximum(value) / 200, description=name,
                                             continuous_update=False, readout_format=".3g")
                slider.add_class("zygote-flow-hook-slider")
                slider.observe(self._hook_setter(node.hook, name), "value")
                controls.append(slider)
                self._hook_controls_list.append(slider)
            readout = widgets.HTML()
            self._hook_readouts.append((nodes, readout))
            rows.append(widgets.VBox([widgets.HBox(controls), readout]))
        self.hook_controls.children = ([widgets.HTML("<b>hooks</b> (changing one replays the backward pass)")] + rows
                                       if rows else [])

    def _hook_setter(self, transform, attribute: str) -> Callable:
        def set_and_replay(change) -> None:
            setattr(transform, attribute, change["new"])
            self.replay()

        return set_and_replay

    def _update_hook_readouts(self) -> None:
        for nodes, readout in self._hook_readouts:
            first = f"first use: {describe_hook(nodes[0])}" if len(nodes) > 1 else describe_hook(nodes[0])
            readout.value = f"<code>{html.escape(first)}</code>"

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs)
        drawn = self._drawn_selection == self.node_list.value  # the live picture's SVG rings the same box
        bundle.update(static_bundle(self.flow, self.graph_picture.svg if drawn else self.graph_svg()))
        return bundle


RELEASED_NOTE = ('<div class="zygote-flow-released" style="color:#666">This older view gave up its recording to '
                 "save memory (a newer run of the cell has its own): its picture and text stay, its controls are "
                 "off. Run the cell again to explore it.</div>")


def graph_shape(graph: DisplayGraph) -> tuple:
    """What fixes the graph's layout: its boxes, their captions and its edges (a replay usually changes none)."""
    return tuple((item.key, item.caption) for item in graph.items), tuple(graph.edges), graph.grouped


_live_views: list = []  # (weak reference to a view the magics showed, its cell), oldest first


def release_views_of(cell: str) -> None:
    """Release the live views of ``cell`` (before it runs again, so that two recordings of it never coexist)."""
    for reference, key in _live_views:
        if key == cell and reference() is not None:
            reference().release()


def retire_older_views(view: FlowView, cell: str) -> None:
    """A new view of ``cell``: older views of the same cell, and all but the newest :data:`LIVE_RECORDINGS`, release."""
    kept = []
    for reference, key in _live_views:
        older = reference()
        if older is None or older.released:
            continue
        if key == cell:
            older.release()
        else:
            kept.append((reference, key))
    kept.append((weakref.ref(view), cell))
    for reference, _ in kept[:-LIVE_RECORDINGS]:
        reference().release()
    _live_views[:] = kept[-LIVE_RECORDINGS:]


def static_bundle(flow: GradientFlow, svg: str) -> dict:
    """The view without widgets: escaped HTML holding the SVG graph and the text, a PNG of the graph, the text.

    The SVG is stored only inside the HTML (which every notebook front end and the docs show) and
    the PNG only on its own, so that a saved notebook carries each picture once.
    """
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    summary = flow.summary()
    width = float(re.search(r'width="([\d.]+)"', svg).group(1))
    # Shrunk to a narrow page (the docs) but, as in the live view, never below 80%: past that it scrolls.
    page = (f'<div class="zygote-flow-static">{banner_html(flow)}{reports_html(flow)}'
            f'<div style="overflow-x:auto"><img src="data:image/svg+xml;base64,{encoded}" alt="gradient flow graph" '
            f'style="width:100%;max-width:{width:.0f}px;min-width:{MINIMUM_ZOOM * width:.0f}px"/></div>'
            # The text repeats the picture line by line (long for a long chain): folded, one click away.
            f'<details><summary>the graph as text</summary><pre style="overflow-x:auto">{html.escape(summary)}</pre>'
            "</details></div>")
    png = base64.b64encode(svg_png(svg)).decode("ascii")
    return {"image/png": png, "text/plain": summary, "text/html": page}


def banner_html(flow: GradientFlow) -> str:
    """Red lines naming the first NaN/Inf of each pass, or a quiet line saying there was none."""
    origins = [origin for origin in (flow.forward_origin, flow.backward_origin) if origin is not None]
    if not origins:
        return '<div style="color:#2b7a3d">no NaN or Inf in the forward or backward pass</div>'
    lines = "".join(f"<div>⚠ {html.escape(origin.describe())}</div>" for origin in origins)
    return ('<div class="zygote-flow-alarm" style="background:#fdecea;border-left:4px solid #d62728;'
            f'padding:4px 8px;color:#8a1c1c">{lines}</div>')


def reports_html(flow: GradientFlow) -> str:
    """The showgrad reports of the latest backward pass, each with its source line."""
    if not flow.reports:
        return ""
    lines = "".join(f"<div><code>{html.escape(str(report))}</code> "
                    f"<span style='color:#666'>({html.escape(_report_place(flow, report))})</span></div>"
                    for report in flow.reports)
    return f"<div><b>showgrad</b>{lines}</div>"


def _report_place(flow: GradientFlow, report) -> str:
    node = next((node for node in flow.operations if report in node.reports), None)
    return node.location.place() if node is not None and node.location is not None else f"line {report.line}"


def item_option(flow: GradientFlow, item: GraphItem) -> str:
    """The operation list's line for a box: ``#3 log · cell line 2 · ‖g‖ 0.5``."""
    first = flow.nodes[item.members[0]]
    norm = "‖g‖ none" if item.gradient_norm is None else f"‖g‖ {item.gradient_norm:.3g}"
    if not item.finite:
        norm = "‖g‖ NaN/Inf"
    if item.is_group:
        where = first.location.place() if first.location else "?"
        return f"{where}: {item.label} ({len(item.members)} operations) · {norm}"
    where = f" · {first.location.place()}" if first.location else ""
    role = " (output)" if first.is_output else ""
    return f"#{first.index} {first.name}{role}{where} · {norm}"


def item_details_html(flow: GradientFlow, item: GraphItem) -> str:
    """The selected box: source line, shapes, value and gradient summaries, hook and showgrad reports."""
    nodes = [flow.nodes[index] for index in item.members]
    first = nodes[0]
    rows = []
    if first.location is not None:
        rows.append(("source", f"{html.escape(first.location.place())}: <code>{html.escape(first.location.code)}</code>"))
    if item.is_group:
        rows.append(("operations", html.escape(f"{len(nodes)}: {item.label}")))
        norm = "none" if item.gradient_norm is None else f"{item.gradient_norm:.4g}"
        rows.append(("gradient norm", html.escape(norm + ("" if item.finite else " (NaN/Inf)"))))
    else:
        if first.input_shapes:
            shapes = ", ".join(f"{shape} {dtype}" for shape, dtype in zip(first.input_shapes, first.input_dtypes))
            rows.append(("inputs", html.escape(shapes)))
        rows.append(("value", _unbroken_parts(first.value.describe() if first.value else "not numeric")))
        rows.append(("gradient", _unbroken_parts(first.gradient.describe() if first.gradient else "none arrived")))
        if first.sent_back is not None:
            rows.append(("sent back", "<span style='color:#d62728'>"
                         + _unbroken_parts(first.sent_back.describe()) + "</span> (the NaN/Inf origin)"))
        for origin in (flow.forward_origin, flow.backward_origin):
            if origin is not None and origin.node == first.index:
                rows.append(("origin", "<span style='color:#d62728'>⚠ " + html.escape(origin.describe()) + "</span>"))
        if first.hook is not None:
            rows.append(("hook", html.escape(describe_hook(first))))
        for report in first.reports:
            rows.append(("showgrad", html.escape(str(report))))
    title = html.escape(item.label if item.is_group else f"#{first.index} {first.name}")
    cells = "".join(f"<tr><th style='text-align:left;padding-right:8px'>{name}</th><td>{value}</td></tr>"
                    for name, value in rows)
    return f"<div><b>{title}</b><table>{cells}</table></div>"


def _unbroken_parts(statistics: str) -> str:
    """Escaped ``statistics`` (``shape (3,), min 0.1, mean 3.8e-08``) that wraps only between its parts.

    >>> _unbroken_parts("min 1, mean 3.8e-08")
    "<span style='white-space:nowrap'>min 1</span>, <span style='white-space:nowrap'>mean 3.8e-08</span>"
    """
    return ", ".join(f"<span style='white-space:nowrap'>{html.escape(part)}</span>" for part in statistics.split(", "))


def _slider_maximum(value: float) -> float:
    return 4 * abs(value) if value else 1.0


def _slider_minimum(value: float) -> float:
    return 0.0 if value >= 0 else -_slider_maximum(value)
