"""Progress bars: in a notebook the widget's output ends as a line of text, never a stale '0%| | 0/N'."""

import pytest
import tqdm.auto
import tqdm.notebook
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from zygote_nb.progress import progress_bar, progress_counter


@pytest.fixture
def notebook_bars(monkeypatch):
    InteractiveShell.instance()
    monkeypatch.setattr(tqdm.auto, "tqdm", tqdm.notebook.tqdm)  # what tqdm.auto picks inside a kernel


def last_output_per_display(outputs):
    """What a saved notebook keeps: each display's latest bundle (nbclient applies updates the same way)."""
    latest = {}
    for output in outputs:
        latest[output.transient["display_id"]] = output.data
    return latest


def test_a_finished_bar_leaves_a_line_of_text_and_no_widget(notebook_bars):
    with capture_output() as captured:
        assert sum(progress_bar(range(70), "auto", "hessian columns")) == sum(range(70))
    (final,) = last_output_per_display(captured.outputs).values()
    assert final.keys() == {"text/plain"}
    assert final["text/plain"].startswith("hessian columns: 70/70 in ") and "0%" not in final["text/plain"]


def test_a_counter_stopped_early_says_where(notebook_bars):
    with capture_output() as captured:
        bar = progress_counter(True, 192, "rows")
        bar.update(64)
        bar.close()
    (final,) = last_output_per_display(captured.outputs).values()
    assert final["text/plain"].startswith("rows: stopped at 64/192 in ")


def test_an_interrupted_loop_still_replaces_its_widget(notebook_bars):
    with capture_output() as captured:
        with pytest.raises(ZeroDivisionError):
            for item in progress_bar(range(100), True, "rows"):
                1 / (item - 10)
    (final,) = last_output_per_display(captured.outputs).values()
    assert final == {"text/plain": final["text/plain"]} and "stopped at 10/100" in final["text/plain"]
