"""``%%hessian`` without the matrix: extreme eigenvalues, trace, density and the sharpest slice of a cell.

Where the Hessian is too large to form, :func:`matrix_free_curvature` answers
the questions the dense view answers from Hessian-vector products alone, and
:class:`MatrixFreeHessianResult` shows them as text and as a picture (the
eigenvalue density and the loss along the top eigenvector, titled with the
verdict). Ctrl-C stops the work between products and keeps what was done.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

import numpy
from matplotlib.figure import Figure

from ..curvature.density import Density, density_of
from ..curvature.hvp import HessianOperator
from ..curvature.landscape import Landscape, loss_landscape
from ..curvature.spectrum import extreme_eigenvalues
from ..curvature.trace import TraceEstimate, trace_of
from .curvature import Curvature, from_extremes
from .results import SUMMARY_PRE

# The eigenvalues shown need 4-5 figures, not 15: each one's bound is printed beside it.
TOLERANCE = 1e-5
LANCZOS_HVPS = 200
TRACE_HVPS = 60
DENSITY_RUNS, DENSITY_STEPS = 2, 40
SLICE_POINTS = 21


@dataclass(frozen=True)
class MatrixFreeWork:
    """What the products gave: the verdict with its eigenvalues, the trace, the density and the slice.

    A part stopped by Ctrl-C is ``None``, and ``interrupted`` says where it stopped.
    """

    curvature: Curvature
    trace: TraceEstimate | None
    density: Density | None
    landscape: Landscape | None
    hvps: int
    interrupted: str | None


def matrix_free_curvature(f: Callable, x: Any, value: float, gradient_norm: float, k: int,
                          progress="auto") -> MatrixFreeWork:
    """The curvature of ``f`` at ``x`` from Hessian-vector products only (the top eigenvector gives the slice)."""
    operator = HessianOperator("%%hessian", f, x)
    spectrum = extreme_eigenvalues(operator, k, "both", tol=TOLERANCE, max_hvps=LANCZOS_HVPS, seed=0, vectors=True,
                                   progress=progress)
    curvature = from_extremes(spectrum, gradient_norm, value)
    if spectrum.stopped == "interrupted":
        return MatrixFreeWork(curvature, None, None, None, operator.hvps, "during Lanczos")
    trace = density = landscape = None
    interrupted = None
    try:
        trace = trace_of(operator, TRACE_HVPS, seed=0, progress=progress)
        density = density_of(operator, DENSITY_RUNS, DENSITY_STEPS, seed=0, progress=progress)
        top = spectrum.largest[0]
        radius = float(numpy.sqrt(2 * (abs(value) + 1) / max(abs(top), numpy.finfo(float).eps)))
        landscape = loss_landscape(f, x, directions=[operator.point.rebuild(spectrum.vectors.largest[0])],
                                   radius=radius, points=SLICE_POINTS)
        landscape = Landscape(landscape.coefficients, landscape.loss, landscape.directions, spectrum.largest[:1],
                              spectrum.hvps)
    except KeyboardInterrupt:
        interrupted = "during the trace" if trace is None else "during the density" if density is None else \
            "during the slice"
    return MatrixFreeWork(curvature, trace, density, landscape, operator.hvps, interrupted)


@dataclass
class MatrixFreeHessianResult:
    """``%%hessian`` where the matrix was not formed: ``.work`` holds the numbers, ``.grad`` the gradient.

    ``curvature`` is the verdict with the extreme eigenvalues and their error
    bounds; ``reason`` says why the dense matrix was not formed.
    """

    output_source: str
    value: Any
    inputs: dict
    grad: dict
    size: int
    work: MatrixFreeWork
    reason: str

    def __getitem__(self, name: str) -> Any:
        return self.grad[name]

    @property
    def curvature(self) -> Curvature:
        return self.work.curvature

    @property
    def title(self) -> str:
        return f"Hessian of {self.output_source} with respect to {', '.join(self.inputs)}"

    @property
    def plottable(self) -> bool:
        return self.work.density is not None or self.work.landscape is not None

    def summary(self) -> str:
        """The text a terminal shows: the same numbers as the picture and the HTML."""
        from .results import headline

        work = self.work
        lines = [self.title, headline("  value", self.value),
                 f"  matrix-free ({self.reason}): {work.hvps} Hessian-vector products in all",
                 *work.curvature.lines()]
        if work.trace is not None:
            lines.append(f"  trace ≈ {work.trace.estimate:.6g} ± {work.trace.stderr:.2g} (standard error; Hutch++, "
                         f"{work.trace.hvps} products)")
        if work.density is not None:
            grid, density = work.density.grid, work.density.density
            lines.append(f"  eigenvalue density (stochastic Lanczos quadrature, {work.density.hvps} products): "
                         f"peak at {grid[numpy.argmax(density)]:.4g}, range [{grid[0]:.4g}, {grid[-1]:.4g}]")
        if work.landscape is not None:
            slice_ = work.landscape
            lines.append(f"  loss along the top eigenvector over ±{slice_.coefficients[-1]:.3g}: from "
                         f"{slice_.loss.min():.6g} to {slice_.loss.max():.6g}, curvature at the centre "
                         f"{slice_.curvature:.6g}")
        if work.interrupted:
            lines.append(f"  stopped by Ctrl-C {work.interrupted}; the numbers above are complete and their "
                         "bounds hold")
        return "\n".join(lines)

    def figure(self) -> Figure:
        """The eigenvalue density and the loss along the top eigenvector, titled with the verdict."""
        figure = Figure(figsize=(9, 3.4), dpi=100)
        density_axes, slice_axes = figure.subplots(1, 2)
        work = self.work
        if work.density is not None:
            density_axes.plot(work.density.grid, work.density.density, color="#1f5fa8")
            density_axes.fill_between(work.density.grid, work.density.density, color="#1f5fa8", alpha=0.2)
            density_axes.set_yscale("log")  # outliers carry 1/n of the mass: a linear axis would hide them
            peak = work.density.density.max()
            density_axes.set_ylim(peak * 1e-6, peak * 3)
        density_axes.set(xlabel="eigenvalue λ", ylabel="density (log scale)", title="spectrum (SLQ)")
        if work.landscape is not None:
            slice_axes.plot(work.landscape.coefficients, work.landscape.loss, color="#b03020", marker=".")
        slice_axes.set(xlabel="t (x + t·v, v the top eigenvector)", ylabel="value",
                       title=f"along the top eigenvector (λ = {work.curvature.eigenvalues[-1]:.4g})")
        figure.suptitle(f"{_shorten(self.title)}\n{work.curvature.verdict}", fontsize=10)
        figure.tight_layout()
        return figure

    @cached_property
    def heatmap_png(self) -> bytes:
        """The picture as PNG bytes (what the display bundle embeds; named as the dense result's heatmap)."""
        buffer = io.BytesIO()
        self.figure().savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()

    def to_html(self, plot: bool = True) -> str:
        import base64

        image = ""
        if plot and self.plottable:
            encoded = base64.b64encode(self.heatmap_png).decode("ascii")
            image = f'<img alt="{html.escape(self.title)}" src="data:image/png;base64,{encoded}"/><br/>'
        return f'<div class="zygote-nb-result">{image}{SUMMARY_PRE}{html.escape(self.summary())}</pre></div>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.summary())


def _shorten(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"
