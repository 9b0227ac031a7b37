"""zygote_nb.notebook.flow_view: the widgets, the hook controls, the static fallback and escaped HTML."""

import base64
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy
import pytest

from helpers import embedded_svg
import zygote_nb.numpy as np
from zygote_nb.flow import trace_gradient
from zygote_nb.hooks import clip, hook
from zygote_nb.notebook.flow_view import FlowView
from zygote_nb.showgrad import showgrad

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "flow_demo.ipynb"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def clipped_flow(threshold=0.5):
    clipping = clip(threshold)

    def loss(w, x):
        hidden = np.tanh(np.dot(hook(clipping, w), x))
        return np.sum(showgrad(hidden, name="hidden") ** 2)

    return clipping, trace_gradient(loss, numpy.arange(6.0).reshape(2, 3) / 10, numpy.array([1.0, -1.0, 2.0]))


def sliders(view):
    return [child for row in view.hook_controls.children[1:] for box in row.children
            for child in getattr(box, "children", ()) if child.__class__.__name__ == "FloatSlider"]


def test_the_display_bundle_has_the_widget_an_svg_in_html_a_png_and_text():
    _, flow = clipped_flow()
    bundle = FlowView(flow)._repr_mimebundle_()
    assert "model_id" in bundle["application/vnd.jupyter.widget-view+json"]
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_SIGNATURE)
    assert embedded_svg(bundle).startswith("<svg") and "hidden = np.tanh(…)" in embedded_svg(bundle)
    assert bundle["text/plain"] == flow.summary()
    assert "gradient flow: 6 operations" in bundle["text/plain"]
    assert "tanh" in bundle["text/html"] and "image/svg+xml" not in bundle  # the SVG is stored once, in the HTML


def test_selecting_an_operation_shows_its_source_line_summaries_and_gradient_picture():
    _, flow = clipped_flow()
    view = FlowView(flow)
    tanh = next(node for node in flow.operations if node.name == "tanh")
    view.select(f"node {tanh.index}")
    assert "hidden = np.tanh(np.dot(hook(clipping, w), x))" in view.details.value
    shown = re.sub(r"<[^>]+>", "", view.details.value)  # as read on screen
    assert tanh.gradient.describe() in shown and tanh.value.describe() in shown
    assert "<span style='white-space:nowrap'>mean " in view.details.value  # a number never wraps inside itself
    assert bytes(view.gradient_image.value).startswith(PNG_SIGNATURE) and view.gradient_image.layout.display == "block"
    assert view.graph_picture.selected == f"node {tanh.index}"  # the picture rings it
    total = next(node for node in flow.operations if node.name == "sum")
    view.select(f"node {total.index}")
    assert view.gradient_image.layout.display == "none"  # a scalar gradient has no picture


def test_moving_a_hook_slider_replays_the_backward_pass_and_updates_the_view():
    clipping, flow = clipped_flow(0.5)
    view = FlowView(flow)
    heard = []
    view.on_replay(lambda replayed: heard.append(replayed.gradients))
    (slider,) = sliders(view)
    assert slider.description == "threshold" and slider.value == 0.5
    view.layer_choice.value = "input"  # clipping changes what reaches w, not what reaches the operations
    graph_before, layers_before = view.graph_picture.svg, bytes(view.layer_image.value)
    readout_before = view._hook_readouts[0][1].value
    slider.value = 0.01
    assert clipping.threshold == 0.01
    assert numpy.abs(flow.gradients[0]).max() == pytest.approx(0.01)
    assert heard and heard[-1] is flow.gradients
    assert view.graph_picture.svg != graph_before and view.layer_image.value != layers_before
    assert "threshold=0.01" in view._hook_readouts[0][1].value and view._hook_readouts[0][1].value != readout_before


def test_the_hook_switch_turns_the_transform_off():
    clipping, flow = clipped_flow(0.01)
    view = FlowView(flow)
    switch = next(child for child in view.hook_controls.children[1].children[0].children
                  if child.__class__.__name__ == "Checkbox")
    switch.value = False
    assert clipping.enabled is False
    assert numpy.abs(flow.gradients[0]).max() > 0.1


def test_the_banner_names_the_origin_and_the_origin_is_selected():
    with numpy.errstate(divide="ignore", invalid="ignore"):
        view = FlowView(trace_gradient(lambda x: np.sum(np.log(x) - x), numpy.array([0.5, 2.0, 0.0])))
    assert "first Inf in the forward pass" in view.banner.value
    assert "first Inf in the backward pass" in view.banner.value
    assert "index 2 where x == 0" in view.banner.value
    assert view.node_list.value == f"node {view.flow.backward_origin.node}"


def test_a_click_in_the_picture_selects_the_box_and_changes_the_side_panel():
    _, flow = clipped_flow()
    view = FlowView(flow)
    total = next(node for node in flow.operations if node.name == "sum")
    before = view.details.value
    view.graph_picture.selected = f"node {total.index}"  # what the front end sends when a box is clicked
    assert view.node_list.value == f"node {total.index}"
    assert view.details.value != before and total.location.code in html.unescape(view.details.value)
    view.graph_picture.selected = "not a box"
    assert view.node_list.value == f"node {total.index}"


def test_the_origin_is_red_marked_and_its_panel_shows_what_it_sent_back():
    with numpy.errstate(divide="ignore", invalid="ignore"):
        x = numpy.array([0.5, 2.0, 0.0])
        view = FlowView(trace_gradient(lambda x: np.sum(np.log(x) + x), x))
    origin = view.flow.backward_origin
    (item,) = [item for item in view.graph.items if origin.node in item.members]
    assert item.origin == "backward" and item.caption[0].startswith("⚠")
    svg = view.graph_svg()
    box = svg[svg.index(f'data-key="{item.key}"'):]
    box = box[:box.index("</g>")]
    assert 'fill="#d62728"' in box and 'stroke-width="3"' in box  # filled by the Inf it made, not the gradient it got
    assert view.flow.nodes[origin.node].gradient.finite  # what arrived at it was finite
    assert "⚠ first NaN/Inf made" in svg  # its mark is in the legend
    details = html.unescape(view.details.value)
    assert "sent back" in details and "1 Inf" in details and origin.describe() in details


def test_the_colour_scale_spans_at_least_two_decades_unless_fixed_wider():
    from zygote_nb.notebook.flow_picture import colour_scale

    _, flow = clipped_flow()
    view = FlowView(flow)
    norms = [item.gradient_norm for item in view.graph.items if item.gradient_norm]
    low, high = colour_scale(view.graph, view.vanishing)
    assert high - low >= 2 and 10.0 ** low <= min(norms) and max(norms) <= 10.0 ** high
    fixed = FlowView(flow, colour_range=(1e-6, 10.0))
    assert ">1e-6<" in fixed.graph_svg() and ">1e1<" in fixed.graph_svg()


def test_a_rerun_cell_s_older_views_give_up_their_recordings(monkeypatch):
    from zygote_nb.notebook import flow_view

    monkeypatch.setattr(flow_view, "_live_views", [])
    reruns = []
    for _ in range(3):
        reruns.append(FlowView(clipped_flow()[1]))
        flow_view.retire_older_views(reruns[-1], "cell A")
    assert [view.released for view in reruns] == [True, True, False]
    oldest = reruns[0]
    assert oldest.flow._recorded == {} and all(node.gradient_array is None for node in oldest.flow.nodes)
    assert all(slider.disabled for slider in sliders(oldest)) and not any(slider.disabled for slider in sliders(reruns[-1]))
    assert "gave up its recording" in oldest.banner.value
    assert embedded_svg(oldest._repr_mimebundle_()).startswith("<svg")  # still drawn
    with pytest.raises(RuntimeError, match="run the cell again"):
        oldest.flow.replay()
    others = []
    for cell in range(flow_view.LIVE_RECORDINGS):
        others.append(FlowView(clipped_flow()[1]))
        flow_view.retire_older_views(others[-1], f"cell {cell}")
    assert reruns[-1].released and not any(view.released for view in others)


def test_groups_can_be_expanded_and_collapsed():
    def loop(x):
        for _ in range(100):
            x = np.sin(x)
        return np.sum(x)

    view = FlowView(trace_gradient(loop, numpy.ones(2)), group_threshold=50)
    assert [label for label, _ in view.node_list.options][1].endswith("sin ×100 (100 operations) · ‖g‖ " +
                                                                      f"{view.graph.items[1].gradient_norm:.3g}")
    assert len(view.node_list.options) == 3
    view.group_list.value = view.graph.items[1].key
    view.expand_button.click()
    assert len(view.node_list.options) == 102 and view.expand_button.description == "collapse group"
    view.expand_button.click()
    assert len(view.node_list.options) == 3


def test_the_layer_chart_switches_between_lines_and_inputs():
    _, flow = clipped_flow()
    view = FlowView(flow)
    assert view.layer_image.layout.display == "none"  # drawn only when asked for
    view.layer_choice.value = "line"
    by_line = bytes(view.layer_image.value)
    view.layer_choice.value = "input"
    assert bytes(view.layer_image.value).startswith(PNG_SIGNATURE) and view.layer_image.value != by_line


class LiveContent(HTMLParser):
    """Collects what a browser would run: script elements and on* event handler attributes."""

    def __init__(self):
        super().__init__()
        self.live = []

    def handle_starttag(self, tag, attributes):
        if tag == "script":
            self.live.append(tag)
        self.live.extend(f"{tag} {name}" for name, _ in attributes if name.lower().startswith("on"))


def live_content(markup: str) -> list:
    parser = LiveContent()
    parser.feed(markup)
    return parser.live


SCRIPT = "<script>alert('name')</script>"
IMAGE = "<img src=x onerror=alert('key')>"


def hostile_view():
    def loss(inputs):
        scaled = inputs[IMAGE] * len("<img src=x onerror=alert('value')>")
        shown = showgrad(scaled, name=SCRIPT)
        return np.sum(np.log(shown))

    with numpy.errstate(divide="ignore"):
        return FlowView(trace_gradient(loss, {IMAGE: numpy.array([1.0, 0.0])}, output_name=SCRIPT))


def test_every_user_string_is_escaped_in_the_html_the_view_produces():
    view = hostile_view()
    markup = [view.banner.value, view._repr_mimebundle_()["text/html"], view.graph_picture.svg]
    for item in view.graph.items:
        view.select(item.key)
        markup.append(view.details.value)
    markup.extend(readout.value for _, readout in view._hook_readouts)
    everything = "".join(markup)
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in everything  # the showgrad name=
    assert html.escape(f"inputs[{IMAGE!r}]") in everything  # the dict key
    assert "&lt;img src=x onerror=alert(&#x27;value&#x27;)&gt;" in everything  # a string in the source
    for fragment in markup:
        assert live_content(fragment) == []


@pytest.mark.slow
def test_the_demo_notebook_builds_its_widgets_headless():
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")  # stored clean
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    models = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values()
    by_kind: dict = {}
    for model in models:
        by_kind.setdefault(model["model_name"], []).append(model["state"])
    sliders_found = {(state["description"], state["value"]) for state in by_kind["FloatSliderModel"]}
    assert sliders_found == {("threshold", 0.5), ("factor", 1.0)}  # the API's clip, the %%gradient cell's scale
    labels = [state["_options_labels"] for state in by_kind["SelectModel"]]
    assert len(labels) == 4
    assert ["#0 params['w1'] · ‖g‖ 0.967", "#1 params['w2'] · ‖g‖ 1.29", "#2 features · ‖g‖ 1.47"] in [
        options[:3] for options in labels]
    everything = "\n".join(label for options in labels for label in options)  # cells are named "In [n]"
    assert re.search(r"#5 tanh · In \[\d+\] line 7 in loss · ‖g‖ ", everything)
    assert re.search(r"In \[\d+\] line 3 in recurrent: dot ×100, tanh ×100 \(200 operations\)", everything)
    assert any(options[0] == "#0 w · ‖g‖ 0.644" and re.fullmatch(r"#1 hook · In \[\d+\] line 2 · ‖g‖ 0\.644", options[1])
               for options in labels)
    pictures = [state["svg"] for state in by_kind["AnyModel"] if "svg" in state]
    assert len(pictures) == 4 and all(picture.count('class="zygote-node"') >= 4 for picture in pictures)
    banners = [state["value"] for state in by_kind["HTMLModel"]]
    assert any("first Inf in the backward pass" in banner and "index 2 where x == 0" in banner for banner in banners)
    assert any("showgrad" in banner and "∂(hidden)" in banner for banner in banners)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error"
            if "application/vnd.jupyter.widget-view+json" in output.get("data", {}):
                assert {"image/png", "text/plain", "text/html"} <= set(output["data"])
                assert "image/svg+xml" not in output["data"]  # the SVG is in the HTML: stored once


def test_a_gradient_result_with_a_recorded_flow_is_shown_as_the_view_and_follows_its_hooks(monkeypatch):
    from zygote_nb.notebook import display as display_module
    from zygote_nb.notebook.results import GradientResult

    shown = []
    monkeypatch.setattr(display_module, "display", lambda *objects, **options: shown.extend(objects))
    clipping, flow = clipped_flow(0.5)
    result = GradientResult("np.sum(hidden ** 2)", flow.value, {"w": numpy.zeros((2, 3)), "x": numpy.zeros(3)},
                            dict(zip(["w", "x"], flow.gradients)))
    result.flow = flow
    display_module.display_gradient_result(result, widget=True)
    (view,) = shown
    assert isinstance(view, FlowView)
    (slider,) = sliders(view)
    slider.value = 0.02
    assert numpy.abs(result["w"]).max() == pytest.approx(0.02)
    display_module.display_gradient_result(result, widget=False)
    assert isinstance(shown[-1], dict) and "text/plain" in shown[-1]


def test_a_checked_gradient_shown_as_the_view_also_shows_the_check_verdict(monkeypatch):
    from zygote_nb.notebook import display as display_module
    from zygote_nb.notebook.derivatives import gradient_of_cell

    shown = []
    monkeypatch.setattr(display_module, "display", lambda *objects, **options: shown.extend(objects))
    result = gradient_of_cell("np.sum(x ** 3)", ["x"], {"np": numpy, "x": numpy.array([1.0, 2.0])},
                              check=True, record_flow=True)
    display_module.display_gradient_result(result, widget=True)
    view, verdict = shown
    assert isinstance(view, FlowView)
    assert verdict["text/plain"].startswith("check: passed, worst relative error")
