"""One rule for "is this frame the user's code?", and the cases where the three old rules disagreed.

The flow view's labels (flow/source.py) used to count the standard library and
every package but NumPy and autograd as user code; the cells' warnings and
tracebacks (notebook/cell.py) did not; showgrad took its direct caller,
whatever it was.
"""

import colorsys
import functools
import json
import os

import executing
import numpy
import pytest

import zygote_nb.numpy as np
from zygote_nb import frames, showgrad
from zygote_nb.flow import trace_gradient
from zygote_nb.frames import describe_place, is_user_file
from zygote_nb.notebook.cell import cell_function
from zygote_nb.showgrad import capture_reports
from zygote_nb.gradients import gradient


@pytest.mark.parametrize("filename, user", [
    (json.__file__, False),                      # the standard library (old flow rule: user code)
    (colorsys.__file__, False),
    (executing.__file__, False),                 # a package in site-packages (old flow rule: user code)
    (numpy.__file__, False),
    (frames.__file__, False),                    # zygote_nb itself
    ("<frozen importlib._bootstrap>", False),    # (old flow rule: user code)
    ("<ipython-input-5-0123456789ab>", True),    # terminal IPython cell
    ("/tmp/ipykernel_4242/1234567.py", True),    # Jupyter cell
    ("<%%gradient cell 3>", True),               # a magic's cell
    ("<string>", True),
    (__file__, True),
])
def test_library_and_user_files(filename, user):
    assert is_user_file(filename) is user


def test_a_link_into_a_library_counts_as_the_library(tmp_path):
    link = tmp_path / "linked_json.py"
    os.symlink(json.__file__, link)  # the old flow rule compared unresolved paths
    assert not is_user_file(str(link))
    assert is_user_file(str(tmp_path / "model.py"))


def test_an_operation_inside_the_standard_library_is_labelled_at_the_users_line():
    def loss(x):
        luma, _, _ = colorsys.rgb_to_yiq(x, x, x)  # pure-Python arithmetic in colorsys.py
        return np.sum(luma)

    flow = trace_gradient(loss, numpy.array([1.0, 2.0]))
    places = {node.location.code for node in flow.operations}
    assert places == {"luma, _, _ = colorsys.rgb_to_yiq(x, x, x)  # pure-Python arithmetic in colorsys.py",
                      "return np.sum(luma)"}
    assert all(node.location.filename == __file__ for node in flow.operations)


def test_a_warning_and_the_flow_label_of_the_same_operation_agree():
    namespace = {"np": numpy, "colorsys": colorsys, "x": numpy.array([0.0, 1.0])}
    source = "luma, _, _ = colorsys.rgb_to_yiq(np.log(x), x, x)\nnp.sum(luma)"
    with pytest.warns(RuntimeWarning) as caught, cell_function(source, ["x"], namespace, "%%gradient x") as cell:
        flow = trace_gradient(cell, *cell.inputs)
    forward = {(warning.filename, warning.lineno) for warning in caught if "backward" not in str(warning.message)}
    first_line = {(node.location.filename, node.location.line) for node in flow.operations if node.name != "sum"}
    assert forward == first_line == {(cell.parsed.filename, 2)}  # not colorsys.py, in either


def test_showgrad_reached_through_a_library_reports_the_users_line_and_label():
    dispatching = functools.singledispatch(showgrad)  # a Python wrapper frame in functools.py
    with capture_reports() as reports:
        gradient(lambda a: dispatching(a) * 3.0, 2.0)
    line = test_showgrad_reached_through_a_library_reports_the_users_line_and_label.__code__.co_firstlineno + 3
    assert [(report.label, report.filename, report.line, report.value) for report in reports] == [
        ("a", __file__, line, 3.0)]


def test_places_name_the_cell_and_the_function():
    assert describe_place("<ipython-input-12-abcdef>", 4, "helper") == "In [12] line 4 in helper"
    assert describe_place("/src/model.py", 12, "loss") == "model.py:12 in loss"
    assert describe_place("/src/model.py", 3, "<module>") == "model.py:3"
    assert describe_place("<%%gradient cell 99999>", 2, "<module>") == "cell line 2"  # no shell: no number


def test_a_jupyter_cell_file_is_named_by_its_number_from_ipythons_own_record(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    compiler = InteractiveShell.instance().compile
    # ipykernel compiles each cell to a file named by a hash, not by its number.
    monkeypatch.setattr(compiler, "get_code_name", lambda raw, code, number: f"/tmp/ipykernel_7/{number}0af3.py")
    filename = compiler.cache("def helper(v):\n    return v\n", 12)
    assert describe_place(filename, 2, "helper") == "In [12] line 2 in helper"
    assert describe_place("/tmp/ipykernel_7/unknown.py", 2, "helper") == "cell line 2 in helper"
