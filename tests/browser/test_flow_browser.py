"""The gradient-flow view as a user sees it: JupyterLab in Debian's chromium, driven by Playwright.

The test starts JupyterLab on 127.0.0.1 with a token, serving a copy of
notebooks/flow_demo.ipynb (so the lab's autosave never writes outputs into the
repository), runs all cells from the Run menu, and checks that the widgets
rendered (the graph is an SVG in an anywidget), that hovering a box shows its
statistics, that clicking a box in the picture selects it and changes the side
panel, and that dragging the slider of a hook written in a ``%%gradient`` cell
replays the backward pass.  Screenshots go to test-artifacts/.
Playwright's own browser download is not used: chromium comes from Debian
(``apt-get install -y chromium``, which .ci/run does).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
REPOSITORY = Path(__file__).resolve().parents[2]
NOTEBOOK = REPOSITORY / "notebooks" / "flow_demo.ipynb"
ARTIFACTS = REPOSITORY / "test-artifacts"
CHROMIUM_ARGUMENTS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                "(apt-get install -y chromium; CI's .ci/run installs it)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402  (only once chromium is known)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server of its own (own config, runtime and settings folders): ``(url, token)``."""
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    config = home / "config"
    (config / "labconfig").mkdir(parents=True)
    # No "would you like news?" toast over the notebook.
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    environment = {**__import__("os").environ, "JUPYTER_CONFIG_DIR": str(config),
                   "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
                   "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "JUPYTER_PLATFORM_DIRS": "1"}
    port, token = free_port(), secrets.token_hex(16)
    log = (home / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0", "--allow-root", "--LabApp.extension_manager=readonly"],
        env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start: {(home / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGUMENTS, viewport={"width": 1400, "height": 1500})
        try:
            yield context
        finally:
            context.close()


def screenshot(page: Page, view, name: str) -> None:
    """The page with the view scrolled to its top, once the kernel has finished redrawing."""
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
    view.evaluate("element => element.scrollIntoView({block: 'start'})")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def run_all_cells(page: Page) -> None:
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def test_the_flow_demo_renders_and_answers_selection_and_hook_slider(lab, browser_context):
    url, token = lab
    page = browser_context.new_page()
    page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
    expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
    run_all_cells(page)
    views = page.locator(".zygote-flow")
    expect(views).to_have_count(4, timeout=90_000)
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.zygote-flow')).every("
        "view => view.querySelectorAll('.zygote-flow-graph svg g.zygote-node').length > 2)",
        timeout=30_000)
    body = page.locator("body")
    expect(body).not_to_contain_text("Loading widget", timeout=30_000)
    expect(body).not_to_contain_text("Error displaying widget")
    expect(page.locator(".zygote-flow-banner").nth(1)).to_contain_text("first Inf in the backward pass")
    expect(page.locator(".zygote-flow-reports").first).to_contain_text("∂(hidden) =")
    screenshot(page, views.nth(1), "flow_view_nan_origin")
    for index in range(4):  # a graph wider than its frame says so; one that fits says nothing
        wider, said = views.nth(index).evaluate(
            "view => { const frame = view.querySelector('.zygote-flow-frame');"
            " return [frame.querySelector('svg').getBoundingClientRect().width > frame.clientWidth + 1,"
            " view.querySelector('.zygote-flow-more').textContent !== '']; }")
        assert wider == said, index
    page.set_viewport_size({"width": 1100, "height": 1500})  # a laptop's width
    nan_view = views.nth(1)  # long operation names: the list still ends where the details begin
    nan_view.scroll_into_view_if_needed()
    listed = nan_view.locator(".zygote-flow-nodes select").bounding_box()
    assert listed["x"] + listed["width"] <= nan_view.locator(".zygote-flow-details").bounding_box()["x"]
    grouped = views.nth(2)  # the expand button sits beside its list, not under the details panel
    grouped.scroll_into_view_if_needed()
    button = grouped.get_by_role("button", name=re.compile("expand")).bounding_box()
    details = grouped.locator(".zygote-flow-details").bounding_box()
    assert button["x"] + button["width"] <= details["x"]
    page.set_viewport_size({"width": 1400, "height": 1500})

    first = views.first
    first.scroll_into_view_if_needed()
    screenshot(page, first, "flow_view_rendered")

    details = first.locator(".zygote-flow-details")
    before = details.inner_text()
    tanh_box = first.locator(".zygote-flow-graph g.zygote-node", has_text="tanh · line")
    tanh_box.hover()
    tooltip = first.locator(".zygote-flow-tooltip")
    expect(tooltip).to_be_visible(timeout=10_000)
    expect(tooltip).to_contain_text("gradient arriving: shape (4,)")
    tanh_box.click()
    expect(details).to_contain_text("tanh", timeout=30_000)
    expect(details).to_contain_text("np.tanh(np.dot(hook(clipping, params[\"w1\"]), features))")
    assert details.inner_text() != before
    expect(tanh_box.locator(".zygote-ring")).to_have_attribute("visibility", "visible")
    # The list follows the picture: the kernel heard the click.
    number = tanh_box.get_attribute("data-key").removeprefix("node ")
    expect(first.locator(".zygote-flow-nodes select")).to_have_value(re.compile(rf"^#{number} tanh "))
    screenshot(page, first, "flow_view_selected")
    picture = first.locator(".zygote-flow-frame svg")
    width = picture.bounding_box()["width"]
    first.get_by_role("button", name="+", exact=True).click()
    page.wait_for_function("([svg, before]) => svg.getBoundingClientRect().width > before * 1.2",
                           arg=[picture.element_handle(), width], timeout=10_000)

    cell_view = views.last  # the %%gradient cell's view, whose scale hook was written in the cell
    readout = cell_view.locator(".zygote-flow-hooks code")
    expect(readout).to_contain_text("factor=1.0")
    graph = cell_view.locator(".zygote-flow-frame")
    graph_before = graph.inner_html()
    handle = cell_view.locator(".zygote-flow-hook-slider .noUi-handle")
    track = cell_view.locator(".zygote-flow-hook-slider .noUi-target")
    handle.scroll_into_view_if_needed()
    start, bar = handle.bounding_box(), track.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(bar["x"] + bar["width"] * 0.75, start["y"] + start["height"] / 2, steps=8)
    page.mouse.up()
    expect(readout).not_to_contain_text("factor=1.0", timeout=30_000)
    page.wait_for_function("([frame, before]) => frame.innerHTML !== before",
                           arg=[graph.element_handle(), graph_before], timeout=30_000)
    assert "→" in readout.inner_text()
    screenshot(page, cell_view, "flow_view_hook_moved")
    page.close()


def test_hostile_strings_stay_inert_in_a_real_browser(browser_context):
    import zygote_nb.numpy as np
    from zygote_nb.flow import trace_gradient
    from zygote_nb.notebook.flow_view import FlowView
    from zygote_nb.showgrad import showgrad

    payload = "<img src=x onerror=\"window.pwned = 1\"><script>window.pwned = 2</script>"

    def loss(inputs):
        return np.sum(showgrad(inputs[payload] * len("<img src=x onerror=window.pwned=3>"), name=payload))

    view = FlowView(trace_gradient(loss, {payload: numpy.ones(2)}, output_name=payload))
    pieces = [view._repr_mimebundle_()["text/html"], view.banner.value, view.report_list.value, view.graph_picture.svg]
    for item in view.graph.items:
        view.select(item.key)
        pieces.append(view.details.value)
    page = browser_context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_content("<html><body>" + "".join(pieces) + "</body></html>")
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is None and dialogs == []
    assert page.locator("script").count() == 0
    assert payload in page.locator("body").inner_text()
    image = base64.b64encode(view.graph_picture.svg.encode()).decode()
    assert page.locator("img").count() == 1 and page.locator("img").get_attribute("src").endswith(image)
    page.close()
