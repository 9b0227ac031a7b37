"""Curvature without the matrix: Hessian-vector products and what they answer at any size.

How sharp is this minimum, is this a saddle, how much negative curvature is
there, what does the spectrum look like, what does the loss look like along the
sharpest direction: all of these come from Hessian-vector products
(:func:`hvp`), each a few gradients, never forming ``H``.

- :func:`hessian_spectrum`: the extreme eigenvalues by Lanczos, with error bounds;
- :func:`hessian_trace`: the trace by Hutch++, with a standard error;
- :func:`hessian_density`: the eigenvalue density by stochastic Lanczos quadrature;
- :func:`loss_landscape`: the loss along the top eigenvectors or random directions.

>>> import numpy
>>> import zygote_nb as zn
>>> import zygote_nb.numpy as np
>>> f = lambda x: np.sum(x ** 2) - 3 * x[0] ** 2
>>> zn.hvp(f, numpy.zeros(3), numpy.ones(3))
array([-4.,  2.,  2.])
>>> zn.hessian_spectrum(f, numpy.zeros(3), k=1, seed=0).smallest
array([-4.])
"""

from .density import Density, hessian_density
from .hvp import hvp
from .landscape import Landscape, loss_landscape
from .spectrum import Ends, Spectrum, hessian_spectrum
from .trace import TraceEstimate, hessian_trace

__all__ = ["Density", "Ends", "Landscape", "Spectrum", "TraceEstimate", "hessian_density", "hessian_spectrum",
           "hessian_trace", "hvp", "loss_landscape"]
