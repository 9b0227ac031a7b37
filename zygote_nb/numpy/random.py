"""``numpy.random`` as autograd wraps it: draws are constants to differentiation.

>>> import zygote_nb.numpy as np
>>> np.random.default_rng(0).normal(size=3).shape
(3,)
"""

from autograd.numpy.random import *  # noqa: F403 (re-exported on purpose)
