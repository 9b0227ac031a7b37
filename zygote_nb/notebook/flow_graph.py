"""The live, touchable gradient-flow picture: the SVG of :mod:`.flow_picture` in an anywidget.

ipywidgets alone shows a picture but cannot tell which part of it was
clicked, so the picture is a small `anywidget <https://anywidget.dev>`_
(``flow_graph.js``): it shows ``svg``, sets ``selected`` to the key of a
clicked box, rings the selected box, shows a box's source line and
statistics on hover, and zooms and pans.  Where no widget front end runs,
the view's static bundle (SVG and PNG) is shown instead.

>>> graph = FlowGraph(svg='<svg xmlns="http://www.w3.org/2000/svg"/>')
>>> graph.selected
''
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets


class FlowGraph(anywidget.AnyWidget):
    """The graph picture: ``svg`` to show, ``selected`` the key of the selected box (set by a click too)."""

    _esm = Path(__file__).with_name("flow_graph.js")
    # The view's operation list shrinks to its column: a <select> is otherwise as wide as its longest line,
    # and runs under the details panel beside it.
    _css = ".zygote-flow-nodes, .zygote-flow-nodes select { min-width: 0; }"
    svg = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
