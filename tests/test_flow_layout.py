"""zygote_nb.flow.layout: the geometry of the flow picture, checked on a varied set of programs.

Every check is plain geometry on the returned boxes and polylines (segment
against rectangle clipping, box against box), independent of how the layout
placed them.
"""

import itertools

import numpy
import pytest

import zygote_nb.numpy as np
from zygote_nb.flow import display_graph, layout, trace_gradient
from zygote_nb.hooks import clip, hook, scale
from zygote_nb.showgrad import showgrad

EPSILON = 1e-6


def residual(x, w):
    for _ in range(4):
        x = x + np.tanh(np.dot(w, x))
    return np.sum(x ** 2)


def fan_out(x):
    pieces = [np.sin(x), np.cos(x), np.exp(-x), x ** 3, np.tanh(x), np.log(1.0 + x * x)]
    total = pieces[0]
    for piece in pieces[1:]:
        total = total * piece + piece
    return np.sum(total)


def attention(q, k, v):
    scores = np.dot(q, k.T) / 2.0
    weights = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    return np.sum(np.dot(weights, v) ** 2)


def many_inputs(*weights):
    h = numpy.ones(3)
    for w in weights:
        h = np.tanh(np.dot(hook(clip(1.0), w), h))
    return np.sum(h)


def hooks_and_showgrad(params, x):
    hidden = showgrad(np.tanh(np.dot(hook(scale(1.0), params["w1"]), x)), name="hidden")
    out = np.dot(params["w2"], hidden)
    return np.sum(showgrad(out, name="out") ** 2)


def two_line_loop(x):
    for _ in range(40):
        x = np.sin(x)
        x = x * 1.01
    return np.sum(x)


def log_minus(x):
    return np.sum(np.log(x) - x)


def mlp(params, features):
    h1 = np.tanh(np.dot(params["w1"], features) + params["b1"])
    h2 = np.tanh(np.dot(params["w2"], h1) + params["b2"])
    return np.sum(np.dot(params["w3"], h2) ** 2)


LINE_OF_H1 = mlp.__code__.co_firstlineno + 1
rng = numpy.random.default_rng(0)
PROGRAMS = {
    "residual blocks": (residual, rng.normal(size=3), rng.normal(size=(3, 3))),
    "fan-out": (fan_out, rng.uniform(0.5, 1.0, size=4)),
    "attention": (attention, rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), rng.normal(size=(4, 3))),
    "many inputs": (many_inputs, *[rng.normal(size=(3, 3)) for _ in range(30)]),
    "hooks and showgrad": (hooks_and_showgrad, {"w1": rng.normal(size=(3, 2)), "w2": rng.normal(size=(2, 3))},
                           rng.normal(size=2)),
    "log minus": (log_minus, numpy.array([1.0, 2.0])),
    "mlp": (mlp, {name: rng.normal(size=shape) for name, shape in
                  [("w1", (4, 3)), ("b1", (4,)), ("w2", (4, 4)), ("b2", (4,)), ("w3", (2, 4))]},
            rng.normal(size=3)),
}


def graphs():
    for name, (function, *arguments) in PROGRAMS.items():
        yield name, display_graph(trace_gradient(function, *arguments))
    flow = trace_gradient(two_line_loop, numpy.ones(2))
    grouped = display_graph(flow, threshold=10)
    yield "loop grouped", grouped
    yield "loop expanded", display_graph(flow, threshold=10, expanded=frozenset({grouped.items[1].key}))
    yield "loop ungrouped", display_graph(flow)


GRAPHS = dict(graphs())


def interior_overlap(first, second) -> bool:
    return (min(first[2], second[2]) - max(first[0], second[0]) > EPSILON
            and min(first[3], second[3]) - max(first[1], second[1]) > EPSILON)


def segment_enters(start, end, box) -> bool:
    """Whether the segment passes through the open interior of the box (Liang–Barsky clipping)."""
    (x0, y0), (x1, y1) = start, end
    low, high = 0.0, 1.0
    for direction, distance in ((-(x1 - x0), x0 - box[0] - EPSILON), (x1 - x0, box[2] - x0 - EPSILON),
                                (-(y1 - y0), y0 - box[1] - EPSILON), (y1 - y0, box[3] - y0 - EPSILON)):
        if abs(direction) < 1e-12:
            if distance < 0:
                return False
            continue
        fraction = distance / direction
        if direction < 0:
            low = max(low, fraction)
        else:
            high = min(high, fraction)
    return high - low > 1e-9


def on_boundary(point, box) -> bool:
    x, y = point
    inside = box[0] - EPSILON <= x <= box[2] + EPSILON and box[1] - EPSILON <= y <= box[3] + EPSILON
    return inside and min(abs(x - box[0]), abs(x - box[2]), abs(y - box[1]), abs(y - box[3])) < 1e-6


@pytest.fixture(params=list(GRAPHS), ids=list(GRAPHS))
def laid_out(request):
    graph = GRAPHS[request.param]
    return graph, layout(graph)


def test_every_item_and_every_edge_of_the_graph_is_laid_out(laid_out):
    graph, picture = laid_out
    assert [node.key for node in picture.nodes] == [item.key for item in graph.items]
    assert [node.kind for node in picture.nodes] == [item.kind for item in graph.items]
    expected = sorted((graph.items[source].key, graph.items[target].key) for source, target in graph.edges)
    assert sorted((edge.source, edge.target) for edge in picture.edges) == expected


def test_no_two_boxes_overlap_and_every_label_sits_inside_its_box(laid_out):
    _, picture = laid_out
    for node in picture.nodes:
        x0, y0, x1, y1 = node.box
        lx0, ly0, lx1, ly1 = node.label_box
        assert x0 <= lx0 < lx1 <= x1 and y0 <= ly0 < ly1 <= y1
        assert 0 <= x0 and x1 <= picture.width and 0 <= y0 and y1 <= picture.height
    boxes = sorted((node.box for node in picture.nodes), key=lambda box: box[0])
    for first, second in itertools.combinations(boxes, 2):
        assert not interior_overlap(first, second), (first, second)


def test_no_edge_passes_through_a_box(laid_out):
    _, picture = laid_out
    for edge in picture.edges:
        for start, end in zip(edge.points, edge.points[1:]):
            for node in picture.nodes:
                assert not segment_enters(start, end, node.box), (edge.source, edge.target, node.key)


def test_edges_run_from_source_boundary_to_target_boundary_left_to_right(laid_out):
    graph, picture = laid_out
    for edge in picture.edges:
        source, target = picture.node(edge.source).box, picture.node(edge.target).box
        assert on_boundary(edge.points[0], source) and on_boundary(edge.points[-1], target)
        xs = [x for x, _ in edge.points]
        if edge.loop:
            assert graph.grouped and xs == sorted(xs, reverse=True)
        else:
            assert xs == sorted(xs) and source[2] < target[0]


def test_only_a_grouped_loop_has_edges_drawn_back():
    assert any(edge.loop for edge in layout(GRAPHS["loop grouped"]).edges)
    for name in PROGRAMS:
        assert not any(edge.loop for edge in layout(GRAPHS[name]).edges)


def test_labels_name_the_assigned_variable_the_operation_and_the_line():
    captions = {item.caption for item in GRAPHS["mlp"].items}
    assert any(caption[0] == "h1 = np.tanh(…)" and caption[1] == f"tanh · {__name__.split('.')[-1]}.py:{LINE_OF_H1} in mlp" for caption in captions)
    assert any(caption[0] == "h2 = np.tanh(…)" for caption in captions)
    assert ("params['w1']", "4×3") in captions
    kinds = [item.kind for item in GRAPHS["hooks and showgrad"].items]
    assert kinds.count("hook") == 1 and kinds.count("showgrad") == 2 and kinds.count("output") == 1
    assert [item.caption[0] for item in GRAPHS["hooks and showgrad"].items if item.kind == "showgrad"] == ["hidden", "out"]


def test_a_long_edge_goes_round_the_boxes_it_skips():
    # log(x) - x: the edge x → subtract skips the layer of log, and must not hide behind it.
    picture = layout(GRAPHS["log minus"])
    log_box = picture.node("node 1").box
    skipping = next(edge for edge in picture.edges if (edge.source, edge.target) == ("node 0", "node 2"))
    assert len(skipping.points) > 4
    assert all(not (log_box[1] <= y <= log_box[3]) for x, y in skipping.points if log_box[0] <= x <= log_box[2])
