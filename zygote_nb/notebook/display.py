"""Showing a magic's result: one display bundle with a text summary, HTML and, for matrices, a PNG heatmap.

Front ends pick what they can show: a notebook renders the HTML (which embeds
the heatmap, so the PNG is not sent beside it as well: a saved notebook would
hold the picture twice), a terminal IPython prints the ``text/plain`` summary, and formats
the running shell does not show are not computed at all (no heatmap is drawn
for a plain terminal).

>>> import numpy
>>> from zygote_nb.notebook.results import JacobianResult
>>> result = JacobianResult("2 * x", numpy.array([2.0]), {"x": 1.0}, {"x": numpy.array([2.0])})
>>> sorted(matrix_bundle(result, plot=True, formats={"text/plain", "text/html", "image/png"}))
['text/html', 'text/plain']
>>> sorted(matrix_bundle(result, plot=True, formats={"text/plain", "image/png"}))
['image/png', 'text/plain']
>>> sorted(matrix_bundle(result, plot=True, formats={"text/plain"}))
['text/plain']
"""

from __future__ import annotations

import base64
import html

from IPython import get_ipython
from IPython.display import display

from .results import GradientResult, MatrixResult, check_sentence

ALL_FORMATS = frozenset({"text/plain", "text/html", "image/png"})


def shown_formats() -> frozenset:
    """The MIME types the running IPython displays (all of ours outside IPython)."""
    shell = get_ipython()
    return frozenset(shell.display_formatter.active_types) if shell is not None else ALL_FORMATS


def gradient_bundle(result: GradientResult, formats: frozenset = ALL_FORMATS) -> dict:
    """The static view of a gradient: the text summary, and the HTML table where HTML is shown."""
    bundle = {"text/plain": result.summary()}
    if "text/html" in formats:
        bundle["text/html"] = result.to_html()
    return bundle


def matrix_bundle(result: MatrixResult, plot: bool, formats: frozenset = ALL_FORMATS) -> dict:
    """A Jacobian or Hessian: summary text, and HTML with the heatmap embedded (or, without HTML, the PNG)."""
    bundle = {"text/plain": result.summary()}
    plot = plot and result.plottable
    if "text/html" in formats:
        bundle["text/html"] = result.to_html(plot=plot)
    elif plot and "image/png" in formats:
        bundle["image/png"] = base64.b64encode(result.heatmap_png).decode("ascii")
    return bundle


def display_gradient_result(result: GradientResult, widget: bool, cell: str | None = None) -> None:
    """Show a ``%%gradient`` result.

    ``widget`` asks for the interactive gradient-flow view where the front end
    can show widgets; the static view (table of gradient statistics, text
    summary) is what shows without one, and with ``--no-widget``.  The view
    needs the cell's recorded flow (``result.flow``, made by
    :func:`~zygote_nb.flow.trace_gradient`); a hook control moved in it
    replays the backward pass and updates ``result.grad``; only the newest
    views keep their recordings (:func:`~.flow_view.retire_older_views`, by
    :func:`cell_key` of ``cell``, the cell's text). The view knows
    nothing of ``--check``, so a check's verdict follows it on a line of its own.
    """
    formats = shown_formats()
    flow = result.flow
    if widget and flow is not None and "text/html" in formats:
        from .flow_view import FlowView, retire_older_views

        view = FlowView(flow)
        retire_older_views(view, cell_key(cell if cell is not None else result.output_source))
        view.on_replay(lambda replayed: result.grad.update(zip(result.grad, replayed.gradients)))
        display(view)
        if result.check is not None:
            sentence = check_sentence(result.check)
            display({"text/plain": sentence, "text/html": f"<p>{html.escape(sentence)}</p>"}, raw=True)
        return
    display(gradient_bundle(result, formats), raw=True)


def cell_key(cell: str) -> str:
    """Which cell is running: the front end's cell id where the kernel was told it, else the cell's text."""
    shell = get_ipython()
    metadata = (getattr(shell, "parent_header", None) or {}).get("metadata", {})
    return str(metadata.get("cellId") or cell)


def release_earlier_views(cell: str) -> None:
    """Before ``cell`` runs again: its earlier views give up their recordings (see :mod:`.flow_view`)."""
    from .flow_view import release_views_of

    release_views_of(cell_key(cell))


def display_matrix_result(result: MatrixResult, plot: bool) -> None:
    """Show a ``%%jacobian`` or ``%%hessian`` result, with its heatmap unless ``plot`` is false (``--no-plot``)."""
    display(matrix_bundle(result, plot, shown_formats()), raw=True)
