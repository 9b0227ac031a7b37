"""Traceable ``numpy.fft``: autograd's wrappers, re-exported.

>>> import zygote_nb.numpy as np
>>> from autograd import grad
>>> grad(lambda x: np.sum(np.real(np.fft.fft(x))))(np.array([1.0, 2.0]))
array([2., 0.])
"""

from autograd.numpy.fft import *  # noqa: F403 (re-exported on purpose)
