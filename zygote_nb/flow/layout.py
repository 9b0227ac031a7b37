"""Where every box and edge of the flow picture goes: a layered (Sugiyama-style) layout, as data.

Data flows left to right.  The steps are the classic ones:

1. **Layers.**  Each box goes one layer right of the furthest box that feeds
   it (the longest path); an input moves right to just before its first
   consumer, so a bias added at the end does not drag a line across the
   whole picture.  In a graph grouped by source line a loop can feed an
   earlier line; such an edge is laid out reversed and drawn back (``loop``).
2. **Lanes.**  An edge that skips layers runs through a *lane* in each layer
   it crosses, a slot in that layer's order like a box of height zero, so it
   never passes through a box it does not touch.  The edges leaving one box
   share their lanes as far as they run together, like a bus.
3. **Order.**  Barycentre sweeps, down and up the layers, put each box and
   lane near the average place of its neighbours, which removes most
   crossings.
4. **Places.**  Each layer is as wide as its widest box; vertically every
   box and lane is pulled towards its neighbours by a least-squares fit that
   keeps the layer's order and the gaps between them (pool-adjacent-violators),
   so nothing overlaps and edges run nearly straight.

Labels are drawn inside their boxes, so a box and its label are one
rectangle each: the picture needs no label placement of its own.  Edges
leave a box on its right side and enter on its left, each at its own port;
they turn only in the gaps between layers, where there are no boxes.

Why not a library: grandalf (the pure-Python Sugiyama on PyPI) has had no
release since January 2023 and lays out a few hundred nodes in seconds;
Graphviz needs a system binary.  This is about 200 lines and lays out 3,000
operations in well under a second (``benchmarks/flow_layout.py``).

>>> import zygote_nb.numpy as np
>>> from zygote_nb.flow import display_graph, trace_gradient
>>> picture = layout(display_graph(trace_gradient(lambda x: np.sum(np.log(x) - x), np.array([1.0, 2.0]))))
>>> [(node.key, node.kind) for node in picture.nodes]
[('node 0', 'input'), ('node 1', 'operation'), ('node 2', 'operation'), ('node 3', 'output')]
>>> sorted((edge.source, edge.target) for edge in picture.edges)
[('node 0', 'node 1'), ('node 0', 'node 2'), ('node 1', 'node 2'), ('node 2', 'node 3')]
>>> picture.node("node 0").box[2] < picture.node("node 1").box[0]  # x0 y0 x1 y1: the input is left of log
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .grouping import DisplayGraph, GraphItem

CHARACTER_WIDTH = 6.6  # one character of the 11-unit monospace font the pictures use (0.6 em)
LINE_HEIGHT = 14
PADDING = (8.0, 5.0)  # inside a box, around its label
LAYER_GAP = 48.0  # between layers: room for edges to turn and for arrowheads
BOX_GAP = 14.0  # between boxes of one layer
LANE_GAP = 8.0  # between a lane and its neighbours
LEAD = 10.0  # every edge leaves and enters a box horizontally for this long, so arrowheads point along the flow
MARGIN = 4.0
SWEEPS = 4  # barycentre sweeps each way; more rarely removes another crossing
PLACEMENT_PASSES = 6


@dataclass(frozen=True)
class LayoutNode:
    """A box: ``key`` of its :class:`~zygote_nb.flow.GraphItem`, ``kind``, ``label`` (lines joined by ``\\n``),
    ``box`` and ``label_box`` as ``(x0, y0, x1, y1)`` with y growing downwards."""

    key: str
    kind: str
    label: str
    box: tuple[float, float, float, float]
    label_box: tuple[float, float, float, float]


@dataclass(frozen=True)
class LayoutEdge:
    """A data-flow edge: ``points`` run from the source's boundary to the target's, where the arrowhead goes.

    ``loop`` marks an edge of a grouped graph that feeds an earlier line (a loop's carried value);
    it is the only kind that points right to left.
    """

    source: str
    target: str
    points: tuple[tuple[float, float], ...]
    loop: bool = False


@dataclass(frozen=True)
class GraphLayout:
    """Boxes and edges, and the size of the drawing they fill (in the same units)."""

    nodes: list[LayoutNode]
    edges: list[LayoutEdge]
    width: float
    height: float
    _by_key: dict = field(default_factory=dict, repr=False, compare=False)

    def node(self, key: str) -> LayoutNode:
        """The box of the item with this key."""
        if not self._by_key:
            self._by_key.update((node.key, node) for node in self.nodes)
        return self._by_key[key]


def label_lines(item: GraphItem) -> tuple[str, ...]:
    return item.caption or (item.label,)


def box_size(item: GraphItem) -> tuple[float, float]:
    lines = label_lines(item)
    return (max(len(line) for line in lines) * CHARACTER_WIDTH + 2 * PADDING[0],
            len(lines) * LINE_HEIGHT + 2 * PADDING[1])


def layout(graph: DisplayGraph) -> GraphLayout:
    """Lay out a :class:`~zygote_nb.flow.DisplayGraph` left to right; see the module's text for how."""
    count = len(graph.items)
    sizes = [box_size(item) for item in graph.items]
    # Items come in the order their first operation ran, so an edge to an earlier item is a loop's.
    upstream_edges = [(source, target, False) if source < target else (target, source, True)
                      for source, target in graph.edges]
    layer_of = assign_layers(count, upstream_edges)
    paths, layer_of = route_through_lanes(upstream_edges, layer_of)
    layers = order_layers(count, paths, layer_of)
    heights = [sizes[node][1] if node < count else 0.0 for node in range(len(layer_of))]
    lefts, rights = layer_columns(layers, sizes, count)
    centres = place_vertically(layers, paths, heights, count)
    nodes = []
    for position, item in enumerate(graph.items):
        width, height = sizes[position]
        layer, centre = layer_of[position], centres[position]
        x0 = (lefts[layer] + rights[layer] - width) / 2
        box = (x0, centre - height / 2, x0 + width, centre + height / 2)
        nodes.append(LayoutNode(item.key, item.kind, "\n".join(label_lines(item)), box,
                                (box[0] + PADDING[0], box[1] + PADDING[1], box[2] - PADDING[0], box[3] - PADDING[1])))
    edges = draw_edges(graph, paths, nodes, centres, lefts, rights, layer_of, count)
    bottom = max((node.box[3] for node in nodes), default=0.0)
    return GraphLayout(nodes, edges, (rights[-1] if rights else 0.0) + MARGIN, bottom + MARGIN)


def assign_layers(count: int, edges: list[tuple[int, int, bool]]) -> list[int]:
    """Longest-path layers; a box fed by nothing moves right to just before its first consumer."""
    feeders: list[list[int]] = [[] for _ in range(count)]
    consumers: list[list[int]] = [[] for _ in range(count)]
    for upstream, downstream, _ in edges:
        feeders[downstream].append(upstream)
        consumers[upstream].append(downstream)
    layer_of = [0] * count
    for node in range(count):  # upstream items always come first
        layer_of[node] = max((layer_of[feeder] + 1 for feeder in feeders[node]), default=0)
    for node in range(count):
        if not feeders[node] and consumers[node]:
            layer_of[node] = min(layer_of[consumer] for consumer in consumers[node]) - 1
    return layer_of


def route_through_lanes(edges, layer_of: list[int]):
    """Each edge as a path of node ids, one per layer; ids past the items are lanes, shared per source."""
    layer_of = list(layer_of)
    lanes: dict[tuple[int, bool, int], int] = {}
    paths = []
    for upstream, downstream, loop in edges:
        path = [upstream]
        for layer in range(layer_of[upstream] + 1, layer_of[downstream]):
            lane = lanes.get((upstream, loop, layer))
            if lane is None:
                lane = lanes[(upstream, loop, layer)] = len(layer_of)
                layer_of.append(layer)
            path.append(lane)
        path.append(downstream)
        paths.append(path)
    return paths, layer_of


def neighbours_of(paths, total: int) -> tuple[list[list[int]], list[list[int]]]:
    """For every node id, its neighbours in the layer before and in the layer after (no repeats)."""
    before: list[set] = [set() for _ in range(total)]
    after: list[set] = [set() for _ in range(total)]
    for path in paths:
        for left, right in zip(path, path[1:]):
            after[left].add(right)
            before[right].add(left)
    return [sorted(nodes) for nodes in before], [sorted(nodes) for nodes in after]


def order_layers(count: int, paths, layer_of: list[int]) -> list[list[int]]:
    """The node ids of every layer, top to bottom, after barycentre sweeps down and up."""
    layers: list[list[int]] = [[] for _ in range(max(layer_of, default=-1) + 1)]
    for node, layer in enumerate(layer_of):
        layers[layer].append(node)
    before, after = neighbours_of(paths, len(layer_of))
    rank = [0.0] * len(layer_of)
    for layer in layers:
        for place, node in enumerate(layer):
            rank[node] = place
    for _ in range(SWEEPS):
        for sweep, neighbours in ((range(1, len(layers)), before), (range(len(layers) - 2, -1, -1), after)):
            for index in sweep:
                layer = layers[index]
                key = {node: (sum(rank[other] for other in neighbours[node]) / len(neighbours[node])
                              if neighbours[node] else rank[node], rank[node]) for node in layer}
                layer.sort(key=key.__getitem__)
                for place, node in enumerate(layer):
                    rank[node] = place
    return layers


def layer_columns(layers, sizes, count: int) -> tuple[list[float], list[float]]:
    """The left and right edges of every layer's column (as wide as its widest box)."""
    lefts, rights, x = [], [], MARGIN
    for layer in layers:
        width = max((sizes[node][0] for node in layer if node < count), default=0.0)
        lefts.append(x)
        rights.append(x + width)
        x += width + LAYER_GAP
    return lefts, rights


def place_vertically(layers, paths, heights: list[float], count: int) -> list[float]:
    """The vertical centre of every box and lane: near its neighbours, in its layer's order, never overlapping."""
    before, after = neighbours_of(paths, len(heights))
    # An input that feeds one box follows that box, not the other way round: were each box pulled
    # half-way to the weight beside it, a chain of layers would climb a stair across the page.
    leaves = {node for node in range(count) if not before[node] and len(after[node]) == 1}
    before = [[other for other in nodes if other not in leaves] or nodes for nodes in before]
    centres = [0.0] * len(heights)
    gaps = []
    for layer in layers:
        layer_gaps = [(heights[upper] + heights[lower]) / 2 + (BOX_GAP if upper < count and lower < count else LANE_GAP)
                      for upper, lower in zip(layer, layer[1:])]
        gaps.append(layer_gaps)
        y = 0.0
        for node, gap in zip(layer, [0.0, *layer_gaps]):
            y += gap
            centres[node] = y
    for step in range(PLACEMENT_PASSES):
        last = step == PLACEMENT_PASSES - 1
        order = range(len(layers)) if step % 2 == 0 else range(len(layers) - 1, -1, -1)
        for index in order:
            layer = layers[index]
            desired, weights = [], []
            for node in layer:
                neighbours = (before[node] + after[node]) if last else (before[node] if step % 2 == 0 else after[node])
                desired.append(sum(centres[other] for other in neighbours) / len(neighbours)
                               if neighbours else centres[node])
                weights.append((2.0 if node >= count else 1.0) if neighbours else 0.1)
            for node, centre in zip(layer, fit_in_order(desired, weights, gaps[index])):
                centres[node] = centre
    top = min((centres[node] - heights[node] / 2 for node in range(len(heights))), default=0.0)
    return [centre - top + MARGIN for centre in centres]


def fit_in_order(desired: list[float], weights: list[float], gaps: list[float]) -> list[float]:
    """Positions closest (weighted least squares) to ``desired`` with position[i + 1] - position[i] >= gaps[i].

    Subtracting each position's minimal offset turns the gaps into plain order, which
    pool-adjacent-violators solves exactly in one pass.

    >>> fit_in_order([5.0, 0.0], [1.0, 1.0], [2.0])
    [1.5, 3.5]
    """
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[list[float]] = []  # [weighted sum, weight, how many positions]
    for target, weight, offset in zip(desired, weights, offsets):
        blocks.append([(target - offset) * weight, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, weight, size = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += weight
            blocks[-1][2] += size
    fitted = [block[0] / block[1] for block in blocks for _ in range(int(block[2]))]
    return [value + offset for value, offset in zip(fitted, offsets)]


def draw_edges(graph: DisplayGraph, paths, nodes: list[LayoutNode], centres, lefts, rights, layer_of,
               count: int) -> list[LayoutEdge]:
    """Every edge's polyline: out of its source's right side, through its lanes, into its target's left side."""
    outgoing: list[list[int]] = [[] for _ in range(count)]
    incoming: list[list[int]] = [[] for _ in range(count)]
    for number, path in enumerate(paths):
        outgoing[path[0]].append(number)
        incoming[path[-1]].append(number)
    start_y, end_y = {}, {}
    for ports, side, neighbour in ((outgoing, start_y, 1), (incoming, end_y, -2)):
        for node, numbers in enumerate(ports):
            numbers.sort(key=lambda number: centres[paths[number][neighbour]])
            y0, y1 = nodes[node].box[1], nodes[node].box[3]
            for place, number in enumerate(numbers):
                side[number] = y0 + (y1 - y0) * (place + 1) / (len(numbers) + 1)
    edges = []
    for number, ((source, target), path) in enumerate(zip(graph.edges, paths)):
        upstream, downstream = path[0], path[-1]
        points = [(nodes[upstream].box[2], start_y[number]), (rights[layer_of[upstream]] + LEAD, start_y[number])]
        for lane in path[1:-1]:
            points += [(lefts[layer_of[lane]], centres[lane]), (rights[layer_of[lane]], centres[lane])]
        points += [(lefts[layer_of[downstream]] - LEAD, end_y[number]), (nodes[downstream].box[0], end_y[number])]
        loop = source != upstream
        edges.append(LayoutEdge(graph.items[source].key, graph.items[target].key,
                                tuple(reversed(points)) if loop else tuple(points), loop))
    return edges
