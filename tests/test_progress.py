"""Progress bars: in a notebook the widget's output ends as a line of text, never a stale '0%| | 0/N'."""

import autograd.numpy as anp
import numpy
import pytest
import tqdm.auto
import tqdm.notebook
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import zygote_nb as zn
import zygote_nb.progress
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


class CountingBar:
    """Stands in for tqdm: counts the rows it is told of and whether it was closed."""

    def __init__(self, total, description, unit):
        self.total, self.done, self.closed = total, 0, False

    def update(self, count):
        self.done += count

    def close(self):
        self.closed = True


@pytest.fixture
def bars(monkeypatch):
    made = []

    def new_bar(total, description, unit):
        made.append(CountingBar(total, description, unit))
        return made[-1]

    monkeypatch.setattr(zygote_nb.progress, "new_bar", new_bar)
    return made


def interrupted_after(calls, interruption):
    """A hook function that passes gradients through until its ``calls``-th call, which raises ``interruption``."""
    seen = []

    def transform(gradient):
        seen.append(gradient)
        if len(seen) == calls:
            raise interruption
        return gradient

    return transform


@pytest.mark.parametrize("interruption", [KeyboardInterrupt(), ValueError("in the backward pass")])
@pytest.mark.parametrize("engine, calls, memory_budget", [("batched", 6, 12 * 12 * 8 + 2000), ("loop", 5, None)])
def test_an_interrupted_engine_closes_its_bar(bars, engine, calls, memory_budget, interruption):
    x = numpy.linspace(-1.0, 1.0, 12)
    transform = interrupted_after(calls, interruption)
    with pytest.raises(type(interruption)):
        zn.jacobian(lambda x: anp.cumsum(anp.sin(zn.hook(transform, x))) * x, x, engine=engine, progress=True,
                    memory_budget=memory_budget)
    (bar,) = bars
    assert bar.closed and 0 < bar.done < bar.total  # stopped part way, and ended there


@pytest.mark.parametrize("engine", ["batched", "loop"])
def test_a_finished_engine_closes_its_bar_once_done(bars, engine):
    x = numpy.linspace(-1.0, 1.0, 12)
    zn.jacobian(lambda x: anp.sin(x) * x, x, engine=engine, progress=True)
    (bar,) = bars
    assert bar.closed and bar.done == bar.total == 12
