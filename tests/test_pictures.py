"""What the pictures show, checked as a teacher would before projecting them: legends explain what is drawn."""

from __future__ import annotations

import re

import numpy

from helpers import embedded_svg
import zygote_nb.numpy as np
from zygote_nb.flow import display_graph, layout, trace_gradient
from zygote_nb.hooks import clip, hook
from zygote_nb.notebook.flow_picture import graph_svg
from zygote_nb.showgrad import showgrad

# The words each legend entry writes, and the kind of box (or mark) it explains.
LEGEND_WORDS = {"hook": ">hook<", "showgrad": ">showgrad<", "group": ">one source line<",
                "NaN/Inf": ">NaN/Inf<", "no gradient": ">no gradient<", "loop": ">loop feeds an earlier line<",
                "origin": ">⚠ first NaN/Inf made<"}


def legend_of(svg: str) -> str:
    return svg[svg.rindex("‖gradient arriving‖"):]


def test_a_plain_graph_has_no_legend_entries_for_marks_it_does_not_draw():
    flow = trace_gradient(lambda x: np.sum(np.tanh(x) ** 2), numpy.array([0.5, -1.0]))
    graph = display_graph(flow)
    assert {item.kind for item in graph.items} == {"input", "operation", "output"}
    legend = legend_of(graph_svg(flow, graph, layout(graph)))
    for mark, words in LEGEND_WORDS.items():
        assert words not in legend, mark
    for words in (">input<", ">operation<", ">output<", ">selected<"):
        assert words in legend


def test_every_mark_the_graph_draws_is_in_its_legend():
    clipping = clip(0.5)

    def loss(w, x):
        hidden = np.tanh(np.dot(hook(clipping, w), x))
        return np.sum(np.log(showgrad(hidden, name="hidden") ** 2))

    with numpy.errstate(divide="ignore", invalid="ignore"):
        flow = trace_gradient(loss, numpy.zeros((2, 3)), numpy.array([1.0, -1.0, 2.0]))
    graph = display_graph(flow)
    drawn = {item.kind for item in graph.items} | {"origin" for item in graph.items if item.origin}
    assert {"hook", "showgrad", "origin"} <= drawn
    legend = legend_of(graph_svg(flow, graph, layout(graph)))
    for mark in drawn & LEGEND_WORDS.keys():
        assert LEGEND_WORDS[mark] in legend, mark
    assert LEGEND_WORDS["NaN/Inf"] in legend  # the origin's red fill is explained
    assert LEGEND_WORDS["loop"] not in legend


def test_the_curvature_notebook_says_how_many_parameters_its_network_has():
    import json
    import re
    from pathlib import Path

    cells = json.loads((Path(__file__).parents[1] / "notebooks" / "05_curvature.ipynb").read_text())["cells"]
    sources = ["".join(cell["source"]) for cell in cells]
    setup = next(source for source in sources if "sizes = [" in source)
    namespace = {"numpy": numpy}
    exec(setup[:setup.index("def unpack")], namespace)  # the network's shapes, as the notebook defines them
    (claim,) = [int(number) for source in sources for number in re.findall(r"With (\d+) parameters", source)]
    assert claim == sum(namespace["sizes"])


def test_a_spectrum_that_converges_early_leaves_its_progress_bar_full(capsys):
    from zygote_nb.curvature import hessian_spectrum

    hessian_spectrum(lambda x: np.sum(x ** 2), numpy.ones(50), k=1, seed=0, progress=True)
    bar = capsys.readouterr().err.rstrip().split("\r")[-1]
    done, total = (int(number) for number in bar.split("|")[-1].split("[")[0].strip().split("/"))
    assert done == total < 50 and "100%" in bar


def test_the_title_of_a_small_graph_fits_its_picture():
    flow = trace_gradient(lambda x: np.sum(x ** 2), numpy.array([0.5, -1.0]))
    graph = display_graph(flow)
    svg = graph_svg(flow, graph, layout(graph))
    width = float(re.search(r'<svg [^>]*width="([\d.]+)"', svg).group(1))
    title = re.search(r'<text x="([\d.]+)"[^>]*font-size="(\d+)"[^>]*>([^<]*click a box for details)</text>', svg)
    left, size, words = float(title.group(1)), int(title.group(2)), title.group(3)
    # A monospace character is 0.6 em wide.
    assert left + len(words) * 0.6 * size <= width, (left, len(words), size, width)


def test_the_per_sample_picture_names_each_outlier_with_three_significant_digits():
    from zygote_nb.notebook.per_sample_cell import per_sample_of_cell
    from zygote_nb.notebook.per_sample_view import per_sample_figure

    # Example 3 is far from the others: its loss (3 - 0)^2 = 9 exactly, the others' below 0.003.
    points = numpy.array([0.0, 0.05, -0.05, 3.0, 0.02, -0.03, 0.01, 0.04, -0.02, 0.03, 0.0, -0.01])
    result = per_sample_of_cell("\n(points - centre) ** 2\n", ["centre"], {"np": np, "points": points, "centre": numpy.zeros(1)})
    (outlier, loss, norm), *_ = result.outliers()
    assert outlier == 3 and loss == 9.0
    texts = [text.get_text() for text in per_sample_figure(result).axes[0].texts]
    assert texts[0] == "#3\nloss 9.00\nnorm 6.00"  # d/dc (x - c)^2 = -2 (x - c): norm 6, written as the table would


def test_a_one_column_block_is_named_as_one_column():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext zygote_nb", store_history=False)
    shell.user_ns.update({"np": np, "x": numpy.linspace(-1.0, 1.0, 3), "scale": 2.0})
    try:
        shell.run_cell("%%jacobian x scale -o seen\nnp.sin(scale * x)", store_history=False).raise_error()
        text = shell.user_ns["seen"].summary()
    finally:
        shell.run_cell("%unload_ext zygote_nb", store_history=False)
        for name in ("np", "x", "scale", "seen"):
            shell.user_ns.pop(name, None)
    assert "x: columns 0–2" in text and "scale: column 3" in text and "3–3" not in text


def test_a_negative_zero_is_written_zero_in_statistics_and_values():
    from zygote_nb.flow import trace_gradient
    from zygote_nb.notebook.results import format_value

    counts = numpy.array([0.0, 4.0])  # the gradient of -counts · log(r) arriving at log is -counts: max is -0.0
    flow = trace_gradient(lambda r: np.sum(r - counts * np.log(r)), numpy.array([1.0, 2.0]))
    (log,) = [node for node in flow.operations if node.name == "log"]
    assert numpy.signbit(log.gradient.maximum) and log.gradient.maximum == 0
    text = log.gradient.describe()
    assert "max 0," in text and "-0," not in text and "min -4" in text
    assert format_value(-0.0) == "0" and format_value(-0.25) == "-0.25"


def test_the_static_graph_shrinks_to_a_narrow_page_but_never_below_readable():
    from zygote_nb.notebook.flow_view import FlowView

    flow = trace_gradient(lambda x: np.sum(np.tanh(np.exp(np.sin(x)) * 2.0) ** 2), numpy.array([0.5, -1.0]))
    bundle = FlowView(flow)._repr_mimebundle_()
    width = float(re.search(r'width="([\d.]+)"', embedded_svg(bundle)).group(1))
    style = re.search(r'<img [^>]*alt="gradient flow graph" style="([^"]*)"', bundle["text/html"]).group(1)
    minimum = float(re.search(r"min-width:([\d.]+)px", style).group(1))
    assert 0.75 * width <= minimum < width and "max-width:100%" not in style
    assert '<div style="overflow-x:auto"><img ' in bundle["text/html"]  # what does not fit scrolls


def test_the_static_view_folds_its_text_under_the_picture():
    from zygote_nb.notebook.flow_view import FlowView

    flow = trace_gradient(lambda x: np.sum(np.tanh(x) ** 2), numpy.array([0.5, -1.0]))
    page = FlowView(flow)._repr_mimebundle_()["text/html"]
    folded = page[page.index("<details>"):page.index("</details>")]
    assert page.index("<img ") < page.index("<details>") and "gradient flow: 3 operations" in folded
