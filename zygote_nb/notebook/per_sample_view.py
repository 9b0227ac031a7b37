"""The picture of per-sample gradients: which examples pull hardest, and which inputs' gradients are noise.

Left, the histogram of the examples' gradient norms, each outlier (above
Tukey's fence) marked and named by its index, loss and norm; right, each
input's signal-to-noise ratio as a bar on a log scale, with the line at one
where signal and noise are equal.  Below, the table of the examples with the
largest norms.

>>> import numpy
>>> from zygote_nb.notebook.per_sample_cell import per_sample_of_cell
>>> x = numpy.vstack([numpy.ones((9, 2)), [[30.0, 30.0]]])
>>> result = per_sample_of_cell("(x @ w - 1.0) ** 2", ["w"], {"x": x, "w": numpy.zeros(2)})
>>> result.outliers()[0][0]
9
>>> per_sample_png(result)[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import base64
import html
import io

from IPython.display import display
from matplotlib.figure import Figure

from .display import shown_formats

NAMED_OUTLIERS = 5


def per_sample_figure(result) -> Figure:
    """The two panels: the norms' histogram with named outliers, and signal-to-noise ratio per input."""
    stats = result.statistics
    figure = Figure(figsize=(9.5, 3.4), layout="constrained")
    histogram, ratios = figure.subplots(1, 2, width_ratios=(3, 2))
    histogram.hist(stats.norms, bins=min(40, max(10, len(stats.norms) // 4)), color="#7a9cc6", edgecolor="white")
    histogram.set_xlabel("per-sample gradient norm")
    histogram.set_ylabel("examples")
    histogram.set_title("gradient norm of each example", fontsize=10)
    top = histogram.get_ylim()[1]
    for rank, (index, loss, norm) in enumerate(result.outliers()[:NAMED_OUTLIERS]):
        histogram.axvline(norm, color="#c0392b", linewidth=1.2)
        histogram.annotate(f"#{index}\nloss {loss:#.3g}\nnorm {norm:#.3g}", (norm, top * (0.95 - 0.22 * rank)),
                           xytext=(-4, 0), textcoords="offset points", ha="right", va="top", fontsize=8,
                           color="#c0392b")
    names = stats.names
    values = [max(stats.snr[name], 1e-12) for name in names]
    colours = ["#2e8b57" if value >= 1 else "#d68910" for value in values]
    ratios.barh(range(len(names)), values, color=colours)
    ratios.set_yticks(range(len(names)), names)
    ratios.invert_yaxis()
    ratios.set_xscale("log")
    ratios.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    ratios.annotate("signal = noise", (1.0, 1.0), xycoords=("data", "axes fraction"), xytext=(-3, -3),
                    textcoords="offset points", ha="right", va="top", fontsize=8)
    ratios.set_xlim(min(min(values), 0.1) / 3, max(max(values), 10.0) * 3)
    ratios.set_xlabel("‖mean gradient‖² / variance over examples")
    ratios.set_title("signal-to-noise ratio per input", fontsize=10)
    return figure


def per_sample_png(result) -> bytes:
    buffer = io.BytesIO()
    per_sample_figure(result).savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def per_sample_html(result, picture: bool = True) -> str:
    """The picture (embedded) and the table of the examples with the largest gradient norms."""
    stats = result.statistics
    outliers = {index for index, _, _ in result.outliers()}
    rows = "".join(
        f"<tr><td>{index}</td><td>{float(result.value[index]):.3g}</td><td>{norm:.3g}</td>"
        f"<td>{stats.cosines[index]:+.2f}</td><td>{'outlier' if index in outliers else ''}</td></tr>"
        for index, norm in stats.top(NAMED_OUTLIERS))
    image = ""
    if picture:
        encoded = base64.b64encode(per_sample_png(result)).decode("ascii")
        image = f'<img alt="per-sample gradient norms and signal-to-noise ratios" src="data:image/png;base64,{encoded}"/>'
    source = html.escape(result.output_source)
    return (f'<div class="zygote-nb-result"><p>per-sample gradients of <code>{source}</code>: '
            f"{len(result.value)} examples, by {html.escape(result.method)}; "
            f"bound to <code>.per_sample[name]</code></p>{image}"
            "<table><caption>the examples with the largest gradient norms</caption><tr><th>example</th><th>loss</th><th>gradient norm</th><th>cosine with mean</th><th></th></tr>"
            f"{rows}</table></div>")


def display_per_sample_result(result, picture: bool = True) -> None:
    """Show a ``%%gradient --per-sample`` result: the text summary, and the picture and table where HTML shows."""
    bundle = {"text/plain": result.summary()}
    if "text/html" in shown_formats():
        bundle["text/html"] = per_sample_html(result, picture)
    display(bundle, raw=True)
